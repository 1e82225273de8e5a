import type {
  MetricsExportResponse,
  MetricsStatsResponse,
  MetricsTestBody,
  MetricsTestResponse,
} from "../api/schemas.ts";
import { problem } from "../http/problem.ts";
import { TestMetrics } from "../telemetry/debug-metrics.ts";
import type { Telemetry } from "../telemetry/sdk.ts";
import { json } from "./json.ts";

/** Debug endpoints for telemetry, mounted only outside production. */
export function createDebugHandlers(telemetry: Telemetry) {
  const testMetrics = new TestMetrics(telemetry.meter);
  /** The body arrives validated by its route (src/api/debug-routes.ts). */
  function test({ count, type }: MetricsTestBody): Response {
    const values = testMetrics.record(count, type);
    const answer: MetricsTestResponse = {
      success: true,
      exported: telemetry.endpoints !== undefined,
      metrics: {
        counters: ["test_counter"],
        histograms: ["test_histogram"],
        values: { counter: count, histogram: values },
      },
    };
    return json(answer);
  }

  return { test, exportNow: () => exportNow(telemetry), stats: () => stats(telemetry) };
}

/** Flushes every OTLP exporter now and says what left. */
async function exportNow(telemetry: Telemetry): Promise<Response> {
  if (!telemetry.endpoints) {
    return problem(409, {
      type: "telemetry-disabled",
      detail: "TELEMETRY_MODE is console: there is nothing to export.",
    });
  }
  const before = {
    metrics: telemetry.stats.totalsOf("metrics"),
    traces: telemetry.stats.totalsOf("traces"),
  };
  const started = performance.now();
  await telemetry.forceFlush();
  const after = {
    metrics: telemetry.stats.totalsOf("metrics"),
    traces: telemetry.stats.totalsOf("traces"),
  };
  const failed = after.metrics.failed - before.metrics.failed;
  const answer: MetricsExportResponse = {
    success: failed === 0,
    exported: {
      metrics: after.metrics.items - before.metrics.items,
      spans: after.traces.items - before.traces.items,
      timestamp: new Date().toISOString(),
      duration: Math.round(performance.now() - started),
    },
  };
  return json(answer);
}

/** The metric exports since start. */
function stats(telemetry: Telemetry): Response {
  const totals = telemetry.stats.totalsOf("metrics");
  const total = totals.ok + totals.failed;
  const last = telemetry.stats.lastOf("metrics");
  const answer: MetricsStatsResponse = {
    mode: telemetry.mode,
    exports: {
      total,
      successful: totals.ok,
      failed: totals.failed,
      successRate: total > 0 ? Number((totals.ok / total).toFixed(4)) : null,
    },
    lastExport: last
      ? { timestamp: last.at, metrics: last.items, duration: last.durationMs, success: last.ok }
      : null,
    errors: telemetry.stats.recentErrors().map(({ at, signal, error }) => ({ timestamp: at, signal, error })),
  };
  return json(answer);
}
