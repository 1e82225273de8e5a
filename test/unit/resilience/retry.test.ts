import { describe, expect, test } from "bun:test";
import { type RetryOptions, retryOnce } from "../../../src/resilience/retry.ts";

type Outcome = { ok: true; value: string } | { ok: false; reason: string };

const options = (overrides: Partial<RetryOptions<Outcome>> = {}): RetryOptions<Outcome> => ({
  deadline: Date.now() + 1000,
  baseDelayMs: 20,
  minAttemptMs: 50,
  shouldRetry: (outcome) => !outcome.ok,
  ...overrides,
});

const failure = (reason: string): Outcome => ({ ok: false, reason });
const success = (value: string): Outcome => ({ ok: true, value });

describe("retryOnce", () => {
  test("a first success is returned without retrying", async () => {
    let attempts = 0;
    expect(await retryOnce(async () => success(`attempt ${++attempts}`), options())).toEqual(
      success("attempt 1"),
    );
    expect(attempts).toBe(1);
  });

  test("one retry after a retryable failure, with a smaller budget", async () => {
    const budgets: number[] = [];
    const result = await retryOnce(async (budget) => {
      budgets.push(budget);
      return budgets.length === 1 ? failure("transient") : success("second");
    }, options());
    expect(result).toEqual(success("second"));
    expect(budgets).toHaveLength(2);
    expect(budgets[1]).toBeLessThan(budgets[0] as number);
  });

  test("never more than one retry: the second failure is the outcome", async () => {
    let attempts = 0;
    const failing = async () => failure(`down ${++attempts}`);
    expect(await retryOnce(failing, options())).toEqual(failure("down 2"));
    expect(attempts).toBe(2);
  });

  test("no retry for failures that are answers, not outages", async () => {
    let attempts = 0;
    const failing = async () => failure(`refused ${++attempts}`);
    expect(await retryOnce(failing, options({ shouldRetry: () => false }))).toEqual(failure("refused 1"));
    expect(attempts).toBe(1);
  });

  test("no retry when too little of the deadline is left", async () => {
    let attempts = 0;
    const failing = async () => failure(`slow ${++attempts}`);
    expect(await retryOnce(failing, options({ deadline: Date.now() + 60 }))).toEqual(failure("slow 1"));
    expect(attempts).toBe(1);
  });

  test("an exception is a fault of the code: it is never retried", async () => {
    let attempts = 0;
    const broken = async (): Promise<Outcome> => {
      attempts++;
      throw new TypeError("bug");
    };
    await expect(retryOnce(broken, options())).rejects.toThrow("bug");
    expect(attempts).toBe(1);
  });
});
