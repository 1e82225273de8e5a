import type { MetricsHealth, MetricsOverview, TelemetryHealth } from "../api/schemas.ts";
import type { MemoryCredentialCache } from "../cache/memory.ts";
import type { KongBreaker } from "../resilience/breaker.ts";
import type { ServiceMetrics } from "../telemetry/metrics.ts";
import { EXPOSITION_CONTENT_TYPES, type ExpositionFormat } from "../telemetry/prometheus.ts";
import type { Telemetry } from "../telemetry/sdk.ts";
import { exporterState, SIGNALS, telemetryFailing } from "../telemetry/status.ts";
import type { RedisStatus } from "./health.ts";
import { json } from "./json.ts";

export interface MetricsDeps {
  readonly metrics: ServiceMetrics;
  readonly memory: MemoryCredentialCache;
  readonly breaker: KongBreaker;
  readonly telemetry: Telemetry;
  readonly redisStatus: () => RedisStatus;
}

/** Rounded to `digits` decimals; 0 when there is nothing to divide by. */
const ratio = (part: number, whole: number, digits: number) =>
  whole > 0 ? Number((part / whole).toFixed(digits)) : 0;

/** The body of GET /metrics: totals since start. */
function overviewOf({ metrics, memory, breaker, redisStatus }: MetricsDeps): MetricsOverview {
  const { totals } = metrics;
  const uptime = metrics.uptimeSeconds();
  const cache = memory.stats();
  const tokens = metrics.tokenCounts();
  return {
    uptime: Math.round(uptime),
    requests: {
      total: totals.requests,
      success: totals.requests - totals.requestErrors,
      errors: totals.requestErrors,
      rate: ratio(totals.requests, uptime, 2),
    },
    tokens: {
      generated: totals.tokensGenerated,
      failed: totals.tokensFailed,
      generatedByAlgorithm: tokens.byAlgorithm,
      failedByReason: tokens.byReason,
      averageTime: ratio(totals.tokenSeconds * 1000, totals.tokensGenerated, 3),
    },
    cache: {
      hits: cache.hits,
      misses: cache.misses,
      hitRate: ratio(cache.hits, cache.hits + cache.misses, 4),
      size: cache.size,
      ttl: cache.ttlMs,
      staleFallbacks: totals.staleFallbacks,
      redis: redisStatus(),
    },
    circuitBreaker: breaker.stats(),
    kong: { operations: { ...totals.kongOperations } },
    memory: process.memoryUsage(),
  };
}

/** GET /metrics, /health/metrics and /health/telemetry: what the service has done. */
export function createMetricsHandlers(deps: MetricsDeps) {
  const { metrics, memory, telemetry } = deps;
  const overview = (): Response => json(overviewOf(deps));

  function metricsHealth(): Response {
    const last = telemetry.stats.lastOf("metrics");
    const failing = exporterState(telemetry, "metrics") === "failing";
    const cache = memory.stats();
    const kong = metrics.totals.kongOperations;
    const body: MetricsHealth = {
      status: failing ? "degraded" : "healthy",
      // OTLP export; the Prometheus exposition exists in every mode.
      metricsEnabled: telemetry.endpoints !== undefined,
      exportInterval: telemetry.metricExportIntervalMs,
      lastExport: last?.at ?? null,
      counters: {
        http_requests_total: metrics.totals.requests,
        jwt_tokens_generated: metrics.totals.tokensGenerated,
        kong_operations: kong.success + kong.failure + kong.rejected,
        cache_hits: cache.hits,
        cache_misses: cache.misses,
      },
    };
    return json(body);
  }

  function telemetryHealth(): Response {
    const exporters = {} as TelemetryHealth["exporters"];
    const lastExports = {} as TelemetryHealth["lastExports"];
    for (const signal of SIGNALS) {
      exporters[signal] = exporterState(telemetry, signal);
      lastExports[signal] = telemetry.stats.lastOf(signal) ?? null;
    }
    const body: TelemetryHealth = {
      status: telemetryFailing(telemetry) ? "degraded" : "healthy",
      mode: telemetry.mode,
      ...(telemetry.endpoints ? { endpoints: telemetry.endpoints } : {}),
      exporters,
      lastExports,
      droppedSpans: telemetry.droppedSpans(),
    };
    return json(body);
  }

  /** GET /metrics for Prometheus: what the meter holds now, in the format Accept chose. */
  async function exposition(format: ExpositionFormat): Promise<Response> {
    const body = await telemetry.exposition.render(format);
    return new Response(body, { headers: { "content-type": EXPOSITION_CONTENT_TYPES[format] } });
  }

  return { overview, exposition, metricsHealth, telemetryHealth };
}
