import { afterEach, describe, expect, test } from "bun:test";
import { createServiceLogger } from "../../src/app.ts";
import { consoleTelemetry } from "../../src/telemetry/sdk.ts";
import { testConfig } from "../support/config.ts";
import { KongEmulator } from "../support/kong-emulator.ts";
import { OtlpReceiver } from "../support/otlp-receiver.ts";
import { answers, freePort, spawnService } from "../support/process.ts";
import { LogCapture } from "../support/stack.ts";
import { waitFor } from "../support/wait.ts";

const URL_PASSWORD = "otlp-url-password-3x7q";
const QUERY_TOKEN = "otlp-query-token-9k2m";
const HEADER_SECRET = "otlp-header-secret-5v8w";
const SIGNAL_HEADER_SECRET = "otlp-traces-header-secret-1c4d";
const SECRETS = [URL_PASSWORD, QUERY_TOKEN, HEADER_SECRET, SIGNAL_HEADER_SECRET];

const cleanups: (() => unknown)[] = [];
afterEach(async () => {
  for (const cleanup of cleanups.splice(0).reverse()) await cleanup();
});

describe("OTLP credentials are never shown", () => {
  test("a password and a query token in OTEL_EXPORTER_OTLP_ENDPOINT, and OTLP header secrets, appear in no response and no log line", async () => {
    const receiver = new OtlpReceiver();
    cleanups.push(() => receiver.stop());
    const emulator = KongEmulator.start({ adminToken: "credentials-test-admin-token-0123456789" });
    cleanups.push(() => emulator.stop());
    const port = await freePort();
    const collector = new URL(receiver.endpoint);
    const service = spawnService(port, emulator.adminUrl, {
      LOG_LEVEL: "debug",
      KONG_ADMIN_TOKEN: "credentials-test-admin-token-0123456789",
      TELEMETRY_MODE: "both",
      OTEL_EXPORTER_OTLP_ENDPOINT: `http://otlp-user:${URL_PASSWORD}@${collector.host}/?token=${QUERY_TOKEN}`,
      OTEL_EXPORTER_OTLP_HEADERS: `authorization=Bearer%20${HEADER_SECRET},x-tenant=acme`,
      OTEL_EXPORTER_OTLP_TRACES_HEADERS: `x-api-key=${SIGNAL_HEADER_SECRET}`,
      OTEL_METRIC_EXPORT_INTERVAL: "60000",
      // No balancer in front: stop at once after SIGTERM.
      SHUTDOWN_DRAIN_MS: "0",
    });
    cleanups.push(() => service.kill());
    const base = `http://127.0.0.1:${port}`;
    await waitFor(() => answers(`${base}/health/live`), "the service to listen", 15_000, service);

    // Something to export, then an export, so exporter results (and any error text) are on show too.
    const consumer = emulator.addConsumer({ username: "exported" });
    await fetch(`${base}/tokens`, {
      headers: { "x-consumer-id": consumer.id, "x-consumer-username": "exported" },
    });
    expect((await fetch(`${base}/debug/metrics/export`, { method: "POST" })).status).toBe(200);

    const shown: Record<string, string> = {};
    for (const path of [
      "/health",
      "/health/telemetry",
      "/health/metrics",
      "/metrics",
      "/debug/metrics/stats",
    ]) {
      shown[path] = await (await fetch(base + path)).text();
    }
    service.child.kill("SIGTERM");
    expect(await service.child.exited).toBe(0);
    await service.drained;

    const telemetry = JSON.parse(shown["/health/telemetry"] ?? "{}") as {
      endpoints?: Record<string, string>;
    };
    expect(telemetry.endpoints).toEqual({
      traces: `http://${collector.host}/v1/traces`,
      metrics: `http://${collector.host}/v1/metrics`,
      logs: `http://${collector.host}/v1/logs`,
    });
    expect(service.output.stdout).toContain('"message":"Listening on');
    const everything = { ...shown, stdout: service.output.stdout, stderr: service.output.stderr };
    for (const [where, text] of Object.entries(everything)) {
      for (const secret of SECRETS) expect(`${where}: ${text}`).not.toContain(secret);
      expect(`${where}: ${text}`).not.toContain("otlp-user");
    }
    // The exporters still send to the path under the base URL, query and headers included.
    const metrics = receiver.requests.find((request) => request.path === "/v1/metrics");
    expect(metrics?.headers.get("authorization")).toBe(`Bearer ${HEADER_SECRET}`);
  }, 30_000);

  test("the service's logger scrubs OTLP header values and URL credentials from every line", async () => {
    const config = testConfig({
      LOG_LEVEL: "info",
      TELEMETRY_MODE: "otlp",
      OTEL_EXPORTER_OTLP_ENDPOINT: `https://otlp-user:${URL_PASSWORD}@collector.example.com/?token=${QUERY_TOKEN}`,
      OTEL_EXPORTER_OTLP_HEADERS: `authorization=Bearer%20${HEADER_SECRET},x-tenant=acme`,
      OTEL_EXPORTER_OTLP_TRACES_HEADERS: `x-api-key=${SIGNAL_HEADER_SECRET}`,
      REDIS_URL: "redis://:redis-url-password-8h2j@redis.example.com:6379",
    });
    const capture = new LogCapture();
    const logger = createServiceLogger(config, consoleTelemetry(config.telemetry, config.app.environment), {
      stream: capture,
    });
    logger.error(`export failed: sent authorization Bearer ${HEADER_SECRET} and ${SIGNAL_HEADER_SECRET}`);
    logger.warn("collector said no", {
      err: new Error(`POST ${config.telemetry.endpoint} refused`),
      detail: `retrying https://someone:hunter2-password@collector.example.com/v1/logs?key=${QUERY_TOKEN}`,
    });
    logger.info("redis reconnecting", { target: "redis://:redis-url-password-8h2j@redis.example.com:6379" });
    await waitFor(() => capture.lines.length === 3, "three log lines", 5_000);
    logger.close();
    for (const secret of [...SECRETS, "hunter2-password", "redis-url-password-8h2j"]) {
      expect(capture.text).not.toContain(secret);
    }
    expect(capture.text).toContain("[REDACTED]");
  });
});
