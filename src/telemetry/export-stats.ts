export type Signal = "traces" | "metrics" | "logs";

interface ExportRecord {
  readonly at: string;
  readonly items: number;
  readonly durationMs: number;
}

const MAX_RECENT_ERRORS = 10;

/**
 * What each OTLP exporter has done: totals, the last export, the last few errors. Feeds
 * /health/telemetry, /health/metrics and /debug/metrics/stats.
 */
export class ExportStats {
  private readonly totals: Record<Signal, { ok: number; failed: number; items: number }> = {
    traces: { ok: 0, failed: 0, items: 0 },
    metrics: { ok: 0, failed: 0, items: 0 },
    logs: { ok: 0, failed: 0, items: 0 },
  };
  private readonly last: Partial<Record<Signal, ExportRecord & { ok: boolean }>> = {};
  private readonly errors: { at: string; signal: Signal; error: string }[] = [];

  record(signal: Signal, ok: boolean, items: number, durationMs: number, error?: string): void {
    const totals = this.totals[signal];
    if (ok) totals.ok++;
    else totals.failed++;
    totals.items += items;
    const at = new Date().toISOString();
    this.last[signal] = { at, items, durationMs: Math.round(durationMs), ok };
    if (!ok) {
      this.errors.push({ at, signal, error: error ?? "export failed" });
      if (this.errors.length > MAX_RECENT_ERRORS) this.errors.shift();
    }
  }

  totalsOf(signal: Signal) {
    return { ...this.totals[signal] };
  }

  lastOf(signal: Signal) {
    return this.last[signal];
  }

  recentErrors() {
    return [...this.errors];
  }
}

export interface ExportResult {
  code: number;
  error?: Error;
}

export interface ExportOutcome {
  readonly ok: boolean;
  readonly items: number;
  readonly durationMs: number;
  readonly error?: string;
}

/** Reports each of an exporter's results to `onResult`, without changing what the exporter does. */
export function observeExporter<
  E extends { export: (items: never, done: (result: ExportResult) => void) => void },
>(exporter: E, onResult: (outcome: ExportOutcome) => void): E {
  const original = exporter.export.bind(exporter) as (
    items: unknown,
    done: (result: ExportResult) => void,
  ) => void;
  (exporter as { export: unknown }).export = (items: unknown, done: (result: ExportResult) => void) => {
    const started = performance.now();
    original(items, (result) => {
      onResult({
        ok: result.code === 0,
        items: Array.isArray(items) ? items.length : countItems(items),
        durationMs: performance.now() - started,
        error: result.code === 0 ? undefined : (result.error?.message ?? "unknown error").slice(0, 200),
      });
      done(result);
    });
  };
  return exporter;
}

/** A span batch says how many spans it holds; a metrics export counts its metrics. */
function countItems(items: unknown): number {
  const count = (items as { count?: unknown }).count;
  if (typeof count === "number") return count;
  const scopes = (items as { scopeMetrics?: { metrics: unknown[] }[] }).scopeMetrics ?? [];
  return scopes.reduce((sum, scope) => sum + scope.metrics.length, 0);
}
