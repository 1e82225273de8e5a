import { describe, expect, test } from "bun:test";
import { RateLimiter, type RateLimitSync } from "../../../src/security/rate-limiter.ts";

function limiter(max: number, sync?: RateLimitSync, start = 0) {
  const clock = { now: start };
  const rateLimiter = new RateLimiter({
    maxRequests: max,
    windowMs: 1000,
    syncMs: 10_000,
    now: () => clock.now,
    ...(sync ? { sync } : {}),
  });
  return { rateLimiter, clock };
}

/** A shared store like Redis: INCRBY per key. */
function sharedStore() {
  const counts = new Map<string, number>();
  let available = true;
  const sync: RateLimitSync = {
    async push(increments) {
      if (!available) return undefined;
      for (const [key, value] of increments) counts.set(key, (counts.get(key) ?? 0) + value);
      return new Map([...increments.keys()].map((key) => [key, counts.get(key) ?? 0]));
    },
  };
  return { sync, counts, setAvailable: (value: boolean) => (available = value) };
}

describe("RateLimiter", () => {
  test("allows up to the limit per window and consumer, with remaining and reset", () => {
    const { rateLimiter, clock } = limiter(3, undefined, 10_250);
    expect([1, 2, 3].map(() => rateLimiter.take("a").remaining)).toEqual([2, 1, 0]);
    const refused = rateLimiter.take("a");
    expect(refused).toEqual({ allowed: false, limit: 3, remaining: 0, resetSeconds: 1 });
    expect(rateLimiter.take("b").allowed).toBe(true);
    clock.now = 11_000;
    expect(rateLimiter.take("a")).toMatchObject({ allowed: true, remaining: 2 });
  });

  test("refused requests do not use up the next window", () => {
    const { rateLimiter, clock } = limiter(1);
    rateLimiter.take("a");
    for (let i = 0; i < 10; i++) expect(rateLimiter.take("a").allowed).toBe(false);
    clock.now = 1000;
    expect(rateLimiter.take("a").allowed).toBe(true);
  });

  test("instances sharing a store enforce one limit after a sync", async () => {
    const store = sharedStore();
    const a = limiter(10, store.sync).rateLimiter;
    const b = limiter(10, store.sync).rateLimiter;
    for (let i = 0; i < 7; i++) a.take("c");
    await a.syncNow();
    b.take("c");
    await b.syncNow();
    const allowed = Array.from({ length: 5 }, () => b.take("c").allowed);
    expect(allowed).toEqual([true, true, false, false, false]);
    expect(store.counts.get("c:0")).toBe(8);
  });

  test("increments made while a sync is in flight are not lost", async () => {
    const store = sharedStore();
    const { rateLimiter } = limiter(100, store.sync);
    rateLimiter.take("d");
    const syncing = rateLimiter.syncNow();
    rateLimiter.take("d");
    await syncing;
    await rateLimiter.syncNow();
    expect(store.counts.get("d:0")).toBe(2);
  });

  test("while the store is unavailable, counts stay local and are pushed once it is back", async () => {
    const store = sharedStore();
    let failures = 0;
    let recoveries = 0;
    const rateLimiter = new RateLimiter({
      maxRequests: 3,
      windowMs: 1000,
      syncMs: 10_000,
      sync: store.sync,
      now: () => 0,
      onSyncFailure: () => failures++,
      onSyncRecovered: () => recoveries++,
    });
    store.setAvailable(false);
    rateLimiter.take("e");
    rateLimiter.take("e");
    await rateLimiter.syncNow();
    await rateLimiter.syncNow();
    expect(failures).toBe(1);
    expect(rateLimiter.take("e").allowed).toBe(true);
    expect(rateLimiter.take("e").allowed).toBe(false);
    store.setAvailable(true);
    await rateLimiter.syncNow();
    expect(recoveries).toBe(1);
    expect(store.counts.get("e:0")).toBe(3);
  });
});
