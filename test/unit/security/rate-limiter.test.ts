import { describe, expect, test } from "bun:test";
import { RateLimiter, type RateLimitSync, SYNC_CHUNK_KEYS } from "../../../src/security/rate-limiter.ts";

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

describe("RateLimiter memory is bounded, with or without Redis", () => {
  test("never tracks more consumers than maxTrackedConsumers, however many distinct ids arrive", () => {
    const rateLimiter = new RateLimiter({
      maxRequests: 10,
      windowMs: 60_000,
      syncMs: 10_000,
      maxTrackedConsumers: 10_000,
      now: () => 0,
    });
    let most = 0;
    for (let i = 0; i < 60_000; i++) {
      rateLimiter.take(`consumer-${i}`);
      most = Math.max(most, rateLimiter.trackedConsumers);
    }
    expect(most).toBeLessThanOrEqual(10_000);
    expect(rateLimiter.trackedConsumers).toBe(10_000);
  });

  test("the most recently seen consumers keep their counts when older ones are forgotten", () => {
    const rateLimiter = new RateLimiter({
      maxRequests: 1,
      windowMs: 60_000,
      syncMs: 10_000,
      maxTrackedConsumers: 1_000,
      now: () => 0,
    });
    for (let i = 0; i < 5_000; i++) rateLimiter.take(`consumer-${i}`);
    expect(rateLimiter.take("consumer-4999").allowed).toBe(false);
  });

  test("expired windows are dropped as new requests arrive, without any sync", () => {
    const clock = { now: 0 };
    const rateLimiter = new RateLimiter({
      maxRequests: 10,
      windowMs: 1_000,
      syncMs: 10_000,
      maxTrackedConsumers: 100_000,
      now: () => clock.now,
    });
    for (let i = 0; i < 50_000; i++) rateLimiter.take(`consumer-${i}`);
    expect(rateLimiter.trackedConsumers).toBe(50_000);
    clock.now = 1_000;
    rateLimiter.take("next-window");
    expect(rateLimiter.trackedConsumers).toBe(1);
  });
});

/** A shared store that records every push. */
function recordingStore() {
  const store = sharedStore();
  const pushes: Map<string, number>[] = [];
  const sync: RateLimitSync = {
    push(increments, windowMs) {
      pushes.push(new Map(increments));
      return store.sync.push(increments, windowMs);
    },
  };
  return { ...store, sync, pushes };
}

describe("RateLimiter sync work is proportional to what changed", () => {
  test("a sync pushes only the counters that changed since the last one", async () => {
    const store = recordingStore();
    const { rateLimiter } = limiter(100, store.sync);
    for (const id of ["a", "b", "c"]) rateLimiter.take(id);
    await rateLimiter.syncNow();
    rateLimiter.take("b");
    await rateLimiter.syncNow();
    expect(store.pushes.map((push) => [...push])).toEqual([
      [
        ["a:0", 1],
        ["b:0", 1],
        ["c:0", 1],
      ],
      [["b:0", 1]],
    ]);
  });

  test("a sync after traffic stops sends nothing", async () => {
    const store = recordingStore();
    const { rateLimiter } = limiter(100, store.sync);
    for (let i = 0; i < 1_000; i++) rateLimiter.take(`consumer-${i}`);
    await rateLimiter.syncNow();
    const pushes = store.pushes.length;
    await rateLimiter.syncNow();
    await rateLimiter.syncNow();
    expect(store.pushes.length).toBe(pushes);
  });

  test("50,000 changed counters are pushed in chunks of at most SYNC_CHUNK_KEYS keys, each once", async () => {
    const store = recordingStore();
    const { rateLimiter } = limiter(100, store.sync);
    for (let i = 0; i < 50_000; i++) rateLimiter.take(`consumer-${i}`);
    await rateLimiter.syncNow();
    expect(Math.max(...store.pushes.map((push) => push.size))).toBeLessThanOrEqual(SYNC_CHUNK_KEYS);
    expect(store.pushes.reduce((keys, push) => keys + push.size, 0)).toBe(50_000);
    expect(store.counts.size).toBe(50_000);
  });

  test("consumers new to an instance do not each trigger a sync", async () => {
    const store = recordingStore();
    const rateLimiter = new RateLimiter({
      maxRequests: 10,
      windowMs: 60_000,
      syncMs: 60_000,
      sync: store.sync,
    });
    rateLimiter.start();
    try {
      for (let i = 0; i < 100; i++) rateLimiter.take(`new-${i}`);
      await Bun.sleep(0);
      expect(store.pushes).toHaveLength(0);
    } finally {
      rateLimiter.stop();
    }
  });

  test("a failed chunk is pushed again by the next sync, and what others counted is learned then", async () => {
    const store = recordingStore();
    const a = limiter(5, store.sync).rateLimiter;
    const b = limiter(5, store.sync).rateLimiter;
    for (let i = 0; i < 3; i++) a.take("x");
    store.setAvailable(false);
    await a.syncNow();
    store.setAvailable(true);
    b.take("x");
    await b.syncNow();
    await a.syncNow();
    expect(store.counts.get("x:0")).toBe(4);
    await b.syncNow();
    b.take("x");
    await b.syncNow();
    expect(b.take("x").allowed).toBe(false);
  });
});
