import { describe, expect, test } from "bun:test";
import { ConcurrencyLimiter } from "../../../src/resilience/concurrency.ts";

describe("ConcurrencyLimiter", () => {
  test("runs up to the limit at once; the next waits for a release", async () => {
    const limiter = new ConcurrencyLimiter(2, 5);
    const first = await limiter.acquire(100);
    const second = await limiter.acquire(100);
    expect(limiter.inUse).toBe(2);
    let third: (() => void) | undefined;
    const waiting = limiter.acquire(1000).then((release) => {
      third = release;
    });
    await Bun.sleep(5);
    expect(third).toBeUndefined();
    expect(limiter.queued).toBe(1);
    first?.();
    await waiting;
    expect(third).toBeDefined();
    expect(limiter.inUse).toBe(2);
    second?.();
    third?.();
    expect(limiter.inUse).toBe(0);
  });

  test("a full queue refuses at once", async () => {
    const limiter = new ConcurrencyLimiter(1, 1);
    await limiter.acquire(100);
    const queued = limiter.acquire(1000);
    const started = performance.now();
    expect(await limiter.acquire(1000)).toBeUndefined();
    // "At once" as opposed to after the 1000 ms it was willing to wait; loose for a loaded machine.
    expect(performance.now() - started).toBeLessThan(500);
    expect(limiter.queued).toBe(1);
    void queued;
  });

  test("a waiter gives up after its wait and leaves the queue", async () => {
    const limiter = new ConcurrencyLimiter(1, 5);
    const held = await limiter.acquire(100);
    expect(await limiter.acquire(30)).toBeUndefined();
    expect(limiter.queued).toBe(0);
    held?.();
    expect(await limiter.acquire(0)).toBeDefined();
  });

  test("releasing twice frees one slot only", async () => {
    const limiter = new ConcurrencyLimiter(1, 0);
    const release = await limiter.acquire(0);
    release?.();
    release?.();
    expect(limiter.inUse).toBe(0);
    await limiter.acquire(0);
    expect(await limiter.acquire(0)).toBeUndefined();
  });
});
