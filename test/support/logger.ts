import { Writable } from "node:stream";
import { createLogger, type Logger } from "../../src/telemetry/logger.ts";

/**
 * A logger for a part tested on its own (without the service around it): its lines go to `stream`,
 * by default nowhere, from `level` up.
 */
export function testLogger(level = "error", stream: NodeJS.WritableStream = discard()): Logger {
  return createLogger({
    level,
    serviceName: "test",
    serviceVersion: "test",
    environment: "test",
    secrets: [],
    stream,
  });
}

function discard(): Writable {
  return new Writable({ write: (_chunk, _encoding, done) => done() });
}
