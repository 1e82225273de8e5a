import { type HrTime, ValueType } from "@opentelemetry/api";
import type { Resource } from "@opentelemetry/resources";
import type { MetricData, MetricProducer } from "@opentelemetry/sdk-metrics";
import type { HistogramExport, HistogramSnapshot } from "./tally.ts";

/**
 * The SDK's MetricProducer hook for histograms aggregated in src/telemetry/metrics.ts: at each
 * collection their buckets become cumulative HISTOGRAM data next to the SDK's own metrics.
 */
export function histogramProducer(
  sdkMetrics: typeof import("@opentelemetry/sdk-metrics"),
  { hrTime }: typeof import("@opentelemetry/core"),
  resource: Resource,
  scope: { name: string; version: string },
) {
  const sources: (() => HistogramSnapshot)[] = [];
  const startTime = hrTime();
  const toMetricData = (snapshot: HistogramSnapshot, endTime: HrTime): MetricData => ({
    descriptor: {
      name: snapshot.name,
      description: snapshot.description,
      unit: snapshot.unit,
      valueType: ValueType.DOUBLE,
    },
    aggregationTemporality: sdkMetrics.AggregationTemporality.CUMULATIVE,
    dataPointType: sdkMetrics.DataPointType.HISTOGRAM,
    dataPoints: snapshot.series.map((series) => ({
      attributes: series.attributes,
      startTime,
      endTime,
      value: {
        buckets: { boundaries: [...snapshot.boundaries], counts: [...series.counts] },
        sum: series.sum,
        count: series.count,
        min: series.min,
        max: series.max,
      },
    })),
  });
  const producer: MetricProducer = {
    async collect() {
      const endTime = hrTime();
      const metrics = sources
        .map((source) => source())
        .filter((snapshot) => snapshot.series.length > 0)
        .map((snapshot) => toMetricData(snapshot, endTime));
      return {
        resourceMetrics: { resource, scopeMetrics: metrics.length > 0 ? [{ scope, metrics }] : [] },
        errors: [],
      };
    },
  };
  const registry: HistogramExport = { register: (source) => sources.push(source) };
  return { producer, registry };
}
