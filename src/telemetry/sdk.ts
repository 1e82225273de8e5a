import type { Meter } from "@opentelemetry/api";
import type TransportStream from "winston-transport";
import type { Config } from "../config/index.ts";
import { ExportStats } from "./export-stats.ts";
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
  readonly stats: ExportStats;
  readonly endpoints: TelemetryEndpoints | undefined;
  readonly metricExportIntervalMs: number;
  /** Winston transports that ship log records over OTLP. */
  readonly logTransports: TransportStream[];
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
    stats: new ExportStats(),
    endpoints: undefined,
    metricExportIntervalMs: config.metricExportIntervalMs,
    logTransports: [],
    forceFlush: async () => {},
    shutdown: async () => {},
  };
}

/** Per-signal endpoints win over the base endpoint, to which the standard paths are appended. */
export function resolveEndpoints(config: Config["telemetry"]): TelemetryEndpoints | undefined {
  const base = config.endpoint?.replace(/\/+$/, "");
  const pick = (explicit: string | undefined, path: string) =>
    explicit ?? (base ? `${base}${path}` : undefined);
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
    sdkTrace,
    sdkMetrics,
    sdkLogs,
    resources,
    traceExp,
    metricExp,
    logExp,
    winstonOtel,
  ] = await Promise.all([
    import("@opentelemetry/api"),
    import("@opentelemetry/api-logs"),
    import("@opentelemetry/sdk-node"),
    import("@opentelemetry/sdk-trace"),
    import("@opentelemetry/sdk-metrics"),
    import("@opentelemetry/sdk-logs"),
    import("@opentelemetry/resources"),
    import("@opentelemetry/exporter-trace-otlp-http"),
    import("@opentelemetry/exporter-metrics-otlp-http"),
    import("@opentelemetry/exporter-logs-otlp-http"),
    import("@opentelemetry/winston-transport"),
  ]);

  const stats = new ExportStats();
  const timeoutMillis = config.exportTimeoutMs;
  const traceExporter = observe(
    new traceExp.OTLPTraceExporter({ url: endpoints.traces, timeoutMillis }),
    "traces",
  );
  const metricExporter = observe(
    new metricExp.OTLPMetricExporter({ url: endpoints.metrics, timeoutMillis }),
    "metrics",
  );
  const logExporter = observe(new logExp.OTLPLogExporter({ url: endpoints.logs, timeoutMillis }), "logs");
  // Counts each exporter's results for the health and debug endpoints, without changing what it does.
  function observe<E extends { export: (items: never, done: (result: ExportResult) => void) => void }>(
    exporter: E,
    signal: "traces" | "metrics" | "logs",
  ): E {
    const original = exporter.export.bind(exporter) as (
      items: unknown,
      done: (result: ExportResult) => void,
    ) => void;
    (exporter as { export: unknown }).export = (items: unknown, done: (result: ExportResult) => void) => {
      const started = performance.now();
      original(items, (result) => {
        const count = Array.isArray(items) ? items.length : countMetrics(items);
        stats.record(
          signal,
          result.code === 0,
          count,
          performance.now() - started,
          result.error?.message?.slice(0, 200),
        );
        if (result.code !== 0)
          onError(`OTLP ${signal} export failed: ${result.error?.message ?? "unknown error"}`);
        done(result);
      });
    };
    return exporter;
  }

  const batch = {
    maxExportBatchSize: config.maxExportBatchSize,
    maxQueueSize: config.maxQueueSize,
    exportTimeoutMillis: timeoutMillis,
  };
  const spanProcessor = new sdkTrace.BatchSpanProcessor({ exporter: traceExporter, ...batch });
  const logProcessor = new sdkLogs.BatchLogRecordProcessor({ exporter: logExporter, ...batch });
  const metricReader = new sdkMetrics.PeriodicExportingMetricReader({
    exporter: metricExporter,
    exportIntervalMillis: config.metricExportIntervalMs,
    exportTimeoutMillis: Math.min(timeoutMillis, config.metricExportIntervalMs),
  });

  const sdk = new sdkNode.NodeSDK({
    autoDetectResources: false,
    resource: resources.resourceFromAttributes({
      "service.name": config.serviceName,
      "service.version": config.serviceVersion,
      "service.instance.id": crypto.randomUUID(),
      "deployment.environment.name": environment,
    }),
    sampler: createSampler(sdkTrace, config),
    spanProcessors: [spanProcessor],
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
    tracing: createTracing(api.trace.getTracer("authentication-service", config.serviceVersion)),
    meter: api.metrics.getMeter("authentication-service", config.serviceVersion),
    stats,
    endpoints,
    metricExportIntervalMs: config.metricExportIntervalMs,
    logTransports: [new winstonOtel.OpenTelemetryTransportV3()],
    async forceFlush() {
      await Promise.all([spanProcessor.forceFlush(), metricReader.forceFlush(), logProcessor.forceFlush()]);
    },
    async shutdown(timeoutMs) {
      hostMetrics?.stop?.();
      await Promise.race([sdk.shutdown().catch(() => undefined), Bun.sleep(timeoutMs)]);
    },
  };
}

function createSampler(
  sdkTrace: typeof import("@opentelemetry/sdk-trace"),
  config: Config["telemetry"],
): import("@opentelemetry/sdk-trace").Sampler {
  const ratio = new sdkTrace.TraceIdRatioBasedSampler(config.samplerArg);
  switch (config.sampler) {
    case "always_on":
      return new sdkTrace.AlwaysOnSampler();
    case "always_off":
      return new sdkTrace.AlwaysOffSampler();
    case "traceidratio":
      return ratio;
    case "parentbased_always_off":
      return new sdkTrace.ParentBasedSampler({ root: new sdkTrace.AlwaysOffSampler() });
    case "parentbased_traceidratio":
      return new sdkTrace.ParentBasedSampler({ root: ratio });
    default:
      return new sdkTrace.ParentBasedSampler({ root: new sdkTrace.AlwaysOnSampler() });
  }
}

interface ExportResult {
  code: number;
  error?: Error;
}

function countMetrics(resourceMetrics: unknown): number {
  const scopes = (resourceMetrics as { scopeMetrics?: { metrics: unknown[] }[] }).scopeMetrics ?? [];
  return scopes.reduce((sum, scope) => sum + scope.metrics.length, 0);
}
