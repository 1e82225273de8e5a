import type { Meter } from "@opentelemetry/api";
import type { Resource } from "@opentelemetry/resources";
import type TransportStream from "winston-transport";
import type { Config } from "../config/index.ts";
import { telemetrySecretValues } from "../config/secrets.ts";
import { consoleTelemetry } from "./console-telemetry.ts";
import { type ExportOutcome, ExportStats, observeExporter } from "./export-stats.ts";
import { loadOpenTelemetry, type OpenTelemetry } from "./otel-modules.ts";
import { HOST_METRIC_GROUPS } from "./process-metrics.ts";
import type { PrometheusExposition } from "./prometheus.ts";
import { createRedactor, publicUrl } from "./redact.ts";
import { SCOPE_NAME, scrapedMetrics, serviceResource } from "./scraped-metrics.ts";
import type { SpanAttributes } from "./span-encoding.ts";
import type { HistogramExport } from "./tally.ts";
import { createSampler } from "./trace-context.ts";
import { startSpanExport } from "./trace-export.ts";
import { createTracing, type Tracing } from "./tracing.ts";

export { consoleTelemetry };

export interface TelemetryEndpoints {
  readonly traces: string;
  readonly metrics: string;
  readonly logs: string;
}

/** Everything the rest of the service knows about OpenTelemetry. */
export interface Telemetry {
  readonly mode: Config["telemetry"]["mode"];
  readonly tracing: Tracing;
  /** The service's meter: scraped at GET /metrics in every mode, and exported over OTLP in otlp/both. */
  readonly meter: Meter | undefined;
  /** Pre-aggregated histograms exported with the meter's metrics; present with it. */
  readonly histograms: HistogramExport | undefined;
  /** The meter's metrics in the Prometheus and OpenMetrics text formats. */
  readonly exposition: PrometheusExposition;
  readonly stats: ExportStats;
  /** Where each signal goes, as it may be shown: without user, password or query (publicUrl). */
  readonly endpoints: TelemetryEndpoints | undefined;
  readonly metricExportIntervalMs: number;
  /** Winston transports that ship log records over OTLP. */
  readonly logTransports: TransportStream[];
  /** Spans dropped because the export queue was full (OTEL_BSP_MAX_QUEUE_SIZE). */
  readonly droppedSpans: () => number;
  /** Exports whatever is buffered now (POST /debug/metrics/export, tests). */
  forceFlush(): Promise<void>;
  /** Flushes and stops every exporter, giving up after `timeoutMs`. */
  shutdown(timeoutMs: number): Promise<void>;
}

/**
 * Per-signal endpoints win over the base endpoint, to whose path the standard paths are appended
 * (before any query, which may carry the collector's token).
 */
function resolveEndpoints(config: Config["telemetry"]): TelemetryEndpoints | undefined {
  const base = config.endpoint;
  const under = (path: string) => {
    if (!base) return undefined;
    const url = new URL(base);
    url.pathname = `${url.pathname.replace(/\/+$/, "")}${path}`;
    return url.href;
  };
  const pick = (explicit: string | undefined, path: string) => explicit ?? under(path);
  const traces = pick(config.tracesEndpoint, "/v1/traces");
  const metrics = pick(config.metricsEndpoint, "/v1/metrics");
  const logs = pick(config.logsEndpoint, "/v1/logs");
  return traces && metrics && logs ? { traces, metrics, logs } : undefined;
}

/** Records each export's outcome; exporters' error messages may quote a URL or a header. */
function exportRecorder(config: Config["telemetry"], stats: ExportStats, onError: (message: string) => void) {
  const { scrubString } = createRedactor(telemetrySecretValues(config));
  return (signal: "traces" | "metrics" | "logs") => (outcome: ExportOutcome) => {
    const error = outcome.error === undefined ? undefined : scrubString(outcome.error);
    stats.record(signal, outcome.ok, outcome.items, outcome.durationMs, error);
    if (!outcome.ok) onError(`OTLP ${signal} export failed: ${error ?? "unknown error"}`);
  };
}

/** Metrics and logs through the SDK's periodic reader and batch processor, over OTLP/HTTP JSON. */
function metricAndLogPipelines(
  otel: OpenTelemetry,
  config: Config["telemetry"],
  endpoints: TelemetryEndpoints,
  resource: Resource,
  record: ReturnType<typeof exportRecorder>,
) {
  const timeoutMillis = config.exportTimeoutMs;
  const metricExporter = observeExporter(
    new otel.metricExp.OTLPMetricExporter({ url: endpoints.metrics, timeoutMillis }),
    record("metrics"),
  );
  const logExporter = observeExporter(
    new otel.logExp.OTLPLogExporter({ url: endpoints.logs, timeoutMillis }),
    record("logs"),
  );
  const logProcessor = new otel.sdkLogs.BatchLogRecordProcessor({
    exporter: logExporter,
    maxExportBatchSize: config.maxExportBatchSize,
    maxQueueSize: config.maxQueueSize,
    exportTimeoutMillis: timeoutMillis,
  });
  const scraped = scrapedMetrics(otel, config, resource);
  const metricReader = new otel.sdkMetrics.PeriodicExportingMetricReader({
    exporter: metricExporter,
    metricProducers: [scraped.histograms.producer],
    exportIntervalMillis: config.metricExportIntervalMs,
    exportTimeoutMillis: Math.min(timeoutMillis, config.metricExportIntervalMs),
  });
  return { logProcessor, metricReader, scraped };
}

/** Host metrics load in the background: their library takes a noticeable time to load. */
function startHostMetrics(otel: OpenTelemetry, onError: (message: string) => void) {
  let host: { stop?: () => void } | undefined;
  import("@opentelemetry/host-metrics")
    .then(({ HostMetrics }) => {
      const meterProvider = otel.api.metrics.getMeterProvider();
      const started = new HostMetrics({
        meterProvider,
        name: "host-metrics",
        metricGroups: HOST_METRIC_GROUPS,
      });
      started.start();
      host = started as never;
    })
    .catch((error: unknown) => onError(`host metrics unavailable: ${String(error)}`));
  return { stop: () => host?.stop?.() };
}

/**
 * The service's tracer becomes the API's tracer provider and context manager; the SDK (metrics,
 * logs) is given no span processor, so it builds no trace pipeline of its own from the environment.
 */
function registerWithApi(
  otel: OpenTelemetry,
  resource: Resource,
  tracing: ReturnType<typeof createTracing>,
  pipelines: ReturnType<typeof metricAndLogPipelines>,
) {
  const sdk = new otel.sdkNode.NodeSDK({
    autoDetectResources: false,
    resource,
    // OTLP pushes every interval; GET /metrics collects through its own reader whenever scraped.
    metricReaders: [pipelines.metricReader, pipelines.scraped.reader],
    logRecordProcessors: [pipelines.logProcessor],
    spanProcessors: [],
    contextManager: tracing.contextManager,
    instrumentations: [],
  });
  sdk.start();
  otel.api.trace.setGlobalTracerProvider(tracing.provider);
  // @opentelemetry/winston-transport still speaks the separate api-logs package; hand it the SDK's provider.
  otel.apiLogs.logs.setGlobalLoggerProvider(otel.api.logs.getLoggerProvider() as never);
  return sdk;
}

/** Flushing and stopping every pipeline; a stop gives up after its timeout. */
function lifecycle(parts: {
  spanBatcher: { forceFlush(): Promise<void>; shutdown(): Promise<void> };
  metricReader: { forceFlush(): Promise<void> };
  logProcessor: { forceFlush(): Promise<void> };
  sdk: { shutdown(): Promise<void> };
  hostMetrics: { stop(): void };
}): Pick<Telemetry, "forceFlush" | "shutdown"> {
  const { spanBatcher, metricReader, logProcessor, sdk, hostMetrics } = parts;
  return {
    async forceFlush() {
      await Promise.all([spanBatcher.forceFlush(), metricReader.forceFlush(), logProcessor.forceFlush()]);
    },
    async shutdown(timeoutMs) {
      hostMetrics.stop();
      const stopped = Promise.all([
        spanBatcher.shutdown().catch(() => undefined),
        sdk.shutdown().catch(() => undefined),
      ]);
      await Promise.race([stopped, Bun.sleep(timeoutMs)]);
    },
  };
}

/**
 * Starts OpenTelemetry for the otlp and both modes: the service's tracer, registered as the API's
 * (registerWithApi), and the SDK for metrics and logs.
 */
export async function startTelemetry(
  config: Config["telemetry"],
  environment: string,
  onError: (message: string) => void = () => {},
): Promise<Telemetry> {
  const endpoints = resolveEndpoints(config);
  if (config.mode === "console" || !endpoints) return consoleTelemetry(config, environment);
  const otel = await loadOpenTelemetry();
  const stats = new ExportStats();
  const record = exportRecorder(config, stats, onError);
  const resource = serviceResource(otel.resources, config, environment);
  const scope = { name: SCOPE_NAME, version: config.serviceVersion };
  const spanBatcher = startSpanExport(
    otel.otlp,
    config,
    endpoints.traces,
    resource.attributes as SpanAttributes,
    scope,
    record("traces"),
  );
  const tracing = createTracing(spanBatcher, createSampler(config.sampler, config.samplerArg));
  const pipelines = metricAndLogPipelines(otel, config, endpoints, resource, record);
  const { logProcessor, metricReader, scraped } = pipelines;
  const sdk = registerWithApi(otel, resource, tracing, pipelines);
  const hostMetrics = startHostMetrics(otel, onError);

  return {
    mode: config.mode,
    tracing,
    meter: otel.api.metrics.getMeter(SCOPE_NAME, config.serviceVersion),
    histograms: scraped.histograms.registry,
    exposition: scraped.exposition,
    stats,
    endpoints: {
      traces: publicUrl(endpoints.traces),
      metrics: publicUrl(endpoints.metrics),
      logs: publicUrl(endpoints.logs),
    },
    metricExportIntervalMs: config.metricExportIntervalMs,
    logTransports: [new otel.winstonOtel.OpenTelemetryTransportV3()],
    droppedSpans: () => spanBatcher.dropped,
    ...lifecycle({ spanBatcher, metricReader, logProcessor, sdk, hostMetrics }),
  };
}
