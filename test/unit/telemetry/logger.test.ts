import { describe, expect, test } from "bun:test";
import { type ROOT_CONTEXT, TraceFlags, trace } from "@opentelemetry/api";
import TransportStream from "winston-transport";
import { createLogger, type LoggerOptions } from "../../../src/telemetry/logger.ts";
import { testLogger } from "../../support/logger.ts";
import { LogCapture } from "../../support/stack.ts";
import { waitFor } from "../../support/wait.ts";

const LEVELS = ["error", "warn", "info", "http", "verbose", "debug", "silly"] as const;

describe("the logger", () => {
  test.each(LEVELS)(
    "at %s, exactly the lines of that level and the more severe ones are written",
    (level) => {
      const capture = new LogCapture();
      const logger = testLogger(level, capture);
      for (const line of LEVELS) logger.log(line, `a ${line} line`);
      logger.error("by error()");
      logger.warn("by warn()");
      logger.info("by info()");
      logger.debug("by debug()");
      const rank = LEVELS.indexOf(level);
      const written = (line: (typeof LEVELS)[number]) => LEVELS.indexOf(line) <= rank;
      const expected = [
        ...LEVELS.filter(written).map((line) => [`a ${line} line`, line]),
        ...(["error", "warn", "info", "debug"] as const)
          .filter(written)
          .map((line) => [`by ${line}()`, line]),
      ];
      expect(capture.records().map((record) => [record.message, record["log.level"]])).toEqual(expected);
      for (const [i, line] of LEVELS.entries()) expect(logger.isLevelEnabled(line)).toBe(i <= rank);
      logger.close();
    },
  );

  test("a line's fields are written with it; no meta object, no stray fields", () => {
    const capture = new LogCapture();
    const logger = testLogger("info", capture);
    logger.info("with meta", { event: { action: "started" }, custom: 42 });
    logger.info("without");
    const [withMeta, without] = capture.records() as [Record<string, unknown>, Record<string, unknown>];
    expect(withMeta).toMatchObject({ message: "with meta", event: { action: "started" }, custom: 42 });
    expect(Object.keys(without).sort()).toEqual(
      Object.keys(withMeta)
        .filter((key) => !["custom", "event"].includes(key))
        .sort(),
    );
  });

  test("winston is not loaded until a line is written", async () => {
    const script = `
      const { createLogger } = await import("./src/telemetry/logger.ts");
      const loaded = () => Object.keys(require.cache).some((path) => path.includes("/node_modules/winston/"));
      const logger = createLogger({ level: "warn", serviceName: "s", serviceVersion: "v", environment: "e", secrets: [] });
      logger.info("dropped");
      logger.debug("dropped");
      const before = loaded();
      logger.warn("written");
      console.log(JSON.stringify({ before, after: loaded() }));`;
    const child = Bun.spawn([process.execPath, "-e", script], { stdout: "pipe", stderr: "pipe" });
    const output = await new Response(child.stdout).text();
    expect(await child.exited).toBe(0);
    const lines = output.trim().split("\n");
    expect(JSON.parse(lines.at(-1) as string)).toEqual({ before: false, after: true });
    expect(lines.filter((line) => line.includes('"message":"written"'))).toHaveLength(1);
    expect(output).not.toContain("dropped");
  });
});

describe("the logger holding lines (the service at start-up)", () => {
  const holding = (capture: LogCapture, extra: Partial<LoggerOptions> = {}) =>
    createLogger({
      level: "info",
      serviceName: "s",
      serviceVersion: "v",
      environment: "e",
      secrets: ["held-secret-value"],
      stream: capture,
      holdMs: 60_000,
      ...extra,
    });

  test("nothing is written until release; then every line, in order, with the time and trace it was logged with", () => {
    const capture = new LogCapture();
    let clock = Date.parse("2026-01-02T03:04:05.678Z");
    let ids: { traceId: string; spanId: string; sampled: boolean } | undefined;
    const logger = holding(capture, { now: () => clock, traceIds: () => ids });
    logger.info("first", { event: { action: "started" } });
    clock += 25;
    ids = { traceId: "a".repeat(32), spanId: "b".repeat(16), sampled: true };
    logger.error("second carries held-secret-value");
    logger.debug("below the level, never written");
    ids = undefined;
    clock += 25;
    logger.warn("third");
    expect(capture.lines).toEqual([]);

    ids = { traceId: "c".repeat(32), spanId: "d".repeat(16), sampled: true };
    logger.release();
    const records = capture.records();
    expect(
      records.map((r) => [r.message, r["log.level"], r["@timestamp"], r["trace.id"], r["span.id"]]),
    ).toEqual([
      ["first", "info", "2026-01-02T03:04:05.678Z", undefined, undefined],
      ["second carries [REDACTED]", "error", "2026-01-02T03:04:05.703Z", "a".repeat(32), "b".repeat(16)],
      ["third", "warn", "2026-01-02T03:04:05.728Z", undefined, undefined],
    ]);
    expect(records[0]).toMatchObject({
      event: { action: "started" },
      "service.name": "s",
      "ecs.version": "8.10.0",
    });

    // Released: a line is written when it is logged, in the trace active then.
    logger.info("after");
    expect(capture.records().at(-1)).toMatchObject({ message: "after", "trace.id": "c".repeat(32) });
    logger.close();
  });

  test("a held line has exactly the fields it would have had unheld", () => {
    const [held, direct] = [new LogCapture(), new LogCapture()];
    const meta = { event: { action: "started", duration: 5 }, config: { kong: { mode: "API_GATEWAY" } } };
    const heldLogger = holding(held);
    heldLogger.info("Listening", meta);
    heldLogger.release();
    const directLogger = testLogger("info", direct);
    directLogger.info("Listening", meta);
    const withoutTime = (capture: LogCapture) => {
      const { "@timestamp": _, ...fields } = capture.records()[0] as Record<string, unknown>;
      return fields;
    };
    expect(withoutTime(held)).toEqual({
      ...withoutTime(direct),
      "service.name": "s",
      "service.version": "v",
      "service.environment": "e",
      "event.dataset": "s",
    });
    heldLogger.close();
    directLogger.close();
  });

  test("close() writes what is still held", () => {
    const capture = new LogCapture();
    const logger = holding(capture);
    logger.info("Shutting down");
    logger.close();
    expect(capture.records().map((r) => r.message)).toEqual(["Shutting down"]);
  });

  test("without release, the lines are written when the hold runs out", async () => {
    const capture = new LogCapture();
    const logger = holding(capture, { holdMs: 1 });
    logger.info("nobody asked");
    await waitFor(() => capture.lines.length > 0, "the held line");
    expect(capture.records().map((r) => r.message)).toEqual(["nobody asked"]);
    logger.close();
  });

  test("a process that exits while lines are held writes them, without having loaded winston before", async () => {
    const script = `
      const { createLogger } = await import("./src/telemetry/logger.ts");
      const loaded = () => Object.keys(require.cache).some((path) => path.includes("/node_modules/winston/"));
      const logger = createLogger({ level: "info", serviceName: "s", serviceVersion: "v", environment: "e", secrets: [], holdMs: 60_000 });
      logger.info("held one");
      logger.warn("held two");
      console.log(JSON.stringify({ loaded: loaded() }));
      process.exit(3);`;
    const child = Bun.spawn([process.execPath, "-e", script], { stdout: "pipe", stderr: "pipe" });
    const output = await new Response(child.stdout).text();
    expect(await child.exited).toBe(3);
    const lines = output.trim().split("\n");
    expect(JSON.parse(lines[0] as string)).toEqual({ loaded: false });
    expect(lines.slice(1).map((line) => JSON.parse(line).message)).toEqual(["held one", "held two"]);
  });
});

/** A transport that keeps what winston hands it, as the OTLP log transport receives it. */
class Recorder extends TransportStream {
  readonly infos: Record<string | symbol, unknown>[] = [];
  override log(info: Record<string | symbol, unknown>, next: () => void) {
    this.infos.push(info);
    next();
  }
}

const BASE = { level: "info", serviceName: "s", serviceVersion: "v", environment: "e", secrets: [] };

describe("the logger's transports", () => {
  test("the given transports (OTLP export) receive each line, and with the console off nothing else does", () => {
    const recorder = new Recorder();
    const capture = new LogCapture();
    const logger = createLogger({ ...BASE, transports: [recorder], console: false, stream: capture });
    logger.info("to OTLP only");
    expect(recorder.infos.map((info) => info.message)).toEqual(["to OTLP only"]);
    expect(capture.records()).toEqual([]);
    logger.close();
  });

  test("a line logged inside a span carries that span's context for the OTLP transport", () => {
    const recorder = new Recorder();
    const ids = { traceId: "0af7651916cd43dd8448eb211c80319c", spanId: "b7ad6b7169203331", sampled: true };
    const logger = createLogger({ ...BASE, transports: [recorder], console: false, traceIds: () => ids });
    logger.info("inside a span");
    const context = recorder.infos[0]?.[Symbol.for("opentelemetry.js.contrib.winston.context")];
    expect(context).toBeDefined();
    expect(trace.getSpanContext(context as typeof ROOT_CONTEXT)).toEqual({
      traceId: ids.traceId,
      spanId: ids.spanId,
      traceFlags: TraceFlags.SAMPLED,
      isRemote: false,
    });
    logger.close();
  });
});
