import type { MetricProducer, MetricReader } from "@opentelemetry/sdk-metrics";
import { withPrometheusNames } from "./prometheus-names.ts";

export type ExpositionFormat = "prometheus" | "openmetrics";

/** The Content-Type of each exposition format. */
export const EXPOSITION_CONTENT_TYPES: Readonly<Record<ExpositionFormat, string>> = {
  prometheus: "text/plain; version=0.0.4; charset=utf-8",
  openmetrics: "application/openmetrics-text; version=1.0.0; charset=utf-8",
};

/** What GET /metrics answers Prometheus with: the metrics recorded so far, as of now. */
export interface PrometheusExposition {
  render(format: ExpositionFormat): Promise<string>;
}

/**
 * The serializer writes the 0.0.4 text format. OpenMetrics 1.0 differs in two points for what it
 * writes: a counter's family (its HELP, TYPE and UNIT lines) is named without the `_total` its
 * samples carry, and the exposition ends with `# EOF`. Its only other comment is dropped too, since
 * OpenMetrics allows no free comments.
 */
export function toOpenMetrics(text: string): string {
  const counters = new Set<string>();
  // Stryker disable next-line Regex: the serializer ends every TYPE line with the type; nothing follows it.
  for (const match of text.matchAll(/^# TYPE (\S+)_total counter$/gm)) counters.add(match[1] as string);
  const lines = text.split("\n").flatMap((line) => {
    const metadata = /^# (HELP|TYPE|UNIT) (\S+)_total( .*)?$/.exec(line);
    if (metadata && counters.has(metadata[2] as string))
      return [`# ${metadata[1]} ${metadata[2]}${metadata[3] ?? ""}`];
    if (line === "" || (line.startsWith("#") && !/^# (HELP|TYPE|UNIT) /.test(line))) return [];
    return [line];
  });
  return `${[...lines, "# EOF"].join("\n")}\n`;
}

type SdkMetrics = typeof import("@opentelemetry/sdk-metrics");

/**
 * A pull reader as @opentelemetry/exporter-prometheus's exporter is one (default aggregation,
 * cumulative), without its HTTP server: GET /metrics serves what it collects. Made from the SDK module
 * given, which is loaded only when metrics are first needed (src/telemetry/console-telemetry.ts).
 */
function pullReader(sdk: SdkMetrics, producers: MetricProducer[]): MetricReader {
  class PullReader extends sdk.MetricReader {
    protected override async onForceFlush(): Promise<void> {}

    protected override async onShutdown(): Promise<void> {}
  }
  return new PullReader({
    aggregationSelector: () => ({ type: sdk.AggregationType.DEFAULT }),
    aggregationTemporalitySelector: () => sdk.AggregationTemporality.CUMULATIVE,
    metricProducers: producers,
  });
}

/**
 * A pull reader for the service's MeterProvider and the rendering of what it collects. `producers`
 * add metrics aggregated outside the SDK (src/telemetry/histogram-producer.ts). The exporter package
 * (and node:http with it, about 25 ms of start-up) is loaded at the first scrape, for its serializer.
 */
export function createPrometheusReader(
  sdk: SdkMetrics,
  producers: MetricProducer[],
): {
  reader: MetricReader;
  exposition: PrometheusExposition;
} {
  const reader = pullReader(sdk, producers);
  let serializer: import("@opentelemetry/exporter-prometheus").PrometheusSerializer | undefined;
  return {
    reader,
    exposition: {
      async render(format) {
        const { resourceMetrics } = await reader.collect();
        // An import(), not a require(): the executable's build (scripts/build.ts) then keeps the
        // exporter, and the SDK modules it imports, in a chunk of their own instead of start-up's.
        serializer ??= new (await import("@opentelemetry/exporter-prometheus")).PrometheusSerializer();
        const text = serializer.serialize(withPrometheusNames(resourceMetrics, sdk.DataPointType));
        return format === "openmetrics" ? toOpenMetrics(text) : text;
      },
    },
  };
}
