import type { MeterProvider } from "@opentelemetry/sdk-metrics";
import type { Config } from "../config/index.ts";
import { DeferredMeter } from "./deferred-meter.ts";
import { ExportStats } from "./export-stats.ts";
import type { PrometheusExposition } from "./prometheus.ts";
import { loadMetricsModules, SCOPE_NAME, scrapedMetrics, serviceResource } from "./scraped-metrics.ts";
import type { Telemetry } from "./sdk.ts";
import type { HistogramExport, HistogramSnapshot } from "./tally.ts";
import { disabledTracing } from "./tracing.ts";

interface LoadedMetrics {
  readonly provider: MeterProvider;
  readonly exposition: PrometheusExposition;
}

/**
 * Console mode: nothing leaves the process but log lines and what Prometheus scrapes, so the meter
 * has one reader, GET /metrics's. The metrics SDK (with OpenTelemetry's core and resources, about
 * 20 ms of start-up and several MiB) is not needed to serve a request, so it is loaded at the first
 * scrape, or once the meter holds HELD_RECORDS_BEFORE_LOAD records; until then the meter holds what
 * it is given (src/telemetry/deferred-meter.ts) and hands every record over when the SDK is there.
 */
export function consoleTelemetry(config: Config["telemetry"], environment: string): Telemetry {
  const sources: (() => HistogramSnapshot)[] = [];
  let sdkHistograms: HistogramExport | undefined;
  let loaded: Promise<LoadedMetrics> | undefined;
  const load = () => {
    loaded ??= loadMetricsModules().then((modules) => {
      const resource = serviceResource(modules.resources, config, environment);
      const { histograms, reader, exposition } = scrapedMetrics(modules, config, resource);
      sdkHistograms = histograms.registry;
      for (const source of sources) sdkHistograms.register(source);
      const provider = new modules.sdkMetrics.MeterProvider({ resource, readers: [reader] });
      meter.attach(provider.getMeter(SCOPE_NAME, config.serviceVersion));
      return { provider, exposition };
    });
    return loaded;
  };
  const meter = new DeferredMeter(() => void load());
  return {
    mode: "console",
    tracing: disabledTracing,
    meter,
    histograms: {
      register(source) {
        sources.push(source);
        sdkHistograms?.register(source);
      },
    },
    exposition: { render: async (format) => (await load()).exposition.render(format) },
    stats: new ExportStats(),
    endpoints: undefined,
    metricExportIntervalMs: config.metricExportIntervalMs,
    logTransports: [],
    droppedSpans: () => 0,
    forceFlush: async () => {},
    async shutdown(timeoutMs) {
      if (!loaded) return;
      const stopped = loaded.then(({ provider }) => provider.shutdown()).catch(() => undefined);
      await Promise.race([stopped, Bun.sleep(timeoutMs)]);
    },
  };
}
