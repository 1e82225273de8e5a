import { describe, expect, test } from "bun:test";
import { FAILED, TIMED_OUT, withinDeadline } from "../../../src/cache/deadline.ts";
import { within } from "../../support/wait.ts";

/** Far under the 60 s deadline, generous for starting Bun on a loaded machine. */
const EXIT_WITHIN_MS = 10_000;

describe("withinDeadline", () => {
  test("a value that comes in time is answered as it is", async () => {
    expect(await withinDeadline(Promise.resolve("OK"), 1_000)).toEqual({ value: "OK" });
    expect(await withinDeadline(Promise.resolve(undefined), 1_000)).toEqual({ value: undefined });
  });

  test("a failure in time is FAILED, not thrown", async () => {
    expect(await withinDeadline(Promise.reject(new Error("WRONGTYPE")), 1_000)).toBe(FAILED);
  });

  test("no answer by the deadline is TIMED_OUT, however long the call goes on hanging", async () => {
    const never = new Promise<string>(() => {});
    expect(await withinDeadline(never, 20)).toBe(TIMED_OUT);
  });

  test(
    "an answer in time leaves no timer behind: a process waiting on nothing else exits at once, not when the deadline would have passed",
    async () => {
      const module = new URL("../../../src/cache/deadline.ts", import.meta.url).pathname;
      const script = `const { withinDeadline } = await import(${JSON.stringify(module)});
console.log(JSON.stringify(await withinDeadline(Promise.resolve("OK"), 60_000)));`;
      const child = Bun.spawn([process.execPath, "-e", script], { stdout: "pipe", stderr: "inherit" });
      try {
        expect(await within(EXIT_WITHIN_MS, child.exited)).toBe(0);
        expect(await new Response(child.stdout).text()).toBe('{"value":"OK"}\n');
      } finally {
        child.kill();
      }
    },
    2 * EXIT_WITHIN_MS,
  );
});
