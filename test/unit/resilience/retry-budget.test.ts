import { afterEach, describe, expect, mock, spyOn, test } from "bun:test";
import { type RetryOptions, retryOnce } from "../../../src/resilience/retry.ts";

/**
 * The Kong adapter's reads get one retry, only if what is left of the breaker's deadline still
 * gives it `minAttemptMs` after the jittered wait. The clock is injected; the jitter is pinned by
 * stubbing Math.random at its two ends (0: half the base delay; 1: all of it).
 */
const T0 = 1_000_000;
const BASE = 40;
const MIN = 100;

function clockAt(start: number) {
  const clock = { now: start, read: () => clock.now };
  return clock;
}

async function attemptsWith(leftMs: number, random: number, overrides: Partial<RetryOptions> = {}) {
  spyOn(Math, "random").mockReturnValue(random);
  const clock = clockAt(T0);
  const budgets: number[] = [];
  const outcome = await retryOnce(
    async (budget) => {
      budgets.push(budget);
      if (budgets.length === 1) throw new Error("first attempt failed");
      return "second attempt";
    },
    {
      deadline: T0 + leftMs,
      baseDelayMs: BASE,
      minAttemptMs: MIN,
      shouldRetry: () => true,
      now: clock.read,
      ...overrides,
    },
  ).catch((error: Error) => error.message);
  return { outcome, budgets };
}

afterEach(() => {
  mock.restore();
});

describe("retryOnce: the retry budget", () => {
  test("each attempt receives what is left of the deadline, by the injected clock", async () => {
    const clock = clockAt(T0);
    const budgets: number[] = [];
    spyOn(Math, "random").mockReturnValue(0);
    const result = await retryOnce(
      async (budget) => {
        budgets.push(budget);
        // The first attempt used 300 ms of the budget before failing.
        clock.now += 300;
        if (budgets.length === 1) throw new Error("timed out");
        return "ok";
      },
      { deadline: T0 + 1000, baseDelayMs: BASE, minAttemptMs: MIN, shouldRetry: () => true, now: clock.read },
    );
    expect(result).toBe("ok");
    expect(budgets).toEqual([1000, 700]);
  });

  test.each([
    // random 0: the wait is half the base delay (20 ms); the retry needs 20 + 100 ms left.
    [0, 120, "second attempt"],
    [0, 119, "first attempt failed"],
    // random 1: the wait is the whole base delay (40 ms); the retry needs 40 + 100 ms left.
    [1, 140, "second attempt"],
    [1, 139, "first attempt failed"],
  ])("jitter %d with %d ms left → %s", async (random, left, expected) => {
    const { outcome, budgets } = await attemptsWith(left, random);
    expect(outcome).toBe(expected);
    expect(budgets).toHaveLength(expected === "second attempt" ? 2 : 1);
  });

  test("the jittered wait really passes before the second attempt", async () => {
    spyOn(Math, "random").mockReturnValue(1);
    const starts: number[] = [];
    await retryOnce(
      async () => {
        starts.push(performance.now());
        if (starts.length === 1) throw new Error("transient");
        return "ok";
      },
      { deadline: Date.now() + 5000, baseDelayMs: 60, minAttemptMs: MIN, shouldRetry: () => true },
    );
    // Lower bound only: a loaded machine may wait longer, never shorter (1 ms of timer rounding).
    expect((starts[1] as number) - (starts[0] as number)).toBeGreaterThanOrEqual(59);
  });

  test("without an injected clock the budget is measured by the wall clock", async () => {
    const budgets: number[] = [];
    const before = Date.now();
    await retryOnce(
      async (budget) => {
        budgets.push(budget);
        return "ok";
      },
      { deadline: before + 5000, baseDelayMs: BASE, minAttemptMs: MIN, shouldRetry: () => true },
    );
    expect(budgets[0]).toBeLessThanOrEqual(5000);
    expect(budgets[0]).toBeGreaterThan(4000);
  });

  test("the retry is decided on the error the attempt threw, and the last error is the one reported", async () => {
    const seen: unknown[] = [];
    let attempts = 0;
    const error = await retryOnce(
      async () => {
        attempts++;
        throw new Error(`attempt ${attempts}`);
      },
      {
        deadline: T0 + 5000,
        baseDelayMs: 1,
        minAttemptMs: 1,
        now: () => T0,
        shouldRetry: (failure) => {
          seen.push(failure);
          return (failure as Error).message === "attempt 1";
        },
      },
    ).catch((failure: Error) => failure.message);
    expect(error).toBe("attempt 2");
    expect(seen.map((failure) => (failure as Error).message)).toEqual(["attempt 1"]);
  });
});
