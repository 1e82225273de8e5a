import type { Config } from "../config/index.ts";
import { type ExportOutcome, observeExporter } from "./export-stats.ts";
import { FetchTransport } from "./fetch-transport.ts";
import { EpochClock, encodeEnvelope, type SpanAttributes } from "./span-encoding.ts";
import { type SpanBatch, SpanBatcher, spanBatchSerializer } from "./span-export.ts";

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
export function startSpanExport(
  otlp: {
    exporterBase: typeof import("@opentelemetry/otlp-exporter-base");
    exporterHttp: typeof import("@opentelemetry/otlp-exporter-base/node-http");
    transformer: typeof import("@opentelemetry/otlp-transformer");
  },
  config: Config["telemetry"],
  url: string,
  resourceAttributes: SpanAttributes,
  scope: { name: string; version: string },
  onResult: (outcome: ExportOutcome) => void,
): SpanBatcher {
  const envelope = encodeEnvelope(resourceAttributes, scope);
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
