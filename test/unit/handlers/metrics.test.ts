import { describe, expect, test } from "bun:test";
import type { MemoryCredentialCache } from "../../../src/cache/memory.ts";
import { createMetricsHandlers, type MetricsDeps } from "../../../src/handlers/metrics.ts";
import type { KongBreaker } from "../../../src/resilience/breaker.ts";
import { ServiceMetrics } from "../../../src/telemetry/metrics.ts";
import { EXPOSITION_CONTENT_TYPES } from "../../../src/telemetry/prometheus.ts";
import { consoleTelemetry, type Telemetry } from "../../../src/telemetry/sdk.ts";
import { testConfig } from "../../support/config.ts";

/** GET /metrics (JSON and the text formats), /health/metrics and /health/telemetry over known counts. */
function setup(telemetryChanges: Partial<Telemetry> = {}) {
  const config = testConfig();
  const telemetry = { ...consoleTelemetry(config.telemetry, config.app.environment), ...telemetryChanges };
  const metrics = new ServiceMetrics();
  const deps: MetricsDeps = {
    metrics,
    memory: {
      stats: () => ({ size: 2, hits: 3, misses: 1, ttlMs: 300_000 }),
    } as unknown as MemoryCredentialCache,
    breaker: { stats: () => ({ state: "closed" }) } as unknown as KongBreaker,
    telemetry,
    redisStatus: () => "ready",
  };
  return { metrics, telemetry, handlers: createMetricsHandlers(deps) };
}

const OTLP = {
  mode: "otlp" as const,
  endpoints: {
    traces: "https://collector.example/v1/traces",
    metrics: "https://collector.example/v1/metrics",
    logs: "https://collector.example/v1/logs",
  },
};

describe("GET /metrics as JSON", () => {
  test("requests: success is the total less the 5xx", async () => {
    const { metrics, handlers } = setup();
    metrics.request("GET", "/tokens", 200, 0.001);
    metrics.request("GET", "/tokens", 200, 0.001);
    metrics.request("GET", "/tokens", 401, 0.001);
    metrics.request("GET", "/tokens", 503, 0.001);
    const body = (await handlers.overview().json()) as {
      requests: { total: number; success: number; errors: number };
    };
    expect(body.requests).toMatchObject({ total: 4, success: 3, errors: 1 });
  });
});

describe("GET /metrics in the text formats", () => {
  test.each(["prometheus", "openmetrics"] as const)("%s: its own content type", async (format) => {
    const { handlers } = setup();
    const answer = await handlers.exposition(format);
    expect(answer.headers.get("content-type")).toBe(EXPOSITION_CONTENT_TYPES[format]);
  });
});

describe("/health/metrics", () => {
  test("counts every Kong call, whatever its outcome", async () => {
    const { metrics, handlers } = setup();
    metrics.kongOperation("GET consumer", "success");
    metrics.kongOperation("GET consumer", "success");
    metrics.kongOperation("GET consumer", "timeout");
    metrics.kongOperation("GET consumer", "rejected");
    const body = (await handlers.metricsHealth().json()) as { counters: { kong_operations: number } };
    expect(body.counters.kong_operations).toBe(4);
  });

  test("degraded while the metrics export fails; another signal failing does not count", async () => {
    const { telemetry, handlers } = setup(OTLP);
    const status = async () => ((await handlers.metricsHealth().json()) as { status: string }).status;
    expect(await status()).toBe("healthy");
    telemetry.stats.record("logs", false, 1, 5, "refused");
    expect(await status()).toBe("healthy");
    telemetry.stats.record("metrics", false, 1, 5, "refused");
    expect(await status()).toBe("degraded");
  });
});

describe("/health/telemetry", () => {
  test("degraded while any signal's export fails", async () => {
    const { telemetry, handlers } = setup(OTLP);
    const status = async () => ((await handlers.telemetryHealth().json()) as { status: string }).status;
    expect(await status()).toBe("healthy");
    telemetry.stats.record("traces", false, 1, 5, "refused");
    expect(await status()).toBe("degraded");
  });
});
