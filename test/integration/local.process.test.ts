import { afterEach, describe, expect, test } from "bun:test";
import { OtlpReceiver } from "../support/otlp-receiver.ts";
import { answers, freePort, spawnScript } from "../support/process.ts";
import { waitFor } from "../support/wait.ts";

const cleanups: (() => unknown)[] = [];
afterEach(async () => {
  for (const cleanup of cleanups.splice(0).reverse()) await cleanup();
});

describe("bun run local", () => {
  test("honours TELEMETRY_MODE=both: /health/telemetry says both, and spans reach the collector", async () => {
    const receiver = new OtlpReceiver();
    cleanups.push(() => receiver.stop());
    const [port, emulatorPort] = [await freePort(), await freePort()];
    const local = spawnScript("scripts/local.ts", {
      PORT: String(port),
      KONG_EMULATOR_PORT: String(emulatorPort),
      LOG_LEVEL: "warn",
      TELEMETRY_MODE: "both",
      OTEL_EXPORTER_OTLP_ENDPOINT: receiver.endpoint,
      OTEL_METRIC_EXPORT_INTERVAL: "60000",
    });
    cleanups.push(() => local.kill());
    const base = `http://127.0.0.1:${port}`;
    await waitFor(() => answers(`${base}/health/live`), "bun run local to listen", 15_000, local);

    const telemetry = (await (await fetch(`${base}/health/telemetry`)).json()) as {
      mode: string;
      endpoints?: { traces: string };
    };
    expect(telemetry.mode).toBe("both");
    expect(telemetry.endpoints?.traces).toBe(`${receiver.endpoint}/v1/traces`);

    expect((await fetch(`${base}/debug/metrics/export`, { method: "POST" })).status).toBe(200);
    expect(receiver.spans.some((span) => span.attributes["http.route"] === "/health/telemetry")).toBe(true);

    local.child.kill("SIGTERM");
    expect(await local.child.exited).toBe(0);
  }, 30_000);
});
