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

/** Outcomes are strings here; the ones that start with "failed" are worth a retry. */
const failedOutcome = (outcome: string) => outcome.startsWith("failed");

async function attemptsWith(leftMs: number, random: number, overrides: Partial<RetryOptions<string>> = {}) {
  spyOn(Math, "random").mockReturnValue(random);
  const clock = clockAt(T0);
  const budgets: number[] = [];
  const outcome = await retryOnce(
    async (budget) => {
      budgets.push(budget);
      return budgets.length === 1 ? "failed first attempt" : "second attempt";
    },
    {
      deadline: T0 + leftMs,
      baseDelayMs: BASE,
      minAttemptMs: MIN,
      shouldRetry: failedOutcome,
      now: clock.read,
      ...overrides,
    },
  );
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
        return budgets.length === 1 ? "failed: timed out" : "ok";
      },
      {
        deadline: T0 + 1000,
        baseDelayMs: BASE,
        minAttemptMs: MIN,
        shouldRetry: failedOutcome,
        now: clock.read,
      },
    );
    expect(result).toBe("ok");
    expect(budgets).toEqual([1000, 700]);
  });

  test.each([
    // random 0: the wait is half the base delay (20 ms); the retry needs 20 + 100 ms left.
    [0, 120, "second attempt"],
    [0, 119, "failed first attempt"],
    // random 1: the wait is the whole base delay (40 ms); the retry needs 40 + 100 ms left.
    [1, 140, "second attempt"],
    [1, 139, "failed first attempt"],
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
        return starts.length === 1 ? "failed: transient" : "ok";
      },
      { deadline: Date.now() + 5000, baseDelayMs: 60, minAttemptMs: MIN, shouldRetry: failedOutcome },
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
      { deadline: before + 5000, baseDelayMs: BASE, minAttemptMs: MIN, shouldRetry: failedOutcome },
    );
    expect(budgets[0]).toBeLessThanOrEqual(5000);
    expect(budgets[0]).toBeGreaterThan(4000);
  });

  test("the retry is decided on the first attempt's outcome, and the last outcome is the one reported", async () => {
    const seen: string[] = [];
    let attempts = 0;
    const outcome = await retryOnce(async () => `failed attempt ${++attempts}`, {
      deadline: T0 + 5000,
      baseDelayMs: 1,
      minAttemptMs: 1,
      now: () => T0,
      shouldRetry: (failure) => {
        seen.push(failure);
        return failure === "failed attempt 1";
      },
    });
    expect(outcome).toBe("failed attempt 2");
    expect(seen).toEqual(["failed attempt 1"]);
  });
});
