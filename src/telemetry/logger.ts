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
  readonly traceIds?: (() => TraceIds | undefined) | undefined;
  /**
   * Lines wait for `release()`, at most this many milliseconds, then are written in order with the
   * time and trace they were logged with (the service at start-up: see `createLogger`). Without it,
   * a line is written when it is logged.
   */
  readonly holdMs?: number;
  /** The clock of held lines' timestamps; Date.now unless a test sets it. */
  readonly now?: () => number;
}

interface TraceIds {
  readonly traceId: string;
  readonly spanId: string;
  readonly sampled: boolean;
}

/** A line logged while lines are held, with what winston would otherwise read when writing it. */
interface HeldLine {
  readonly level: string;
  readonly message: string;
  readonly meta: object | undefined;
  readonly at: number;
  readonly ids: TraceIds | undefined;
}

/** What the service logs through: winston's methods it uses, and nothing that needs winston loaded. */
export interface Logger {
  log(level: string, message: string, meta?: object): void;
  error(message: string, meta?: object): void;
  warn(message: string, meta?: object): void;
  info(message: string, meta?: object): void;
  debug(message: string, meta?: object): void;
  isLevelEnabled(level: string): boolean;
  /** Writes the held lines, in order, and from then on every line when it is logged. */
  release(): void;
  /** Releases what is held, then closes the transports. */
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
 * The logger: levels are decided here, and winston (with its formats and transports, about 10 ms of
 * start-up even from the bundle) is loaded on the first line that is written, not before. A service
 * whose level drops everything it has said so far (LOG_LEVEL=warn, the start-up line is info) starts
 * without it. With `holdMs`, lines logged before `release()` wait in memory, so that the service
 * can listen and take its first request before paying for winston; they are written at the latest
 * when the hold runs out or the process exits (winston writes synchronously, even in an exit handler).
 */
export function createLogger(options: LoggerOptions): Logger {
  const threshold = LEVELS[options.level] ?? LEVELS.info;
  const now = options.now ?? Date.now;
  let loaded: winston.Logger | undefined;
  let replaying: HeldLine | undefined;
  const write = (level: string, message: string, meta?: object) => {
    loaded ??= createWinstonLogger(options, () => replaying);
    // As winston's own level methods call it: without a meta object, no empty splat.
    // Stryker disable next-line ConditionalExpression: winston writes the same line for an undefined meta; the call only mirrors its own methods.
    if (meta === undefined) loaded.log(level, message);
    else loaded.log(level, message, meta);
  };

  let held: HeldLine[] | undefined;
  // Released once: the hold's timer and the exit handler find nothing held after that.
  const release = () => {
    if (!held) return;
    const lines = held;
    held = undefined;
    for (const line of lines) {
      replaying = line;
      try {
        write(line.level, line.message, line.meta);
      } finally {
        replaying = undefined;
      }
    }
  };
  if (options.holdMs !== undefined) {
    held = [];
    // Stryker disable next-line CallExpression: unref only lets a process with nothing else to do exit before the hold runs out.
    setTimeout(release, options.holdMs).unref();
    process.once("exit", release);
  }

  const isLevelEnabled = (level: string) =>
    (LEVELS[level] ?? Number.POSITIVE_INFINITY) <= (threshold as number);
  const log = (level: string, message: string, meta?: object) => {
    if (!isLevelEnabled(level)) return;
    if (held) held.push({ level, message, meta, at: now(), ids: options.traceIds?.() });
    else write(level, message, meta);
  };
  return {
    log,
    error: (message, meta) => log("error", message, meta),
    warn: (message, meta) => log("warn", message, meta),
    info: (message, meta) => log("info", message, meta),
    debug: (message, meta) => log("debug", message, meta),
    isLevelEnabled,
    release,
    close: () => {
      release();
      loaded?.close();
    },
  };
}

/** Where @opentelemetry/winston-transport looks for a log record's context. */
const OTEL_LOG_CONTEXT = Symbol.for("opentelemetry.js.contrib.winston.context");

/**
 * ECS-formatted JSON lines, secrets scrubbed before any transport sees them. `replaying` is the held
 * line being written, if any: its trace and time are the ones it was logged with.
 */
function createWinstonLogger(options: LoggerOptions, replaying: () => HeldLine | undefined): winston.Logger {
  const winston = require("winston") as typeof import("winston");
  const { ecsFields, ecsStringify } =
    require("@elastic/ecs-winston-format") as typeof import("@elastic/ecs-winston-format");
  const redactor = createRedactor(options.secrets);
  const redact = winston.format((info) => {
    const scrubbed = redactor.scrub({ ...info }) as winston.Logform.TransformableInfo;
    for (const key of Object.keys(scrubbed)) (info as Record<string, unknown>)[key] = scrubbed[key];
    return info;
  });

  const traceIds = options.traceIds;
  const correlate = winston.format((info) => {
    const line = replaying();
    const ids = line ? line.ids : traceIds?.();
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

  const loggedAt = winston.format((info) => {
    const line = replaying();
    if (line) info["@timestamp"] = new Date(line.at).toISOString();
    return info;
  });

  return winston.createLogger({
    level: options.level,
    format: winston.format.combine(
      correlate(),
      redact(),
      // ecsFormat is these two; the held line's own time goes between them.
      ecsFields({
        // Stryker disable next-line BooleanLiteral: without elastic-apm-node installed the integration adds nothing; false says so.
        apmIntegration: false,
        serviceName: options.serviceName,
        serviceVersion: options.serviceVersion,
        serviceEnvironment: options.environment,
      }),
      loggedAt(),
      ecsStringify(),
    ),
    transports: transportsOf(winston, options),
  });
}

/** The OTLP export's, then the console (or the given stream) unless it is off. */
function transportsOf(winston: typeof import("winston"), options: LoggerOptions): winston.transport[] {
  const transports: winston.transport[] = [...(options.transports ?? [])];
  if (options.console === false) return transports;
  transports.push(
    options.stream
      ? new winston.transports.Stream({ stream: options.stream })
      : new winston.transports.Console(),
  );
  return transports;
}
