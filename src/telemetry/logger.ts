import { ecsFormat } from "@elastic/ecs-winston-format";
import { ROOT_CONTEXT, TraceFlags, trace } from "@opentelemetry/api";
import winston from "winston";
import { createRedactor } from "./redact.ts";

export interface LoggerOptions {
  readonly level: string;
  readonly serviceName: string;
  readonly serviceVersion: string;
  readonly environment: string;
  /** Values to scrub from every line (admin token and other secrets). */
  readonly secrets: readonly (string | undefined)[];
  /** Extra transports (OTLP export) added by telemetry. */
  readonly transports?: winston.transport[];
  /** Console output on or off (off in `otlp` telemetry mode). */
  readonly console?: boolean;
  /** Where console lines go; a stream in tests, stdout otherwise. */
  readonly stream?: NodeJS.WritableStream;
  /** The active trace and span, stamped on each line as ECS trace.id / span.id. */
  readonly traceIds?: (() => { traceId: string; spanId: string; sampled: boolean } | undefined) | undefined;
}

export type Logger = winston.Logger;

/** Where @opentelemetry/winston-transport looks for a log record's context. */
const OTEL_LOG_CONTEXT = Symbol.for("opentelemetry.js.contrib.winston.context");

/** ECS-formatted JSON lines, secrets scrubbed before any transport sees them. */
export function createLogger(options: LoggerOptions): Logger {
  const redactor = createRedactor(options.secrets);
  const redact = winston.format((info) => {
    const scrubbed = redactor.scrub({ ...info }) as winston.Logform.TransformableInfo;
    for (const key of Object.keys(scrubbed)) (info as Record<string, unknown>)[key] = scrubbed[key];
    return info;
  });

  const traceIds = options.traceIds;
  const correlate = winston.format((info) => {
    const ids = traceIds?.();
    if (!ids) return info;
    Object.assign(info, { "trace.id": ids.traceId, "span.id": ids.spanId });
    // The OTLP log transport takes a record's trace from this context (the active span is the
    // service's own, not the OpenTelemetry API's).
    (info as unknown as Record<symbol, unknown>)[OTEL_LOG_CONTEXT] = trace.setSpanContext(ROOT_CONTEXT, {
      traceId: ids.traceId,
      spanId: ids.spanId,
      traceFlags: ids.sampled ? TraceFlags.SAMPLED : TraceFlags.NONE,
      isRemote: false,
    });
    return info;
  });

  const transports: winston.transport[] = [...(options.transports ?? [])];
  if (options.console !== false) {
    transports.push(
      options.stream
        ? new winston.transports.Stream({ stream: options.stream })
        : new winston.transports.Console(),
    );
  }

  return winston.createLogger({
    level: options.level,
    format: winston.format.combine(
      correlate(),
      redact(),
      ecsFormat({
        apmIntegration: false,
        serviceName: options.serviceName,
        serviceVersion: options.serviceVersion,
        serviceEnvironment: options.environment,
      }),
    ),
    transports,
  });
}
