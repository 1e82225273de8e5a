import { describe, expect, test } from "bun:test";
import { ConcurrencyLimiter } from "../../../src/resilience/concurrency.ts";
import { within } from "../../support/wait.ts";
import { hasFreeSlot } from "./support/free-slot.ts";

describe("ConcurrencyLimiter", () => {
  test("runs up to the limit at once; the next waits for a release", async () => {
    const limiter = new ConcurrencyLimiter(2, 5);
    const first = await limiter.acquire(100);
    const second = await limiter.acquire(100);
    expect(await hasFreeSlot(limiter)).toBe(false);
    let third: (() => void) | undefined;
    const waiting = limiter.acquire(1000).then((release) => {
      third = release;
    });
    // Nothing but a release may serve it: a timer turn gives a wrong grant its chance to show.
    await Bun.sleep(5);
    expect(third).toBeUndefined();
    first?.();
    await waiting;
    expect(third).toBeDefined();
    expect(await hasFreeSlot(limiter)).toBe(false);
    second?.();
    third?.();
    expect(await limiter.acquire(0)).toBeDefined();
    expect(await limiter.acquire(0)).toBeDefined();
    expect(await limiter.acquire(0)).toBeUndefined();
  });

  test("a full queue refuses at once, and the waiter already in it is still served", async () => {
    const limiter = new ConcurrencyLimiter(1, 1);
    const held = await limiter.acquire(100);
    const queued = limiter.acquire(60_000);
    // "At once" as opposed to after the minute it was willing to wait; loose for a loaded machine.
    expect(await within(2_000, limiter.acquire(60_000))).toBeUndefined();
    held?.();
    expect(await queued).toBeDefined();
  });

  test("a waiter gives up after its wait and leaves the queue", async () => {
    const limiter = new ConcurrencyLimiter(1, 5);
    const held = await limiter.acquire(100);
    expect(await limiter.acquire(30)).toBeUndefined();
    held?.();
    // Had it stayed in the queue, the release would have handed it the slot.
    expect(await limiter.acquire(0)).toBeDefined();
  });

  test("releasing twice frees one slot only", async () => {
    const limiter = new ConcurrencyLimiter(1, 0);
    const release = await limiter.acquire(0);
    release?.();
    release?.();
    await limiter.acquire(0);
    expect(await limiter.acquire(0)).toBeUndefined();
  });
});
