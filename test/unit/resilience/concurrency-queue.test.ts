import { afterEach, describe, expect, jest, test } from "bun:test";
import { ConcurrencyLimiter } from "../../../src/resilience/concurrency.ts";
import { hasFreeSlot } from "./support/free-slot.ts";

/**
 * The limiter in front of the Kong Admin API: `limit` calls at once, `queueLimit` waiting, each
 * waiter for at most its own wait. Timers are faked, so the wait is measured exactly.
 */
const settled = <T>(promise: Promise<T>) => {
  const state: { done: boolean; value?: T } = { done: false };
  void promise.then((value) => {
    state.done = true;
    state.value = value;
  });
  return state;
};
const flush = () => new Promise<void>((resolve) => queueMicrotask(resolve)).then(() => Promise.resolve());

afterEach(() => {
  jest.useRealTimers();
});

describe("ConcurrencyLimiter: queue bound and wait timeout", () => {
  test("a waiter is refused exactly when its wait runs out, not a millisecond before", async () => {
    jest.useFakeTimers();
    const limiter = new ConcurrencyLimiter(1, 5);
    const held = await limiter.acquire(0);
    const waiter = settled(limiter.acquire(1000));
    jest.advanceTimersByTime(999);
    await flush();
    expect(waiter.done).toBe(false);
    jest.advanceTimersByTime(1);
    await flush();
    expect(waiter).toEqual({ done: true, value: undefined });
    expect(await hasFreeSlot(limiter)).toBe(false);
    // It left the queue: the release frees the slot instead of handing it to the one that gave up.
    held?.();
    expect(await hasFreeSlot(limiter)).toBe(true);
  });

  test("the queue holds exactly queueLimit waiters; the next is refused at once and never queued", async () => {
    jest.useFakeTimers();
    const limiter = new ConcurrencyLimiter(1, 2);
    const held = await limiter.acquire(0);
    const first = settled(limiter.acquire(1000));
    const second = settled(limiter.acquire(1000));
    const refused = settled(limiter.acquire(1000));
    await flush();
    // Refused with no time passing at all.
    expect(refused).toEqual({ done: true, value: undefined });
    held?.();
    await flush();
    expect(first.done).toBe(true);
    expect(typeof first.value).toBe("function");
    expect(second.done).toBe(false);
    expect(await hasFreeSlot(limiter)).toBe(false);
    (first.value as () => void)();
    await flush();
    expect(typeof second.value).toBe("function");
    // The queue did not grow: once the second waiter is done, the slot is free for anyone.
    (second.value as () => void)();
    expect(await hasFreeSlot(limiter)).toBe(true);
  });

  test("with no queue at all, a caller beyond the limit is refused at once", async () => {
    const limiter = new ConcurrencyLimiter(2, 0);
    expect(await limiter.acquire(1000)).toBeDefined();
    expect(await limiter.acquire(1000)).toBeDefined();
    expect(await limiter.acquire(1000)).toBeUndefined();
  });

  test("a caller that will not wait is refused at once, even when a slot frees right after", async () => {
    const limiter = new ConcurrencyLimiter(1, 5);
    const held = await limiter.acquire(0);
    const impatient = limiter.acquire(0);
    held?.();
    expect(await impatient).toBeUndefined();
    expect(await hasFreeSlot(limiter)).toBe(true);
  });

  test("waiters are served in arrival order, each release handing its slot to the oldest", async () => {
    const limiter = new ConcurrencyLimiter(1, 5);
    const order: string[] = [];
    const held = await limiter.acquire(0);
    const a = limiter.acquire(5000).then((release) => {
      order.push("a");
      return release;
    });
    const b = limiter.acquire(5000).then((release) => {
      order.push("b");
      return release;
    });
    held?.();
    const releaseA = await a;
    expect(order).toEqual(["a"]);
    expect(await hasFreeSlot(limiter)).toBe(false);
    releaseA?.();
    const releaseB = await b;
    expect(order).toEqual(["a", "b"]);
    releaseB?.();
    expect(await hasFreeSlot(limiter)).toBe(true);
  });

  test("a waiter that timed out takes no slot: the next release goes to the one still waiting", async () => {
    jest.useFakeTimers();
    const limiter = new ConcurrencyLimiter(1, 5);
    const held = await limiter.acquire(0);
    const gaveUp = settled(limiter.acquire(100));
    const patient = settled(limiter.acquire(10_000));
    jest.advanceTimersByTime(100);
    await flush();
    expect(gaveUp).toEqual({ done: true, value: undefined });
    held?.();
    await flush();
    expect(patient.done).toBe(true);
    expect(typeof patient.value).toBe("function");
    expect(await hasFreeSlot(limiter)).toBe(false);
    (patient.value as () => void)();
    expect(await hasFreeSlot(limiter)).toBe(true);
  });

  test("a waiter granted a slot is done with waiting: its wait running out later changes nothing", async () => {
    jest.useFakeTimers();
    const limiter = new ConcurrencyLimiter(1, 5);
    const held = await limiter.acquire(0);
    const granted = settled(limiter.acquire(100));
    const next = settled(limiter.acquire(10_000));
    held?.();
    await flush();
    expect(typeof granted.value).toBe("function");
    // Past the granted waiter's own wait: the one behind it is still in line, and served next.
    jest.advanceTimersByTime(1000);
    await flush();
    expect(next.done).toBe(false);
    (granted.value as () => void)();
    await flush();
    expect(typeof next.value).toBe("function");
    expect(await hasFreeSlot(limiter)).toBe(false);
    (next.value as () => void)();
    expect(await hasFreeSlot(limiter)).toBe(true);
  });
});
