import { describe, expect, test } from "bun:test";
import { FAILED, TIMED_OUT, withinDeadline } from "../../../src/cache/deadline.ts";

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
});
