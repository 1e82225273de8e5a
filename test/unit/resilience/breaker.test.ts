import { describe, expect, jest, test } from "bun:test";
import { isKongError, kongMisconfigured, kongUnavailable } from "../../../src/kong/errors.ts";
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

const failing = () => Promise.reject(kongUnavailable("Kong answered 503", 503));
const misconfigured = () => Promise.reject(kongMisconfigured("Kong refused the admin token", 401));

/** Resolves on the breaker's next move into `state`: opossum's reset timer runs on real time. */
function reaches(b: KongBreaker, state: BreakerState): Promise<void> {
  return new Promise((resolve) => b.observe({ onStateChange: (next) => next === state && resolve() }));
}

async function rejection(promise: Promise<unknown>) {
  try {
    await promise;
  } catch (error) {
    return error;
  }
  throw new Error("expected a rejection");
}

/** The error `b` fails an operation with, having not run it: Kong is not even asked. */
async function refusalWithoutRunning(b: KongBreaker) {
  let called = false;
  const error = await rejection(
    b.run("op", async () => {
      called = true;
    }),
  );
  expect(called).toBe(false);
  return error;
}

describe("KongBreaker", () => {
  test("passes results through while closed", async () => {
    const { b } = breaker();
    expect(await b.run("op", async () => 42)).toBe(42);
    expect(b.state).toBe("closed");
  });

  test("opens once failures pass the threshold, then fails fast without calling Kong", async () => {
    const { b, transitions } = breaker();
    await rejection(b.run("op", failing));
    await rejection(b.run("op", failing));
    expect(b.state).toBe("open");
    expect(transitions).toEqual([["closed", "open"]]);

    const error = await refusalWithoutRunning(b);
    expect(isKongError(error) && error.kind).toBe("unavailable");
    expect((error as Error).message).toContain("circuit breaker open");
    expect(b.retryAfterSeconds()).toBe(1);
  });

  test("half-opens after the reset timeout and closes on a successful trial", async () => {
    const { b, transitions } = breaker({ resetTimeoutMs: 200 });
    const halfOpen = reaches(b, "half-open");
    await rejection(b.run("op", failing));
    await rejection(b.run("op", failing));
    await halfOpen;
    expect(b.state).toBe("half-open");
    expect(await b.run("op", async () => "ok")).toBe("ok");
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
    await rejection(b.run("op", failing));
    await rejection(b.run("op", failing));
    await halfOpen;
    await rejection(b.run("op", failing));
    expect(b.state).toBe("open");
  });

  test("misconfiguration (Kong refusing the admin token) never opens it, however often", async () => {
    const outcomes: string[] = [];
    const { b } = breaker();
    b.observe({ onResult: (_operation, outcome) => outcomes.push(outcome) });
    // Were these counted, every call in the window would be a failure: far past the 50 % threshold.
    for (let i = 0; i < 10; i++) {
      const error = await rejection(b.run("op", misconfigured));
      expect(isKongError(error) && error.kind).toBe("misconfigured");
    }
    expect(b.state).toBe("closed");
    expect(outcomes).toEqual(Array(10).fill("error"));
    let called = false;
    await b.run("op", async () => {
      called = true;
    });
    expect(called).toBe(true);
  });

  test("an unknown consumer (404, answered as null) is a success that dilutes real failures", async () => {
    const { b } = breaker({ volumeThreshold: 4 });
    for (let i = 0; i < 3; i++) expect(await b.run("op", async () => null)).toBeNull();
    await rejection(b.run("op", failing));
    // One failure in four calls: under the 50 % threshold.
    expect(b.state).toBe("closed");
    await rejection(b.run("op", failing));
    await rejection(b.run("op", failing));
    await rejection(b.run("op", failing));
    expect(b.state).toBe("open");
  });

  test("an outage is reported as a failure, a refusal while open as rejected", async () => {
    const outcomes: string[] = [];
    const { b } = breaker();
    b.observe({ onResult: (_operation, outcome) => outcomes.push(outcome) });
    await b.run("op", async () => "ok");
    await rejection(b.run("op", failing));
    await rejection(b.run("op", () => Promise.reject(new Error("socket hang up"))));
    await rejection(b.run("op", failing));
    expect(outcomes).toEqual(["success", "failure", "failure", "rejected"]);
  });

  test("an operation that never answers fails as unavailable once the timeout passes, and counts", async () => {
    const outcomes: string[] = [];
    const { b } = breaker({ timeoutMs: 100 });
    b.observe({ onResult: (_operation, outcome) => outcomes.push(outcome) });
    // Without the breaker's timeout this would hang until the test's own timeout fails it.
    const error = await rejection(b.run("slow", () => new Promise(() => {})));
    expect(isKongError(error) && error.kind).toBe("unavailable");
    expect((error as Error).message).toContain("no answer within 100 ms");
    expect(b.stats().timeouts).toBe(1);
    expect(outcomes).toEqual(["timeout"]);
  });

  test("a rejection with no error at all still becomes an unavailable KongError", async () => {
    const { b } = breaker();
    const error = await rejection(b.run("lookup", () => Promise.reject(undefined)));
    expect(isKongError(error) && error.kind).toBe("unavailable");
    expect((error as Error).message).toBe("lookup: failed");
  });

  test("with the default volume, a few failures in a quiet window do not open it", async () => {
    const b = new KongBreaker({ timeoutMs: 100, errorThresholdPercentage: 50, resetTimeoutMs: 200 });
    for (let i = 0; i < 4; i++) await rejection(b.run("op", failing));
    expect(b.state).toBe("closed");
    await rejection(b.run("op", failing));
    expect(b.state).toBe("open");
    b.shutdown();
  });

  test("after shutdown no operation reaches Kong", async () => {
    const { b } = breaker();
    b.shutdown();
    const error = await refusalWithoutRunning(b);
    expect(isKongError(error) && error.kind).toBe("unavailable");
  });

  test("a thrown non-Kong error becomes an unavailable KongError naming the operation", async () => {
    const { b } = breaker();
    const error = await rejection(b.run("list credentials", () => Promise.reject(new Error("ECONNRESET"))));
    expect(isKongError(error) && error.kind).toBe("unavailable");
    expect((error as Error).message).toBe("list credentials: ECONNRESET");
  });

  test("the deadline handed to the operation is the breaker's budget from the start of the call", async () => {
    const { b } = breaker({ timeoutMs: 300 });
    const before = Date.now();
    const deadline = await b.run("op", async (d) => d);
    const after = Date.now();
    expect(deadline).toBeGreaterThanOrEqual(before + 300);
    expect(deadline).toBeLessThanOrEqual(after + 300);
  });

  test("Retry-After counts down to the half-open moment", async () => {
    let clock = 1_000_000;
    const { b } = breaker({ resetTimeoutMs: 30_000, now: () => clock });
    await rejection(b.run("op", failing));
    await rejection(b.run("op", failing));
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
      await rejection(b.run("op", failing));
      await rejection(b.run("op", failing));
      expect(b.retryAfterSeconds()).toBe(30);
      jest.advanceTimersByTime(30_000);
      expect(b.state).toBe("half-open");
      expect(b.retryAfterSeconds()).toBe(1);
      await b.run("op", async () => "ok");
      expect(b.state).toBe("closed");
      expect(b.retryAfterSeconds()).toBe(1);
      b.shutdown();
    } finally {
      jest.useRealTimers();
    }
  });
});
