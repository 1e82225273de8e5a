import { ROOT_CONTEXT, TraceFlags, trace } from "@opentelemetry/api";
import type winston from "winston";
import type TransportStream from "winston-transport";
import { createRedactor } from "./redact.ts";

export interface LoggerOptions {
  readonly level: string;
  readonly serviceName: string;
  readonly serviceVersion: string;
  readonly environment: string;
  /** Values to scrub from every line (admin token and other secrets). */
  readonly secrets: readonly (string | undefined)[];
  /** Extra transports (OTLP export) added by telemetry. */
  readonly transports?: TransportStream[];
  /** Console output on or off (off in `otlp` telemetry mode). */
  readonly console?: boolean;
  /** Where console lines go; a stream in tests, stdout otherwise. */
  readonly stream?: NodeJS.WritableStream;
  /** The active trace and span, stamped on each line as ECS trace.id / span.id. */
  readonly traceIds?: (() => { traceId: string; spanId: string; sampled: boolean } | undefined) | undefined;
}

/** What the service logs through: winston's methods it uses, and nothing that needs winston loaded. */
export interface Logger {
  log(level: string, message: string, meta?: object): void;
  error(message: string, meta?: object): void;
  warn(message: string, meta?: object): void;
  info(message: string, meta?: object): void;
  debug(message: string, meta?: object): void;
  isLevelEnabled(level: string): boolean;
  close(): void;
}

/** winston's default (npm) levels: a line is written when its level is at most the configured one. */
const LEVELS: Readonly<Record<string, number>> = {
  error: 0,
  warn: 1,
  info: 2,
  http: 3,
  verbose: 4,
  debug: 5,
  silly: 6,
};

/**
 * The logger: levels are decided here, and winston (with its formats and transports, about 30 ms
 * and 14 MiB of start-up) is loaded on the first line that is written, not before. A service whose
 * level drops everything it has said so far (LOG_LEVEL=warn, the start-up line is info) starts without
 * it. The first line then pays for the load, once.
 */
export function createLogger(options: LoggerOptions): Logger {
  const threshold = LEVELS[options.level] ?? LEVELS.info;
  let loaded: winston.Logger | undefined;
  const writer = () => {
    loaded ??= createWinstonLogger(options);
    return loaded;
  };
  const isLevelEnabled = (level: string) =>
    (LEVELS[level] ?? Number.POSITIVE_INFINITY) <= (threshold as number);
  const log = (level: string, message: string, meta?: object) => {
    if (!isLevelEnabled(level)) return;
    // As winston's own level methods call it: without a meta object, no empty splat.
    if (meta === undefined) writer().log(level, message);
    else writer().log(level, message, meta);
  };
  return {
    log,
    error: (message, meta) => log("error", message, meta),
    warn: (message, meta) => log("warn", message, meta),
    info: (message, meta) => log("info", message, meta),
    debug: (message, meta) => log("debug", message, meta),
    isLevelEnabled,
    close: () => loaded?.close(),
  };
}

/** Where @opentelemetry/winston-transport looks for a log record's context. */
const OTEL_LOG_CONTEXT = Symbol.for("opentelemetry.js.contrib.winston.context");

/** ECS-formatted JSON lines, secrets scrubbed before any transport sees them. */
function createWinstonLogger(options: LoggerOptions): winston.Logger {
  const winston = require("winston") as typeof import("winston");
  const { ecsFormat } =
    require("@elastic/ecs-winston-format") as typeof import("@elastic/ecs-winston-format");
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
