import type { DataPointType, MetricData, ResourceMetrics } from "@opentelemetry/sdk-metrics";

/** The SDK's enum, given by the caller: this file loads nothing of the SDK (src/telemetry/prometheus.ts). */
type DataPointTypes = typeof DataPointType;

/**
 * OpenTelemetry units as Prometheus spells them in metric names (the OpenTelemetry specification's
 * "Prometheus and OpenMetrics compatibility"). The serializer keeps names as they are, so
 * `cache_tier_latency` in seconds would reach Prometheus without its unit.
 */
const UNIT_WORDS: Readonly<Record<string, string>> = { s: "seconds", ms: "milliseconds", By: "bytes" };

/** The unit word a metric's name ends with in Prometheus, or none. */
function unitWord(metric: MetricData, types: DataPointTypes): string | undefined {
  const { unit } = metric.descriptor;
  // A ratio is only a ratio for a gauge; a counter of "1" counts things.
  if (unit === "1") return metric.dataPointType === types.GAUGE ? "ratio" : undefined;
  return UNIT_WORDS[unit];
}

function renamed(metric: MetricData, types: DataPointTypes): MetricData {
  const word = unitWord(metric, types);
  const base = metric.descriptor.name.replace(/[^a-zA-Z0-9_]/g, "_");
  const name = word === undefined || base.endsWith(`_${word}`) ? base : `${base}_${word}`;
  // Units Prometheus has no word for ({packets}, …) are dropped: OpenMetrics requires a unit to be
  // the name's suffix.
  return { ...metric, descriptor: { ...metric.descriptor, name, unit: word ?? "" } } as MetricData;
}

/** The collected metrics with Prometheus names: unit suffixes, and `_` for every other character. */
export function withPrometheusNames(collected: ResourceMetrics, types: DataPointTypes): ResourceMetrics {
  return {
    ...collected,
    scopeMetrics: collected.scopeMetrics.map((scope) => ({
      ...scope,
      metrics: scope.metrics.map((metric) => renamed(metric, types)),
    })),
  };
}
