/**
 * `bun run local`: the service on http://localhost:$PORT (default 3000) in front of an in-process Kong
 * Admin API emulator seeded with the standard test consumers. Prints a curl that gets a token.
 * Needs nothing but Bun; set KONG_MODE=KONNECT to emulate Konnect instead. Telemetry follows
 * TELEMETRY_MODE as in `bun start`.
 */
import { createAppWithTelemetry } from "../src/app.ts";
import { ConfigError, loadConfig } from "../src/config/index.ts";
import { shutdown, startServer } from "../src/server.ts";
import { ANONYMOUS_CONSUMER, TEST_CONSUMERS } from "../test/shared/test-consumers.ts";
import { KongEmulator, type KongMode } from "../test/support/kong-emulator.ts";

const mode = (process.env.KONG_MODE === "KONNECT" ? "KONNECT" : "API_GATEWAY") satisfies KongMode;
const emulator = KongEmulator.start({ mode, port: Number(process.env.KONG_EMULATOR_PORT ?? 8001) });
for (const consumer of [...TEST_CONSUMERS, ANONYMOUS_CONSUMER]) {
  emulator.addConsumer({ id: consumer.id, username: consumer.username, custom_id: consumer.custom_id });
}

let config: ReturnType<typeof loadConfig>;
try {
  config = loadConfig({
    NODE_ENV: "development",
    KONG_JWT_AUTHORITY: "https://sts.local.example.com/",
    KONG_JWT_AUDIENCE: "http://api.local.example.com/",
    // No balancer sends here: Ctrl-C stops at once.
    SHUTDOWN_DRAIN_MS: "0",
    ...process.env,
    KONG_MODE: mode,
    KONG_ADMIN_URL: emulator.adminUrl,
    KONG_ADMIN_TOKEN: emulator.adminToken,
  });
} catch (error) {
  await emulator.stop();
  if (!(error instanceof ConfigError)) throw error;
  console.error(error.message);
  process.exit(1);
}

const app = await createAppWithTelemetry(config);
const server = startServer(app);
app.start();
const [first] = TEST_CONSUMERS;
const base = `http://localhost:${server.port}`;
console.log(`
Kong ${mode} emulator: ${emulator.adminUrl}
Auth service:          ${base}   (OpenAPI at ${base}/, health at ${base}/health)
Test consumers:        ${TEST_CONSUMERS.map((consumer) => consumer.username).join(", ")}

Get a token (these are the headers Kong's key-auth adds after checking an apikey):

  curl -s ${base}/tokens -H 'X-Consumer-ID: ${first?.id}' -H 'X-Consumer-Username: ${first?.username}'
`);

for (const signal of ["SIGINT", "SIGTERM"] as const) {
  process.on(signal, async () => {
    await shutdown(app, server, signal);
    await emulator.stop();
    process.exit(0);
  });
}
