/**
 * The OpenTelemetry packages telemetry starts, loaded only when it leaves the process
 * (src/telemetry/sdk.ts), so console mode never pays for them.
 */
export async function loadOpenTelemetry() {
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
  const otlp = { exporterBase, exporterHttp, transformer };
  return {
    api,
    apiLogs,
    sdkNode,
    sdkMetrics,
    sdkLogs,
    core,
    resources,
    otlp,
    metricExp,
    logExp,
    winstonOtel,
  };
}
export type OpenTelemetry = Awaited<ReturnType<typeof loadOpenTelemetry>>;
