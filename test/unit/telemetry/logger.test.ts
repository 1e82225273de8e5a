import { describe, expect, test } from "bun:test";
import { testLogger } from "../../support/logger.ts";
import { LogCapture } from "../../support/stack.ts";

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
