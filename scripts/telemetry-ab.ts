/**
 * `bun run bench:telemetry`: what OTLP telemetry adds to the request path of a cached GET /tokens,
 * measured in one process so that the machine's noise hits both sides alike. Two apps are built from
 * the same configuration, one with console telemetry and one with the OpenTelemetry SDK exporting to a
 * sink in a child process; their route handlers are called directly (no HTTP server, no wrk), in
 * alternating chunks, and the medians per request are compared.
 *
 * It leaves out what Bun.serve itself costs per request, so its ratio is higher than the one
 * `bun run bench` reports; use it to compare changes to the telemetry path, not as the target figure.
 * Env: OTEL_TRACES_SAMPLER / OTEL_TRACES_SAMPLER_ARG (default always_on), AB_ROUNDS (default 16).
 */
import { KongEmulator } from "../test/support/kong-emulator.ts";

const sink = Bun.spawn(
  [
    process.execPath,
    "-e",
    `const s = Bun.serve({ hostname: "127.0.0.1", port: 0, async fetch(r) { await r.arrayBuffer();
       return Response.json({}); } }); console.log(s.port);`,
  ],
  { stdout: "pipe", stderr: "inherit" },
);
async function firstLine(stream: ReadableStream<Uint8Array>): Promise<string> {
  const reader = stream.getReader();
  let text = "";
  while (!text.includes("\n")) {
    const { value, done } = await reader.read();
    if (done) break;
    text += new TextDecoder().decode(value);
  }
  reader.releaseLock();
  return text.trim();
}
const sinkPort = Number((await firstLine(sink.stdout)) || Number.NaN);
if (!Number.isFinite(sinkPort)) throw new Error("the OTLP sink did not start");

const emulator = KongEmulator.start({ adminToken: "ab-admin-token" });
const consumer = emulator.addConsumer({ username: "ab-hot" });
emulator.addCredential(consumer.id);

Object.assign(process.env, {
  NODE_ENV: "development",
  LOG_LEVEL: "warn",
  KONG_MODE: "API_GATEWAY",
  KONG_ADMIN_URL: emulator.adminUrl,
  KONG_ADMIN_TOKEN: "ab-admin-token",
  KONG_JWT_AUTHORITY: "https://sts.example.com/",
  KONG_JWT_AUDIENCE: "https://api.example.com/",
  RATE_LIMIT_MAX_REQUESTS: "1000000",
  TELEMETRY_MODE: "otlp",
  OTEL_EXPORTER_OTLP_ENDPOINT: `http://127.0.0.1:${sinkPort}`,
  OTEL_SERVICE_VERSION: "1.0.0-ab",
  OTEL_TRACES_SAMPLER: process.env.OTEL_TRACES_SAMPLER ?? "always_on",
});
const { loadConfig } = await import("../src/config/index.ts");
const { startTelemetry, consoleTelemetry } = await import("../src/telemetry/sdk.ts");
const { createApp, createServiceLogger } = await import("../src/app.ts");

const config = loadConfig();
const telemetry = await startTelemetry(config.telemetry, config.app.environment);
const apps = {
  console: createApp(config, { telemetry: consoleTelemetry(config.telemetry, config.app.environment) }),
  otlp: createApp(config, { telemetry, logger: createServiceLogger(config, telemetry) }),
};
type RouteHandler = (request: Request, server: unknown) => Response | Promise<Response>;
const handlerOf = (app: (typeof apps)["console"]) =>
  (app.routes["/tokens"] as unknown as { GET: RouteHandler }).GET;
const handlers = { console: handlerOf(apps.console), otlp: handlerOf(apps.otlp) };
const server = { requestIP: () => ({ address: "127.0.0.1", family: "IPv4", port: 0 }) };
const headers = { "x-consumer-id": consumer.id, "x-consumer-username": "ab-hot" };

async function run(handler: RouteHandler, requests: number): Promise<void> {
  for (let i = 0; i < requests; i++) {
    const result = handler(new Request("http://127.0.0.1:3000/tokens", { headers }), server);
    const response = result instanceof Promise ? await result : result;
    if (response.status !== 200) throw new Error(`GET /tokens answered ${response.status}`);
    // Let timers and I/O run (batch exports, metric collection), as a server's event loop would.
    if (i % 50 === 0) await new Promise((resolve) => setImmediate(resolve));
  }
}

const CHUNK = 5_000;
const rounds = Number(process.env.AB_ROUNDS ?? 16);
await run(handlers.console, 20_000);
await run(handlers.otlp, 20_000);
const micros: Record<keyof typeof handlers, number[]> = { console: [], otlp: [] };
for (let round = 0; round < rounds; round++) {
  for (const side of ["console", "otlp"] as const) {
    const started = performance.now();
    await run(handlers[side], CHUNK);
    micros[side].push(((performance.now() - started) * 1000) / CHUNK);
  }
}
const median = (values: number[]) =>
  [...values].sort((a, b) => a - b)[Math.floor(values.length / 2)] as number;
const consoleUs = median(micros.console);
const otlpUs = median(micros.otlp);
const paired = median(micros.console.map((value, i) => value / (micros.otlp[i] as number)));
console.log(
  `sampler ${process.env.OTEL_TRACES_SAMPLER}: console ${consoleUs.toFixed(2)} µs/request, ` +
    `otlp ${otlpUs.toFixed(2)} µs/request (+${(otlpUs - consoleUs).toFixed(2)}), ` +
    `paired console/otlp ${paired.toFixed(3)} over ${rounds} rounds of ${CHUNK}`,
);

await telemetry.shutdown(2_000);
await emulator.stop();
sink.kill();
process.exit(0);
