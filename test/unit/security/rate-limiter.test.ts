import { describe, expect, jest, test } from "bun:test";
import {
  RateLimiter,
  type RateLimiterOptions,
  type RateLimitSync,
  SYNC_CHUNK_KEYS,
} from "../../../src/security/rate-limiter.ts";

/**
 * A limiter on a clock the test sets (from `start`), with 1 s windows, syncing only when the test asks,
 * unless `options` say otherwise.
 */
function limiter(max: number, options: Partial<RateLimiterOptions> = {}, start = 0) {
  const clock = { now: start };
  const rateLimiter = new RateLimiter({
    maxRequests: max,
    windowMs: 1000,
    syncMs: 10_000,
    now: () => clock.now,
    ...options,
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
    const { rateLimiter, clock } = limiter(3, {}, 10_250);
    expect([1, 2, 3].map(() => rateLimiter.take("a").remaining)).toEqual([2, 1, 0]);
    const refused = rateLimiter.take("a");
    expect(refused).toEqual({ allowed: false, limit: 3, remaining: 0, resetSeconds: 1 });
    expect(rateLimiter.take("b").allowed).toBe(true);
    clock.now = 11_000;
    expect(rateLimiter.take("a")).toMatchObject({ allowed: true, remaining: 2 });
  });

  test("the reset counts whole seconds to the end of the clock-aligned window, never 0", () => {
    const { rateLimiter, clock } = limiter(1, { windowMs: 60_000 }, 120_000);
    const resetAt = (now: number) => {
      clock.now = now;
      return rateLimiter.take(`at-${now}`).resetSeconds;
    };
    expect(resetAt(120_000)).toBe(60);
    expect(resetAt(140_000)).toBe(40);
    expect(resetAt(140_001)).toBe(40);
    expect(resetAt(179_000)).toBe(1);
    expect(resetAt(179_999)).toBe(1);
    clock.now = 179_999;
    expect(rateLimiter.take("at-179999")).toEqual({
      allowed: false,
      limit: 1,
      remaining: 0,
      resetSeconds: 1,
    });
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
    const a = limiter(10, { sync: store.sync }).rateLimiter;
    const b = limiter(10, { sync: store.sync }).rateLimiter;
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
    const { rateLimiter } = limiter(100, { sync: store.sync });
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
    const { rateLimiter } = limiter(3, {
      sync: store.sync,
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
    const { rateLimiter } = limiter(10, { windowMs: 60_000, maxTrackedConsumers: 1_000 });
    let most = 0;
    for (let i = 0; i < 6_000; i++) {
      rateLimiter.take(`consumer-${i}`);
      most = Math.max(most, rateLimiter.trackedConsumers);
    }
    expect(most).toBeLessThanOrEqual(1_000);
    expect(rateLimiter.trackedConsumers).toBe(1_000);
  });

  test("the most recently seen consumers keep their counts when older ones are forgotten", () => {
    const { rateLimiter } = limiter(1, { windowMs: 60_000, maxTrackedConsumers: 1_000 });
    for (let i = 0; i < 5_000; i++) rateLimiter.take(`consumer-${i}`);
    expect(rateLimiter.take("consumer-4999").allowed).toBe(false);
  });

  test("expired windows are dropped as new requests arrive, without any sync", () => {
    const { rateLimiter, clock } = limiter(10, { maxTrackedConsumers: 100_000 });
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
    const { rateLimiter } = limiter(100, { sync: store.sync });
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
    const { rateLimiter } = limiter(100, { sync: store.sync });
    for (let i = 0; i < 1_000; i++) rateLimiter.take(`consumer-${i}`);
    await rateLimiter.syncNow();
    const pushes = store.pushes.length;
    await rateLimiter.syncNow();
    await rateLimiter.syncNow();
    expect(store.pushes.length).toBe(pushes);
  });

  test("50,000 changed counters are pushed in chunks of at most SYNC_CHUNK_KEYS keys, each once", async () => {
    const store = recordingStore();
    const { rateLimiter } = limiter(100, { sync: store.sync });
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
      // A timer turn: a sync that take() set off at once would have pushed by now.
      await Bun.sleep(0);
      expect(store.pushes).toHaveLength(0);
    } finally {
      rateLimiter.stop();
    }
  });

  test("a failed chunk is pushed again by the next sync, and what others counted is learned then", async () => {
    const store = recordingStore();
    const a = limiter(5, { sync: store.sync }).rateLimiter;
    const b = limiter(5, { sync: store.sync }).rateLimiter;
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

/** A shared store whose answers the test releases one at a time (or refuses, as an unavailable Redis). */
function gatedStore() {
  const store = sharedStore();
  const pushes: Map<string, number>[] = [];
  const waiting: ((answer: "answer" | "unavailable") => void)[] = [];
  let inFlight = 0;
  let most = 0;
  const sync: RateLimitSync = {
    push(increments, windowMs) {
      pushes.push(new Map(increments));
      inFlight++;
      most = Math.max(most, inFlight);
      return new Promise((resolve) => {
        waiting.push((answer) => {
          inFlight--;
          resolve(answer === "answer" ? store.sync.push(increments, windowMs) : undefined);
        });
      });
    },
  };
  return {
    ...store,
    sync,
    pushes,
    get mostInFlight() {
      return most;
    },
    get waiting() {
      return waiting.length;
    },
    release(answer: "answer" | "unavailable" = "answer") {
      const next = waiting.shift();
      if (!next) throw new Error("no push is waiting");
      next(answer);
    },
  };
}

/** Lets promise continuations run (the fake stores answer without any I/O). */
async function settle() {
  for (let i = 0; i < 20; i++) await Promise.resolve();
}

const ids = (label: string, count: number) => Array.from({ length: count }, (_, i) => `${label}-${i}`);

describe("RateLimiter sync: one call at a time, outages and recovery", () => {
  test("a sync asked for while one is in flight does nothing; what changed meanwhile goes with the next", async () => {
    const store = gatedStore();
    const { rateLimiter } = limiter(100, { sync: store.sync });
    rateLimiter.take("a");
    const first = rateLimiter.syncNow();
    rateLimiter.take("b");
    await rateLimiter.syncNow();
    expect(store.waiting).toBe(1);
    store.release();
    await first;
    const next = rateLimiter.syncNow();
    store.release();
    await next;
    expect(store.mostInFlight).toBe(1);
    expect(store.pushes.map((push) => [...push])).toEqual([[["a:0", 1]], [["b:0", 1]]]);
  });

  test("while the store is unavailable a sync makes one attempt, not one per chunk; the rest goes once it is back", async () => {
    const store = recordingStore();
    const { rateLimiter } = limiter(100, { sync: store.sync });
    const consumers = ids("c", SYNC_CHUNK_KEYS * 2 + 1);
    for (const id of consumers) rateLimiter.take(id);
    store.setAvailable(false);
    await rateLimiter.syncNow();
    expect(store.pushes).toHaveLength(1);
    expect(rateLimiter.pendingConsumers).toBe(consumers.length);
    store.setAvailable(true);
    await rateLimiter.syncNow();
    expect(rateLimiter.pendingConsumers).toBe(0);
    expect([...store.counts.keys()].sort()).toEqual(consumers.map((id) => `${id}:0`).sort());
    expect([...store.counts.values()].every((count) => count === 1)).toBe(true);
  });

  test("when a later chunk fails, the chunks already pushed are not pushed again", async () => {
    const store = gatedStore();
    const { rateLimiter } = limiter(100, { sync: store.sync });
    const consumers = ids("c", SYNC_CHUNK_KEYS + 5);
    for (const id of consumers) rateLimiter.take(id);
    const failing = rateLimiter.syncNow();
    store.release();
    await settle();
    store.release("unavailable");
    await failing;
    expect(rateLimiter.pendingConsumers).toBe(5);
    const retry = rateLimiter.syncNow();
    store.release();
    await retry;
    expect(store.pushes.map((push) => push.size)).toEqual([SYNC_CHUNK_KEYS, 5, 5]);
    expect([...store.counts.values()].every((count) => count === 1)).toBe(true);
  });

  test("an outage is reported once when it starts and recovery once when it ends, each time", async () => {
    const store = recordingStore();
    let failures = 0;
    let recoveries = 0;
    const { rateLimiter } = limiter(100, {
      sync: store.sync,
      onSyncFailure: () => failures++,
      onSyncRecovered: () => recoveries++,
    });
    const syncAfterRequest = async () => {
      rateLimiter.take("r");
      await rateLimiter.syncNow();
    };
    await syncAfterRequest();
    await syncAfterRequest();
    expect({ failures, recoveries }).toEqual({ failures: 0, recoveries: 0 });
    store.setAvailable(false);
    await syncAfterRequest();
    await syncAfterRequest();
    expect({ failures, recoveries }).toEqual({ failures: 1, recoveries: 0 });
    store.setAvailable(true);
    await syncAfterRequest();
    await syncAfterRequest();
    expect({ failures, recoveries }).toEqual({ failures: 1, recoveries: 1 });
    store.setAvailable(false);
    await syncAfterRequest();
    expect({ failures, recoveries }).toEqual({ failures: 2, recoveries: 1 });
  });

  test("requests allowed while a push is in flight are not counted twice when the total comes back", async () => {
    const store = gatedStore();
    const a = limiter(10, { sync: store.sync }).rateLimiter;
    const b = limiter(10, { sync: store.sync }).rateLimiter;
    for (let i = 0; i < 4; i++) b.take("x");
    const fromB = b.syncNow();
    store.release();
    await fromB;
    for (let i = 0; i < 3; i++) a.take("x");
    const fromA = a.syncNow();
    a.take("x");
    a.take("x");
    store.release();
    await fromA;
    // 4 from b, 5 from a: one request left of 10.
    expect(a.take("x")).toMatchObject({ allowed: true, remaining: 0 });
    expect(a.take("x").allowed).toBe(false);
  });

  test("a store that answers without some consumer's total leaves that consumer limited on its own counts", async () => {
    const sync: RateLimitSync = {
      async push(increments) {
        const [first] = increments.keys();
        return new Map(first === undefined ? [] : [[first, 50]]);
      },
    };
    const { rateLimiter } = limiter(3, { sync });
    rateLimiter.take("known");
    rateLimiter.take("unknown");
    await rateLimiter.syncNow();
    expect(rateLimiter.take("known").allowed).toBe(false);
    expect([
      rateLimiter.take("unknown"),
      rateLimiter.take("unknown"),
      rateLimiter.take("unknown"),
    ]).toMatchObject([{ allowed: true, remaining: 1 }, { allowed: true, remaining: 0 }, { allowed: false }]);
  });
});

describe("RateLimiter sync: windows that end and consumers that are forgotten", () => {
  test("counts of a window that has ended are not pushed into the next window's key", async () => {
    const store = recordingStore();
    const { rateLimiter, clock } = limiter(100, { sync: store.sync });
    rateLimiter.take("old");
    clock.now = 1_000;
    await rateLimiter.syncNow();
    expect(store.pushes).toHaveLength(0);
    expect(rateLimiter.pendingConsumers).toBe(0);
  });

  test("a chunk holding only ended windows does not stop the chunks after it", async () => {
    const store = recordingStore();
    const { rateLimiter, clock } = limiter(100, { sync: store.sync });
    for (const id of ids("old", SYNC_CHUNK_KEYS)) rateLimiter.take(id);
    clock.now = 1_000;
    rateLimiter.take("current");
    await rateLimiter.syncNow();
    expect(store.pushes.map((push) => [...push])).toEqual([[["current:1", 1]]]);
  });

  test("consumers forgotten while a sync is in flight are skipped, and the sync completes", async () => {
    const store = gatedStore();
    const { rateLimiter } = limiter(100, { windowMs: 60_000, maxTrackedConsumers: 40, sync: store.sync });
    for (const id of ids("first", 40)) rateLimiter.take(id);
    const syncing = rateLimiter.syncNow();
    for (const id of ids("flood", 40)) rateLimiter.take(id);
    store.release();
    await syncing;
    expect(store.pushes.map((push) => push.size)).toEqual([SYNC_CHUNK_KEYS]);
    expect(rateLimiter.pendingConsumers).toBe(40);
    const next = rateLimiter.syncNow();
    store.release();
    await settle();
    store.release();
    await next;
    expect(store.pushes.map((push) => push.size)).toEqual([SYNC_CHUNK_KEYS, SYNC_CHUNK_KEYS, 8]);
  });

  test("a chunk whose consumers were all forgotten meanwhile does not hold back the chunks after it", async () => {
    const store = gatedStore();
    const { rateLimiter } = limiter(100, {
      windowMs: 60_000,
      maxTrackedConsumers: SYNC_CHUNK_KEYS * 3,
      sync: store.sync,
    });
    const [first, idle, last] = ["first", "idle", "last"].map((label) => ids(label, SYNC_CHUNK_KEYS)) as [
      string[],
      string[],
      string[],
    ];
    // "idle" are the oldest counters but wait in the second chunk, behind "first".
    for (const id of idle) rateLimiter.take(id);
    const initial = rateLimiter.syncNow();
    store.release();
    await initial;
    for (const id of [...first, ...idle, ...last]) rateLimiter.take(id);
    const syncing = rateLimiter.syncNow();
    for (const id of ids("newcomer", SYNC_CHUNK_KEYS)) rateLimiter.take(id);
    store.release();
    await settle();
    store.release();
    await syncing;
    expect(store.pushes.slice(1).map((push) => [...push.keys()])).toEqual([
      first.map((id) => `${id}:0`),
      last.map((id) => `${id}:0`),
    ]);
  });

  test("consumers waiting for a sync stay within maxTrackedConsumers under a flood, even while the store is down", async () => {
    const store = gatedStore();
    const { rateLimiter } = limiter(100, { windowMs: 60_000, maxTrackedConsumers: 40, sync: store.sync });
    for (const id of ids("between-syncs", 1_000)) rateLimiter.take(id);
    expect(rateLimiter.pendingConsumers).toBe(40);
    const failing = rateLimiter.syncNow();
    for (const id of ids("during-a-hung-call", 1_000)) rateLimiter.take(id);
    store.release("unavailable");
    await failing;
    expect(rateLimiter.trackedConsumers).toBe(40);
    expect(rateLimiter.pendingConsumers).toBe(40);
  });

  test("a successful sync leaves nothing waiting; without a store nothing ever waits and a sync does nothing", async () => {
    const store = recordingStore();
    const shared = limiter(100, { sync: store.sync }).rateLimiter;
    for (const id of ids("c", 100)) shared.take(id);
    expect(shared.pendingConsumers).toBe(100);
    await shared.syncNow();
    expect(shared.pendingConsumers).toBe(0);

    const alone = limiter(100).rateLimiter;
    for (const id of ids("c", 100)) alone.take(id);
    expect(alone.pendingConsumers).toBe(0);
    await alone.syncNow();
    expect(alone.take("c-0")).toMatchObject({ allowed: true, remaining: 98 });
  });
});

describe("RateLimiter periodic sync", () => {
  test("the sync timer does not keep the process alive", async () => {
    const script = `
      import { RateLimiter } from ${JSON.stringify(`${import.meta.dir}/../../../src/security/rate-limiter.ts`)};
      new RateLimiter({ maxRequests: 1, windowMs: 1000, syncMs: 10, sync: { push: async () => new Map() } }).start();
    `;
    const child = Bun.spawn([process.execPath, "-e", script], { stdout: "ignore", stderr: "inherit" });
    let deadline: ReturnType<typeof setTimeout> | undefined;
    const stillRunning = new Promise<string>((resolve) => {
      deadline = setTimeout(() => resolve("still running"), 8_000);
    });
    const outcome = await Promise.race([child.exited, stillRunning]);
    clearTimeout(deadline);
    child.kill();
    expect(outcome).toBe(0);
  }, 12_000);

  test("start syncs every syncMs; stop ends it, even after start was called twice", async () => {
    jest.useFakeTimers();
    try {
      const store = recordingStore();
      const { rateLimiter } = limiter(100, { windowMs: 60_000, syncMs: 100, sync: store.sync });
      rateLimiter.start();
      rateLimiter.start();
      for (let tick = 1; tick <= 3; tick++) {
        rateLimiter.take("p");
        jest.advanceTimersByTime(100);
        await settle();
        expect(store.pushes).toHaveLength(tick);
      }
      rateLimiter.stop();
      rateLimiter.take("p");
      jest.advanceTimersByTime(1_000);
      await settle();
      expect(store.pushes).toHaveLength(3);
      expect(rateLimiter.pendingConsumers).toBe(1);
    } finally {
      jest.useRealTimers();
    }
  });
});
