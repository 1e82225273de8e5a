import { type Meter, ValueType } from "@opentelemetry/api";
import type TransportStream from "winston-transport";
import type { Config } from "../config/index.ts";
import { telemetrySecretValues } from "../config/secrets.ts";
import { type ExportOutcome, ExportStats, observeExporter } from "./export-stats.ts";
import { FetchTransport } from "./fetch-transport.ts";
import type { HistogramExport, HistogramSnapshot } from "./metrics.ts";
import { createRedactor, publicUrl } from "./redact.ts";
import { EpochClock, encodeEnvelope, type SpanAttributes } from "./span-encoding.ts";
import { type SpanBatch, SpanBatcher, spanBatchSerializer } from "./span-export.ts";
import { createSampler } from "./trace-context.ts";
import { createTracing, disabledTracing, type Tracing } from "./tracing.ts";

export interface TelemetryEndpoints {
  readonly traces: string;
  readonly metrics: string;
  readonly logs: string;
}

/** Everything the rest of the service knows about OpenTelemetry. */
export interface Telemetry {
  readonly mode: Config["telemetry"]["mode"];
  readonly tracing: Tracing;
  /** Present only when metrics are exported. */
  readonly meter: Meter | undefined;
  /** Pre-aggregated histograms exported with the meter's metrics; present with it. */
  readonly histograms: HistogramExport | undefined;
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

export function consoleTelemetry(config: Config["telemetry"]): Telemetry {
  return {
    mode: "console",
    tracing: disabledTracing,
    meter: undefined,
    histograms: undefined,
    stats: new ExportStats(),
    endpoints: undefined,
    metricExportIntervalMs: config.metricExportIntervalMs,
    logTransports: [],
    droppedSpans: () => 0,
    forceFlush: async () => {},
    shutdown: async () => {},
  };
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

/**
 * Starts the OpenTelemetry SDK with OTLP/HTTP exporters for traces, metrics and logs (otlp and both
 * modes). The SDK is loaded only here, so console mode never pays for it. Host metrics start in the
 * background because their library takes a noticeable time to load.
 */
export async function startTelemetry(
  config: Config["telemetry"],
  environment: string,
  onError: (message: string) => void = () => {},
): Promise<Telemetry> {
  const endpoints = resolveEndpoints(config);
  if (config.mode === "console" || !endpoints) return consoleTelemetry(config);

  const [
    api,
    apiLogs,
    sdkNode,
    sdkMetrics,
    sdkLogs,
    core,
    resources,
    exporterBase,
    exporterHttp,
    transformer,
    metricExp,
    logExp,
    winstonOtel,
  ] = await Promise.all([
    import("@opentelemetry/api"),
    import("@opentelemetry/api-logs"),
    import("@opentelemetry/sdk-node"),
    import("@opentelemetry/sdk-metrics"),
    import("@opentelemetry/sdk-logs"),
    import("@opentelemetry/core"),
    import("@opentelemetry/resources"),
    import("@opentelemetry/otlp-exporter-base"),
    import("@opentelemetry/otlp-exporter-base/node-http"),
    import("@opentelemetry/otlp-transformer"),
    import("@opentelemetry/exporter-metrics-otlp-http"),
    import("@opentelemetry/exporter-logs-otlp-http"),
    import("@opentelemetry/winston-transport"),
  ]);

  const stats = new ExportStats();
  const timeoutMillis = config.exportTimeoutMs;
  // Exporters' error messages may quote a URL or a header; they are shown by /debug/metrics/stats.
  const { scrubString } = createRedactor(telemetrySecretValues(config));
  const record = (signal: "traces" | "metrics" | "logs") => (outcome: ExportOutcome) => {
    const error = outcome.error === undefined ? undefined : scrubString(outcome.error);
    stats.record(signal, outcome.ok, outcome.items, outcome.durationMs, error);
    if (!outcome.ok) onError(`OTLP ${signal} export failed: ${error ?? "unknown error"}`);
  };
  const metricExporter = observeExporter(
    new metricExp.OTLPMetricExporter({ url: endpoints.metrics, timeoutMillis }),
    record("metrics"),
  );
  const logExporter = observeExporter(
    new logExp.OTLPLogExporter({ url: endpoints.logs, timeoutMillis }),
    record("logs"),
  );
  const resourceAttributes = {
    "service.name": config.serviceName,
    "service.version": config.serviceVersion,
    "service.instance.id": crypto.randomUUID(),
    "deployment.environment.name": environment,
  };
  const resource = resources.defaultResource().merge(resources.resourceFromAttributes(resourceAttributes));
  const spanBatcher = startSpanExport(
    { exporterBase, exporterHttp, transformer },
    config,
    endpoints.traces,
    resource.attributes as SpanAttributes,
    record("traces"),
  );

  const batch = {
    maxExportBatchSize: config.maxExportBatchSize,
    maxQueueSize: config.maxQueueSize,
    exportTimeoutMillis: timeoutMillis,
  };
  const logProcessor = new sdkLogs.BatchLogRecordProcessor({ exporter: logExporter, ...batch });
  const histograms = histogramProducer(sdkMetrics, core, resource, {
    name: SCOPE_NAME,
    version: config.serviceVersion,
  });
  const metricReader = new sdkMetrics.PeriodicExportingMetricReader({
    exporter: metricExporter,
    metricProducers: [histograms.producer],
    exportIntervalMillis: config.metricExportIntervalMs,
    exportTimeoutMillis: Math.min(timeoutMillis, config.metricExportIntervalMs),
  });

  const sdk = new sdkNode.NodeSDK({
    autoDetectResources: false,
    resource,
    metricReaders: [metricReader],
    logRecordProcessors: [logProcessor],
    instrumentations: [],
  });
  sdk.start();
  // @opentelemetry/winston-transport still speaks the separate api-logs package; hand it the SDK's provider.
  apiLogs.logs.setGlobalLoggerProvider(api.logs.getLoggerProvider() as never);

  let hostMetrics: { stop?: () => void } | undefined;
  import("@opentelemetry/host-metrics")
    .then(({ HostMetrics }) => {
      const host = new HostMetrics({ meterProvider: api.metrics.getMeterProvider(), name: "host-metrics" });
      host.start();
      hostMetrics = host as never;
    })
    .catch((error: unknown) => onError(`host metrics unavailable: ${String(error)}`));

  return {
    mode: config.mode,
    tracing: createTracing(spanBatcher, createSampler(config.sampler, config.samplerArg)),
    meter: api.metrics.getMeter(SCOPE_NAME, config.serviceVersion),
    histograms: histograms.registry,
    stats,
    endpoints: {
      traces: publicUrl(endpoints.traces),
      metrics: publicUrl(endpoints.metrics),
      logs: publicUrl(endpoints.logs),
    },
    metricExportIntervalMs: config.metricExportIntervalMs,
    logTransports: [new winstonOtel.OpenTelemetryTransportV3()],
    droppedSpans: () => spanBatcher.dropped,
    async forceFlush() {
      await Promise.all([spanBatcher.forceFlush(), metricReader.forceFlush(), logProcessor.forceFlush()]);
    },
    async shutdown(timeoutMs) {
      hostMetrics?.stop?.();
      const stopped = Promise.all([
        spanBatcher.shutdown().catch(() => undefined),
        sdk.shutdown().catch(() => undefined),
      ]);
      await Promise.race([stopped, Bun.sleep(timeoutMs)]);
    },
  };
}

/** How long a partial span batch waits before it is sent: the SDK's OTEL_BSP_SCHEDULE_DELAY default. */
const SPAN_BATCH_DELAY_MS = 5_000;

/**
 * Trace export. Spans are recorded by the service's own tracer (src/telemetry/tracing.ts), batched
 * and encoded as OTLP protobuf (src/telemetry/span-export.ts), and sent through OpenTelemetry's OTLP
 * export delegate (a bounded number of concurrent exports, partial-success handling) over the
 * service's fetch transport (src/telemetry/fetch-transport.ts: kept-alive connection, the exporters'
 * retry policy). The SDK's tracer and serializer, and Node's http client under Bun, each cost more
 * per request than the rest of a cached GET /tokens (docs/testing.md, "Telemetry overhead").
 * OTEL_EXPORTER_OTLP_COMPRESSION does not apply to traces.
 */
function startSpanExport(
  otlp: {
    exporterBase: typeof import("@opentelemetry/otlp-exporter-base");
    exporterHttp: typeof import("@opentelemetry/otlp-exporter-base/node-http");
    transformer: typeof import("@opentelemetry/otlp-transformer");
  },
  config: Config["telemetry"],
  url: string,
  resourceAttributes: SpanAttributes,
  onResult: (outcome: ExportOutcome) => void,
): SpanBatcher {
  const envelope = encodeEnvelope(resourceAttributes, { name: SCOPE_NAME, version: config.serviceVersion });
  const serializer = spanBatchSerializer((data) =>
    otlp.transformer.ProtobufTraceSerializer.deserializeResponse(data),
  );
  const required = { "Content-Type": "application/x-protobuf" };
  // URL, timeout and headers (OTEL_EXPORTER_OTLP_HEADERS / _TRACES_HEADERS) resolved as the Node
  // exporters resolve them; the request itself is sent with fetch.
  const resolved = otlp.exporterHttp.convertLegacyHttpOptions(
    { url, timeoutMillis: config.exportTimeoutMs },
    "TRACES",
    "v1/traces",
    required,
  );
  const helper = { name: "span" as const, countItems: (batch: SpanBatch) => batch.count };
  const delegate = otlp.exporterBase.createOtlpNetworkExportDelegate(
    resolved,
    serializer,
    otlp.exporterHttp.createOtlpHttpExporterMetrics(
      "otlp_http_span_exporter",
      helper,
      resolved.url,
      undefined,
    ),
    new FetchTransport(resolved.url, resolved.headers),
  );
  const exporter = observeExporter(new otlp.exporterBase.OTLPExporterBase<SpanBatch>(delegate), onResult);
  return new SpanBatcher(exporter, envelope, new EpochClock(), {
    maxExportBatchSize: config.maxExportBatchSize,
    maxQueueSize: config.maxQueueSize,
    scheduledDelayMs: SPAN_BATCH_DELAY_MS,
  });
}

/** The instrumentation scope of the service's own spans and metrics. */
const SCOPE_NAME = "authentication-service";

/**
 * The SDK's MetricProducer hook for histograms aggregated in src/telemetry/metrics.ts: at each
 * collection their buckets become cumulative HISTOGRAM data next to the SDK's own metrics.
 */
function histogramProducer(
  sdkMetrics: typeof import("@opentelemetry/sdk-metrics"),
  { hrTime }: typeof import("@opentelemetry/core"),
  resource: import("@opentelemetry/resources").Resource,
  scope: { name: string; version: string },
) {
  const sources: (() => HistogramSnapshot)[] = [];
  const startTime = hrTime();
  const toMetricData = (
    snapshot: HistogramSnapshot,
    endTime: import("@opentelemetry/api").HrTime,
  ): import("@opentelemetry/sdk-metrics").MetricData => ({
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
  const producer: import("@opentelemetry/sdk-metrics").MetricProducer = {
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
