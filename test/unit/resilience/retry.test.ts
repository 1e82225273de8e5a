import { describe, expect, test } from "bun:test";
import { retryOnce } from "../../../src/resilience/retry.ts";

const options = (overrides: Partial<Parameters<typeof retryOnce>[1]> = {}) => ({
  deadline: Date.now() + 1000,
  baseDelayMs: 20,
  minAttemptMs: 50,
  shouldRetry: () => true,
  ...overrides,
});

describe("retryOnce", () => {
  test("a first success is returned without retrying", async () => {
    let attempts = 0;
    expect(await retryOnce(async () => ++attempts, options())).toBe(1);
    expect(attempts).toBe(1);
  });

  test("one retry after a retryable failure, with a smaller budget", async () => {
    const budgets: number[] = [];
    const result = await retryOnce(async (budget) => {
      budgets.push(budget);
      if (budgets.length === 1) throw new Error("transient");
      return "second";
    }, options());
    expect(result).toBe("second");
    expect(budgets).toHaveLength(2);
    expect(budgets[1]).toBeLessThan(budgets[0] as number);
  });

  test("never more than one retry", async () => {
    let attempts = 0;
    const failing = async () => {
      attempts++;
      throw new Error("down");
    };
    await expect(retryOnce(failing, options())).rejects.toThrow("down");
    expect(attempts).toBe(2);
  });

  test("no retry for errors that are answers, not outages", async () => {
    let attempts = 0;
    const failing = async () => {
      attempts++;
      throw new Error("refused");
    };
    await expect(retryOnce(failing, options({ shouldRetry: () => false }))).rejects.toThrow("refused");
    expect(attempts).toBe(1);
  });

  test("no retry when too little of the deadline is left", async () => {
    let attempts = 0;
    const failing = async () => {
      attempts++;
      throw new Error("slow");
    };
    await expect(retryOnce(failing, options({ deadline: Date.now() + 60 }))).rejects.toThrow("slow");
    expect(attempts).toBe(1);
  });
});
