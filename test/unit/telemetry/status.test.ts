import { describe, expect, test } from "bun:test";
import { ExportStats } from "../../../src/telemetry/export-stats.ts";
import { exporterState, telemetryFailing } from "../../../src/telemetry/status.ts";

const endpoints = { traces: "http://c/v1/traces", metrics: "http://c/v1/metrics", logs: "http://c/v1/logs" };

describe("telemetry status (/health, /health/telemetry, /health/metrics)", () => {
  test("console mode: every exporter disabled, never failing", () => {
    const telemetry = { endpoints: undefined, stats: new ExportStats() };
    expect(exporterState(telemetry, "traces")).toBe("disabled");
    expect(telemetryFailing(telemetry)).toBe(false);
  });

  test("an exporter fails while its last export failed, and recovers with the next success", () => {
    const telemetry = { endpoints, stats: new ExportStats() };
    expect(exporterState(telemetry, "logs")).toBe("active");
    expect(telemetryFailing(telemetry)).toBe(false);
    telemetry.stats.record("logs", false, 3, 10, "refused");
    expect(exporterState(telemetry, "logs")).toBe("failing");
    expect(exporterState(telemetry, "traces")).toBe("active");
    expect(telemetryFailing(telemetry)).toBe(true);
    telemetry.stats.record("logs", true, 3, 10);
    expect(telemetryFailing(telemetry)).toBe(false);
  });
});
