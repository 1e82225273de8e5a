import { describe, expect, jest, test } from "bun:test";
import {
  failed,
  type KongResult,
  kongMisconfigured,
  kongUnavailable,
  succeeded,
  unknownConsumer,
} from "../../../src/kong/result.ts";
import { type BreakerState, KongBreaker } from "../../../src/resilience/breaker.ts";

function breaker(overrides: Partial<ConstructorParameters<typeof KongBreaker>[0]> = {}) {
  const transitions: [BreakerState, BreakerState][] = [];
  const b = new KongBreaker({
    timeoutMs: 100,
    errorThresholdPercentage: 50,
    resetTimeoutMs: 200,
    volumeThreshold: 2,
    ...overrides,
  });
  b.observe({ onStateChange: (state, previous) => transitions.push([previous, state]) });
  return { b, transitions };
}

const failing = async () => failed(kongUnavailable("Kong answered 503", 503));
const misconfigured = async () => failed(kongMisconfigured("Kong refused the admin token", 401));

/** Resolves on the breaker's next move into `state`: opossum's reset timer runs on real time. */
function reaches(b: KongBreaker, state: BreakerState): Promise<void> {
  return new Promise((resolve) => b.observe({ onStateChange: (next) => next === state && resolve() }));
}

/** The failure `b.run` came back with; fails the test when the operation succeeded. */
async function failureOf(promise: Promise<KongResult<unknown>>) {
  const result = await promise;
  if (result.ok) throw new Error("expected a failure");
  return result.error;
}

/** The error `b` fails an operation with, having not run it: Kong is not even asked. */
async function refusalWithoutRunning(b: KongBreaker) {
  let called = false;
  const error = await failureOf(
    b.run("op", async () => {
      called = true;
      return succeeded(undefined);
    }),
  );
  expect(called).toBe(false);
  return error;
}

describe("KongBreaker", () => {
  test("passes results through while closed", async () => {
    const { b } = breaker();
    expect(await b.run("op", async () => succeeded(42))).toEqual({ ok: true, value: 42 });
    expect(b.state).toBe("closed");
  });

  test("opens once failures pass the threshold, then fails fast without calling Kong", async () => {
    const { b, transitions } = breaker();
    await failureOf(b.run("op", failing));
    await failureOf(b.run("op", failing));
    expect(b.state).toBe("open");
    expect(transitions).toEqual([["closed", "open"]]);

    expect(await refusalWithoutRunning(b)).toEqual({
      kind: "unavailable",
      message: "op: circuit breaker open, Kong not called",
      circuitOpen: true,
    });
    expect(b.retryAfterSeconds()).toBe(1);
  });

  test("half-opens after the reset timeout and closes on a successful trial", async () => {
    const { b, transitions } = breaker({ resetTimeoutMs: 200 });
    const halfOpen = reaches(b, "half-open");
    await failureOf(b.run("op", failing));
    await failureOf(b.run("op", failing));
    await halfOpen;
    expect(b.state).toBe("half-open");
    expect(await b.run("op", async () => succeeded("ok"))).toEqual({ ok: true, value: "ok" });
    expect(b.state).toBe("closed");
    expect(transitions).toEqual([
      ["closed", "open"],
      ["open", "half-open"],
      ["half-open", "closed"],
    ]);
  });

  test("a failed trial while half-open opens it again", async () => {
    const { b } = breaker({ resetTimeoutMs: 200 });
    const halfOpen = reaches(b, "half-open");
    await failureOf(b.run("op", failing));
    await failureOf(b.run("op", failing));
    await halfOpen;
    await failureOf(b.run("op", failing));
    expect(b.state).toBe("open");
  });

  test("misconfiguration (Kong refusing the admin token) never opens it, however often", async () => {
    const outcomes: string[] = [];
    const { b } = breaker();
    b.observe({ onResult: (_operation, outcome) => outcomes.push(outcome) });
    // Were these counted, every call in the window would be a failure: far past the 50 % threshold.
    for (let i = 0; i < 10; i++) {
      expect(await failureOf(b.run("op", misconfigured))).toEqual({
        kind: "misconfigured",
        message: "Kong refused the admin token",
        status: 401,
      });
    }
    expect(b.state).toBe("closed");
    expect(outcomes).toEqual(Array(10).fill("error"));
    let called = false;
    await b.run("op", async () => {
      called = true;
      return succeeded(undefined);
    });
    expect(called).toBe(true);
  });

  test("an unknown consumer (404) is a success that dilutes real failures", async () => {
    const outcomes: string[] = [];
    const { b } = breaker({ volumeThreshold: 4 });
    b.observe({ onResult: (_operation, outcome) => outcomes.push(outcome) });
    for (let i = 0; i < 3; i++) {
      expect(await b.run("op", async () => failed(unknownConsumer))).toEqual({
        ok: false,
        error: { kind: "unknown-consumer" },
      });
    }
    expect(outcomes).toEqual(["success", "success", "success"]);
    await failureOf(b.run("op", failing));
    // One failure in four calls: under the 50 % threshold.
    expect(b.state).toBe("closed");
    await failureOf(b.run("op", failing));
    await failureOf(b.run("op", failing));
    await failureOf(b.run("op", failing));
    expect(b.state).toBe("open");
  });

  test("an outage is reported as a failure, a refusal while open as rejected", async () => {
    const outcomes: string[] = [];
    const { b } = breaker();
    b.observe({ onResult: (_operation, outcome) => outcomes.push(outcome) });
    await b.run("op", async () => succeeded("ok"));
    expect(await failureOf(b.run("op", failing))).toEqual({
      kind: "unavailable",
      message: "Kong answered 503",
      status: 503,
      circuitOpen: false,
    });
    await failureOf(b.run("op", () => Promise.reject(new Error("socket hang up"))));
    await failureOf(b.run("op", failing));
    expect(outcomes).toEqual(["success", "failure", "failure", "rejected"]);
  });

  test("an operation that never answers fails as unavailable once the timeout passes, and counts", async () => {
    const outcomes: string[] = [];
    const { b } = breaker({ timeoutMs: 100 });
    b.observe({ onResult: (_operation, outcome) => outcomes.push(outcome) });
    // Without the breaker's timeout this would hang until the test's own timeout fails it.
    const error = await failureOf(b.run("slow", () => new Promise(() => {})));
    expect(error.kind).toBe("unavailable");
    expect(error).toMatchObject({ message: "slow: no answer within 100 ms", circuitOpen: false });
    expect(b.stats().timeouts).toBe(1);
    expect(outcomes).toEqual(["timeout"]);
  });

  test("a rejection with no error at all still comes back as unavailable", async () => {
    const { b } = breaker();
    const error = await failureOf(b.run("lookup", () => Promise.reject(undefined)));
    expect(error).toMatchObject({ kind: "unavailable", message: "lookup: failed" });
  });

  test("with the default volume, a few failures in a quiet window do not open it", async () => {
    const b = new KongBreaker({ timeoutMs: 100, errorThresholdPercentage: 50, resetTimeoutMs: 200 });
    for (let i = 0; i < 4; i++) await failureOf(b.run("op", failing));
    expect(b.state).toBe("closed");
    await failureOf(b.run("op", failing));
    expect(b.state).toBe("open");
    b.shutdown();
  });

  test("after shutdown no operation reaches Kong", async () => {
    const { b } = breaker();
    b.shutdown();
    const error = await refusalWithoutRunning(b);
    expect(error).toMatchObject({ kind: "unavailable", message: "op: The circuit has been shutdown." });
  });

  test("an exception thrown by the operation comes back as unavailable, naming the operation", async () => {
    const { b } = breaker();
    const thrown = new Error("ECONNRESET");
    const error = await failureOf(b.run("list credentials", () => Promise.reject(thrown)));
    expect(error).toEqual({
      kind: "unavailable",
      message: "list credentials: ECONNRESET",
      status: undefined,
      circuitOpen: false,
      cause: thrown,
    });
  });

  test("the deadline handed to the operation is the breaker's budget from the start of the call", async () => {
    const { b } = breaker({ timeoutMs: 300 });
    const before = Date.now();
    const deadline = await b.run("op", async (d) => succeeded(d)).then((result) => result.ok && result.value);
    const after = Date.now();
    expect(deadline).toBeGreaterThanOrEqual(before + 300);
    expect(deadline).toBeLessThanOrEqual(after + 300);
  });

  test("Retry-After counts down to the half-open moment", async () => {
    let clock = 1_000_000;
    const { b } = breaker({ resetTimeoutMs: 30_000, now: () => clock });
    await failureOf(b.run("op", failing));
    await failureOf(b.run("op", failing));
    expect(b.retryAfterSeconds()).toBe(30);
    clock += 12_500;
    expect(b.retryAfterSeconds()).toBe(18);
    clock += 17_900;
    expect(b.retryAfterSeconds()).toBe(1);
    clock += 5_000;
    // Past the reset moment (the trial is due), clients are still told to wait a second, never 0.
    expect(b.retryAfterSeconds()).toBe(1);
    b.shutdown();
  });

  test("Retry-After is 1 s whenever the breaker is not open, half-open included", async () => {
    // opossum's reset timer is real time: fake timers move it without waiting 30 s.
    jest.useFakeTimers();
    try {
      const clock = 1_000_000;
      const { b } = breaker({ resetTimeoutMs: 30_000, now: () => clock });
      expect(b.retryAfterSeconds()).toBe(1);
      await failureOf(b.run("op", failing));
      await failureOf(b.run("op", failing));
      expect(b.retryAfterSeconds()).toBe(30);
      jest.advanceTimersByTime(30_000);
      expect(b.state).toBe("half-open");
      expect(b.retryAfterSeconds()).toBe(1);
      await b.run("op", async () => succeeded("ok"));
      expect(b.state).toBe("closed");
      expect(b.retryAfterSeconds()).toBe(1);
      b.shutdown();
    } finally {
      jest.useRealTimers();
    }
  });
});
