import type { Signal } from "./export-stats.ts";
import type { Telemetry } from "./sdk.ts";

export const SIGNALS: readonly Signal[] = ["traces", "metrics", "logs"];

export type ExporterState = "active" | "failing" | "disabled";

/**
 * An exporter is failing while its last export failed (the exporter has already retried what it
 * could), and disabled when telemetry stays in the process (console mode).
 */
export function exporterState(
  telemetry: Pick<Telemetry, "endpoints" | "stats">,
  signal: Signal,
): ExporterState {
  if (!telemetry.endpoints) return "disabled";
  return telemetry.stats.lastOf(signal)?.ok === false ? "failing" : "active";
}

/** Telemetry is failing when any exporter is: /health and /health/telemetry then say degraded. */
export function telemetryFailing(telemetry: Pick<Telemetry, "endpoints" | "stats">): boolean {
  return SIGNALS.some((signal) => exporterState(telemetry, signal) === "failing");
}
