import { z } from "zod";
import pkg from "../../../package.json" with { type: "json" };
import { type Problem, type Rule, setting } from "../setting.ts";
import { httpsOnly, httpUrl, int, percentDecoded, splitList, text } from "../values.ts";

/** Logs, traces and metrics: where they go and how much of them. */

/**
 * OTEL_EXPORTER_OTLP_*HEADERS as the exporters read them (key=value pairs, comma-separated, values
 * percent-encoded). Never refused: the exporters read the variable themselves; the service keeps the
 * values only to scrub them from logs.
 */
const otlpHeaders = z.string().transform((value) => {
  const headers: Record<string, string> = {};
  for (const pair of splitList(value)) {
    const split = pair.indexOf("=");
    if (split <= 0) continue;
    const raw = pair.slice(split + 1).trim();
    headers[pair.slice(0, split).trim()] = percentDecoded(raw);
  }
  return headers;
});

const headersRow = (env: string, description: string) =>
  setting({ env, schema: otlpHeaders.optional(), secret: true, description });

/** Console output sends nothing anywhere, whatever the endpoints say. */
const exportedOverHttps: Rule<string | undefined> = (url, config): Problem =>
  config.telemetry.mode === "console" ? undefined : httpsOnly(url);

/** A per-signal endpoint: needed when telemetry is exported and no base endpoint is set. */
const signalEndpointRow = (env: string, signal: string) =>
  setting({
    env,
    schema: httpUrl.optional(),
    description: `Full OTLP/HTTP ${signal} URL (overrides the base endpoint)`,
    rules: [
      (url, config): Problem =>
        config.telemetry.mode !== "console" && !config.telemetry.endpoint && !url
          ? `is needed in TELEMETRY_MODE=${config.telemetry.mode} (or set OTEL_EXPORTER_OTLP_ENDPOINT)`
          : undefined,
    ],
    production: [exportedOverHttps],
  });

export const telemetry = {
  mode: setting({
    env: "TELEMETRY_MODE",
    schema: z.enum(["console", "otlp", "both"]).prefault("console"),
    description:
      "console: ECS logs to stdout only; otlp: export traces, metrics and logs; both. GET /metrics serves Prometheus in every mode",
  }),
  serviceName: setting({
    env: "OTEL_SERVICE_NAME",
    schema: text(255).prefault("authentication-service"),
    description: "service.name resource attribute",
    production: [
      (name): Problem =>
        /localhost|test/i.test(name) ? "must not mention localhost or test in production" : undefined,
    ],
  }),
  serviceVersion: setting({
    env: "OTEL_SERVICE_VERSION",
    schema: text(64).prefault(pkg.version),
    description: "service.version resource attribute (defaults to the package version)",
    production: [
      (version): Problem =>
        /^(dev|latest)$/i.test(version)
          ? "must be a real version, not dev or latest, in production"
          : undefined,
    ],
  }),
  endpoint: setting({
    env: "OTEL_EXPORTER_OTLP_ENDPOINT",
    schema: httpUrl.optional(),
    description: "OTLP/HTTP base URL; /v1/traces, /v1/metrics and /v1/logs are appended",
    production: [exportedOverHttps],
  }),
  tracesEndpoint: signalEndpointRow("OTEL_EXPORTER_OTLP_TRACES_ENDPOINT", "traces"),
  metricsEndpoint: signalEndpointRow("OTEL_EXPORTER_OTLP_METRICS_ENDPOINT", "metrics"),
  logsEndpoint: signalEndpointRow("OTEL_EXPORTER_OTLP_LOGS_ENDPOINT", "logs"),
  headers: headersRow(
    "OTEL_EXPORTER_OTLP_HEADERS",
    "Headers sent with every OTLP export (key=value,key2=value2, values percent-encoded); read by the exporters",
  ),
  tracesHeaders: headersRow(
    "OTEL_EXPORTER_OTLP_TRACES_HEADERS",
    "Headers sent with trace exports only, added to OTEL_EXPORTER_OTLP_HEADERS",
  ),
  metricsHeaders: headersRow(
    "OTEL_EXPORTER_OTLP_METRICS_HEADERS",
    "Headers sent with metric exports only, added to OTEL_EXPORTER_OTLP_HEADERS",
  ),
  logsHeaders: headersRow(
    "OTEL_EXPORTER_OTLP_LOGS_HEADERS",
    "Headers sent with log exports only, added to OTEL_EXPORTER_OTLP_HEADERS",
  ),
  exportTimeoutMs: setting({
    env: "OTEL_EXPORTER_OTLP_TIMEOUT",
    schema: int(1_000, 60_000).prefault(10_000),
    description: "Timeout of one OTLP export in milliseconds",
  }),
  maxExportBatchSize: setting({
    env: "OTEL_BSP_MAX_EXPORT_BATCH_SIZE",
    schema: int(1, 5_000).prefault(512),
    description: "Most spans or log records in one export",
    rules: [
      (batch, config): Problem =>
        batch > config.telemetry.maxQueueSize ? "must not exceed OTEL_BSP_MAX_QUEUE_SIZE" : undefined,
    ],
  }),
  maxQueueSize: setting({
    env: "OTEL_BSP_MAX_QUEUE_SIZE",
    schema: int(1, 50_000).prefault(2048),
    description: "Most spans or log records waiting for export; beyond it they are dropped",
  }),
  metricExportIntervalMs: setting({
    env: "OTEL_METRIC_EXPORT_INTERVAL",
    schema: int(100, 3_600_000).prefault(10_000),
    description: "Milliseconds between metric exports",
  }),
  sampler: setting({
    env: "OTEL_TRACES_SAMPLER",
    schema: z
      .enum([
        "always_on",
        "always_off",
        "traceidratio",
        "parentbased_always_on",
        "parentbased_always_off",
        "parentbased_traceidratio",
      ])
      .prefault("parentbased_always_on"),
    description: "Standard OpenTelemetry sampler name",
  }),
  samplerArg: setting({
    env: "OTEL_TRACES_SAMPLER_ARG",
    schema: z.coerce.number({ error: "must be a number" }).min(0).max(1).prefault(1),
    description: "Ratio for the traceidratio samplers (0-1)",
  }),
};
