import { ecsFormat } from "@elastic/ecs-winston-format";
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
  readonly traceIds?: (() => { traceId: string; spanId: string } | undefined) | undefined;
}

export type Logger = winston.Logger;

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
    if (ids) Object.assign(info, { "trace.id": ids.traceId, "span.id": ids.spanId });
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
