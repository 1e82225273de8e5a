/**
 * The stack the Playwright suites run against when no API_BASE_URL is given: the service on a
 * real Bun.serve in front of the Kong Admin API emulator seeded with the standard test consumers,
 * plus a control server on another port through which tests (running under Node) drive the
 * emulator. Prints one line `E2E_STACK_READY {json}` when everything listens, and exits when its
 * standard input closes (the Playwright runner went away) or on SIGTERM.
 *
 * Control endpoints (127.0.0.1 only):
 *   POST /__control/kong-down?how=reset|503|hang   every Admin API call fails that way
 *   POST /__control/kong-up                        faults cleared
 *   POST /__control/consumers {username}           a new consumer (no credential yet)
 *   GET  /__control/calls?path=<substring>&method=  Admin API calls recorded since the last reset
 *   POST /__control/calls/reset
 */
import { createApp } from "../src/app.ts";
import { loadConfig } from "../src/config/index.ts";
import { shutdown, startServer } from "../src/server.ts";
import { ANONYMOUS_CONSUMER, TEST_CONSUMERS } from "../test/shared/test-consumers.ts";
import { KongEmulator } from "../test/support/kong-emulator.ts";

const emulator = KongEmulator.start({ mode: "API_GATEWAY" });
for (const consumer of [...TEST_CONSUMERS, ANONYMOUS_CONSUMER]) {
  emulator.addConsumer({ id: consumer.id, username: consumer.username, custom_id: consumer.custom_id });
}

const config = loadConfig({
  NODE_ENV: "development",
  LOG_LEVEL: "error",
  HOST: "127.0.0.1",
  PORT: "0",
  KONG_MODE: emulator.mode,
  KONG_ADMIN_URL: emulator.adminUrl,
  KONG_JWT_AUTHORITY: "https://sts.e2e.example.com/",
  KONG_JWT_AUDIENCE: "http://api.e2e.example.com/",
  // Short enough for the outage suite to see Kong come back within a test.
  CIRCUIT_BREAKER_RESET_TIMEOUT: "1000",
  KONG_CONNECTION_TIMEOUT: "300",
  SHUTDOWN_TIMEOUT_MS: "1000",
  // No balancer sends here: nothing to wait for.
  SHUTDOWN_DRAIN_MS: "0",
});
const app = createApp(config);
const server = startServer(app);

const json = (body: unknown, status = 200) => Response.json(body, { status });

const control = Bun.serve({
  hostname: "127.0.0.1",
  port: 0,
  development: false,
  routes: {
    "/__control/kong-down": {
      POST: (request) => {
        const how = new URL(request.url).searchParams.get("how") ?? "reset";
        emulator.clearFaults();
        if (how === "503") emulator.inject({ status: 503, body: { message: "Service unavailable" } });
        else if (how === "hang") emulator.inject({ hang: true });
        else if (how === "reset") emulator.inject({ reset: true });
        else return json({ error: `unknown how=${how}` }, 400);
        return json({ kong: "down", how });
      },
    },
    "/__control/kong-up": {
      POST: () => {
        emulator.clearFaults();
        return json({ kong: "up" });
      },
    },
    "/__control/consumers": {
      POST: async (request) => {
        const { username } = (await request.json()) as { username?: unknown };
        if (typeof username !== "string" || username === "") return json({ error: "username required" }, 400);
        return json(emulator.addConsumer({ username }), 201);
      },
    },
    "/__control/calls": {
      GET: (request) => {
        const params = new URL(request.url).searchParams;
        const filter = {
          ...(params.get("path") ? { pathIncludes: params.get("path") as string } : {}),
          ...(params.get("method") ? { method: params.get("method") as string } : {}),
        };
        return json({ count: emulator.countCalls(filter) });
      },
    },
    "/__control/calls/reset": {
      POST: () => {
        emulator.resetCalls();
        return json({ count: 0 });
      },
    },
  },
  fetch: () => json({ error: "no such control endpoint" }, 404),
});

console.log(
  `E2E_STACK_READY ${JSON.stringify({
    baseUrl: `http://127.0.0.1:${server.port}`,
    controlUrl: `http://127.0.0.1:${control.port}/__control`,
    kongAdminUrl: emulator.adminUrl,
    kongMode: emulator.mode,
  })}`,
);

let stopping = false;
async function stopAll(reason: string) {
  if (stopping) return;
  stopping = true;
  emulator.clearFaults();
  await control.stop(true);
  await shutdown(app, server, reason);
  await emulator.stop();
  process.exit(0);
}

process.on("SIGTERM", () => void stopAll("SIGTERM"));
process.on("SIGINT", () => void stopAll("SIGINT"));
process.stdin.on("end", () => void stopAll("stdin closed"));
process.stdin.on("close", () => void stopAll("stdin closed"));
process.stdin.resume();
