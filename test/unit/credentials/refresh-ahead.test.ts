import { afterEach, describe, expect, test } from "bun:test";
import type { CachedCredential } from "../../../src/cache/types.ts";
import {
  RefreshAhead,
  type RefreshAheadParts,
  type RefreshOutcome,
} from "../../../src/credentials/refresh-ahead.ts";
import { succeeded } from "../../../src/kong/result.ts";
import { KongEmulator, type KongMode } from "../../support/kong-emulator.ts";
import { redisClient } from "../../support/redis.ts";
import { waitFor } from "../../support/wait.ts";
import {
  EPOCH,
  FRESH_MS,
  found,
  type Instance,
  type InstanceOptions,
  manualClock,
  SharedRedis,
  startInstance,
  UNKNOWN_CONSUMER,
} from "./instances.ts";

/**
 * Refresh-ahead over the real credential path: instances of CredentialService sharing one emulated
 * Kong, one real Redis (a prefix of their own) and one injected clock. An entry served in the last
 * fifth of its lifetime (ratio 0.8) is refreshed in the background, once per lifetime across all
 * instances, and the answer never waits for it.
 */
const RATIO = 0.8;
const WINDOW_STARTS = FRESH_MS * RATIO;

const cleanups: (() => Promise<void> | void)[] = [];
afterEach(async () => {
  for (const cleanup of cleanups.splice(0).reverse()) await cleanup();
});

type Options = Partial<Omit<InstanceOptions, "emulator" | "clock" | "redis">> & {
  shared?: boolean;
  mode?: KongMode;
};

async function setup(options: Options = {}) {
  const { shared = true, mode = "API_GATEWAY", ...rest } = options;
  const emulator = KongEmulator.start({ mode });
  const clock = manualClock(EPOCH);
  const redis = shared ? new SharedRedis() : undefined;
  cleanups.push(() => emulator.stop());
  if (redis) cleanups.push(() => redis.close());
  const instance = async () => {
    const started = await startInstance({
      emulator,
      clock,
      refreshAheadRatio: RATIO,
      ...(redis ? { redis } : {}),
      ...rest,
    });
    cleanups.push(started.stop);
    return started;
  };
  return { emulator, clock, redis, instance };
}

/** Resolves once `instance` has counted `count` refresh outcomes in all. */
function settled(instance: Instance, count: number) {
  return waitFor(() => instance.refreshes.length >= count, `${count} refresh outcome(s)`);
}

const credentialLists = (emulator: KongEmulator) =>
  emulator.countCalls({ method: "GET", pathIncludes: "/jwt" });

describe("refresh-ahead: an entry served late in its lifetime is refreshed in the background", () => {
  test("once per lifetime across two instances: one claims it, the other leaves it, the next lifetime again once", async () => {
    const { emulator, clock, redis, instance } = await setup();
    const [a, b] = [await instance(), await instance()];
    const alice = emulator.addConsumer({ username: "alice" });
    const credential = emulator.addCredential(alice.id);
    await a.service.lookup(alice.id, "alice");
    expect(found(await b.service.lookup(alice.id, "alice")).source).toBe("redis");
    emulator.resetCalls();

    clock.advance(WINDOW_STARTS);
    // Both answer at once from memory, with the entry they hold.
    expect(a.service.cached(alice.id)?.key).toBe(credential.key);
    expect(b.service.cached(alice.id)?.key).toBe(credential.key);
    await Promise.all([settled(a, 1), settled(b, 1)]);
    expect([...a.refreshes, ...b.refreshes].sort()).toEqual(["claimed_elsewhere", "refreshed"]);
    expect(credentialLists(emulator)).toBe(1);

    // The claim lasts as long as the lifetime it is for, no longer.
    const client = await redisClient();
    const claims = await client.keys(`${redis?.prefix}:refresh:*`);
    expect(claims).toEqual([`${redis?.prefix}:refresh:${alice.id}:${EPOCH}`]);
    const pttl = await client.pTTL(claims[0] as string);
    await client.close();
    expect(pttl).toBeGreaterThan(0);
    expect(pttl).toBeLessThanOrEqual(FRESH_MS - WINDOW_STARTS);

    // When the first lifetime ends, neither instance waits on Kong: one refreshed its memory, the other
    // finds the new entry in Redis.
    clock.advance(FRESH_MS - WINDOW_STARTS);
    const refresher = a.refreshes[0] === "refreshed" ? a : b;
    const other = refresher === a ? b : a;
    expect(refresher.service.cached(alice.id)?.fetchedAt).toBe(EPOCH + WINDOW_STARTS);
    expect(other.service.cached(alice.id)).toBeUndefined();
    const next = found(await other.service.lookup(alice.id, "alice"));
    expect(next.source).toBe("redis");
    expect(next.credential.fetchedAt).toBe(EPOCH + WINDOW_STARTS);
    expect(credentialLists(emulator)).toBe(1);

    // The new lifetime's own window: refreshed once more, by one instance.
    clock.advance(WINDOW_STARTS - (FRESH_MS - WINDOW_STARTS));
    a.service.cached(alice.id);
    b.service.cached(alice.id);
    await Promise.all([settled(a, 2), settled(b, 2)]);
    expect([...a.refreshes, ...b.refreshes].filter((o) => o === "refreshed")).toHaveLength(2);
    expect(credentialLists(emulator)).toBe(2);
  });

  test("an entry is not refreshed before its window, and only once however often it is served in it", async () => {
    const { emulator, clock, instance } = await setup();
    const a = await instance();
    const [early, late] = [
      emulator.addConsumer({ username: "early" }),
      emulator.addConsumer({ username: "late" }),
    ];
    emulator.addCredential(early.id);
    emulator.addCredential(late.id);
    await a.service.lookup(early.id, "early");
    clock.advance(1);
    await a.service.lookup(late.id, "late");
    emulator.resetCalls();

    // The window of `early` has just begun; `late`'s begins a millisecond later.
    clock.advance(WINDOW_STARTS - 1);
    expect(a.service.cached(late.id)).toBeDefined();
    for (let i = 0; i < 5; i++) expect(a.service.cached(early.id)).toBeDefined();
    await settled(a, 1);
    // Then `late` enters its window: its refresh, started after every one of early's, ends last.
    clock.advance(1);
    expect(a.service.cached(late.id)).toBeDefined();
    await settled(a, 2);
    expect(a.refreshes).toEqual(["refreshed", "refreshed"]);
    expect(credentialLists(emulator)).toBe(2);
    // Each was refreshed when served inside its window, not before.
    expect(a.service.cached(early.id)?.fetchedAt).toBe(EPOCH + WINDOW_STARTS);
    expect(a.service.cached(late.id)?.fetchedAt).toBe(EPOCH + 1 + WINDOW_STARTS);
  });

  test("without Redis, each instance refreshes on its own, concurrent refreshes and lookups sharing one Kong call", async () => {
    const { emulator, clock, instance } = await setup({ shared: false });
    const [a, b] = [await instance(), await instance()];
    const bob = emulator.addConsumer({ username: "bob" });
    emulator.addCredential(bob.id);
    await a.service.lookup(bob.id, "bob");
    await b.service.lookup(bob.id, "bob");
    emulator.resetCalls();

    clock.advance(WINDOW_STARTS);
    expect(a.service.cached(bob.id)).toBeDefined();
    // A lookup while the refresh is in flight joins it rather than asking Kong again.
    const joined = a.service.lookup(bob.id, "bob");
    expect(b.service.cached(bob.id)).toBeDefined();
    await Promise.all([settled(a, 1), settled(b, 1)]);
    expect(found(await joined).credential.fetchedAt).toBe(EPOCH + WINDOW_STARTS);
    expect([...a.refreshes, ...b.refreshes]).toEqual(["refreshed", "refreshed"]);
    expect(credentialLists(emulator)).toBe(2);
    expect(a.service.cached(bob.id)?.fetchedAt).toBe(EPOCH + WINDOW_STARTS);
  });

  test("with Redis configured but down, the instance still refreshes its own entry", async () => {
    const { emulator, clock, instance } = await setup({ shared: false, redisDown: true });
    const a = await instance();
    const carl = emulator.addConsumer({ username: "carl" });
    emulator.addCredential(carl.id);
    await a.service.lookup(carl.id, "carl");
    clock.advance(WINDOW_STARTS);
    a.service.cached(carl.id);
    await settled(a, 1);
    expect(a.refreshes).toEqual(["refreshed"]);
    expect(a.service.cached(carl.id)?.fetchedAt).toBe(EPOCH + WINDOW_STARTS);
  });

  test("a credential rotated in Kong is picked up by the refresh, and reaches the other instance through Redis", async () => {
    const { emulator, clock, instance } = await setup();
    const [a, b] = [await instance(), await instance()];
    const dana = emulator.addConsumer({ username: "dana" });
    const old = emulator.addCredential(dana.id);
    await a.service.lookup(dana.id, "dana");
    await b.service.lookup(dana.id, "dana");
    emulator.removeCredential(dana.id, old.id);
    const rotated = emulator.addCredential(dana.id);

    clock.advance(WINDOW_STARTS);
    expect(a.service.cached(dana.id)?.key).toBe(old.key);
    await settled(a, 1);
    expect(a.refreshes).toEqual(["refreshed"]);
    expect(a.service.cached(dana.id)?.key).toBe(rotated.key);

    clock.advance(FRESH_MS - WINDOW_STARTS);
    expect(b.service.cached(dana.id)).toBeUndefined();
    expect(found(await b.service.lookup(dana.id, "dana")).credential.key).toBe(rotated.key);
  });

  test("a consumer deleted in Kong is forgotten by the refresh: no tier signs for it any more", async () => {
    const { emulator, clock, instance } = await setup();
    const a = await instance();
    const erin = emulator.addConsumer({ username: "erin" });
    emulator.addCredential(erin.id);
    await a.service.lookup(erin.id, "erin");
    emulator.removeConsumer(erin.id);

    clock.advance(WINDOW_STARTS);
    expect(a.service.cached(erin.id)).toBeDefined();
    await settled(a, 1);
    expect(a.refreshes).toEqual(["unknown_consumer"]);
    expect(a.service.cached(erin.id)).toBeUndefined();
    expect(await a.store?.read(erin.id)).toBeUndefined();
    emulator.resetCalls();
    expect(await a.service.lookup(erin.id, "erin")).toEqual(UNKNOWN_CONSUMER);
    expect(emulator.calls).toHaveLength(0);
  });

  test("Kong down: the entry is kept and served until it expires, with one attempt per lifetime", async () => {
    const { emulator, clock, instance } = await setup();
    const a = await instance();
    const [fay, gus] = [emulator.addConsumer({ username: "fay" }), emulator.addConsumer({ username: "gus" })];
    const credential = emulator.addCredential(fay.id);
    emulator.addCredential(gus.id);
    await a.service.lookup(fay.id, "fay");
    clock.advance(1);
    await a.service.lookup(gus.id, "gus");
    emulator.inject({ status: 503 });

    clock.advance(WINDOW_STARTS - 1);
    expect(a.service.cached(fay.id)?.key).toBe(credential.key);
    await settled(a, 1);
    expect(a.refreshes).toEqual(["kong_unavailable"]);
    const attempts = emulator.calls.length;
    expect(attempts).toBeGreaterThan(0);
    // Served again and again in the same lifetime: no new attempt. Gus's refresh, started after, ends after.
    for (let i = 0; i < 5; i++) expect(a.service.cached(fay.id)?.key).toBe(credential.key);
    clock.advance(1);
    a.service.cached(gus.id);
    await settled(a, 2);
    expect(a.refreshes).toEqual(["kong_unavailable", "kong_unavailable"]);
    expect(a.service.cached(fay.id)?.key).toBe(credential.key);
    expect(a.service.cached(fay.id)?.fetchedAt).toBe(EPOCH);
  });

  test("a Konnect realm consumer (known to the control plane by name only) is refreshed, not forgotten", async () => {
    const { emulator, clock, instance } = await setup({ mode: "KONNECT" });
    const a = await instance();
    const realm = emulator.addRealmConsumer({ username: "realm-ivy" });
    const owner = emulator.addConsumer({ username: "realm-ivy" });
    emulator.addCredential(owner.id);
    expect(found(await a.service.lookup(realm.id, "realm-ivy")).source).toBe("kong");

    clock.advance(WINDOW_STARTS);
    expect(a.service.cached(realm.id)).toBeDefined();
    await settled(a, 1);
    expect(a.refreshes).toEqual(["refreshed"]);
    expect(a.service.cached(realm.id)?.fetchedAt).toBe(EPOCH + WINDOW_STARTS);
  });

  test("a consumer without a username is refreshed by its id alone", async () => {
    const { emulator, clock, instance } = await setup({ mode: "KONNECT" });
    const a = await instance();
    const nameless = emulator.addConsumer({ username: null, custom_id: "nameless" });
    emulator.addCredential(nameless.id);
    await a.service.lookup(nameless.id, "");
    emulator.removeConsumer(nameless.id);
    emulator.resetCalls();

    clock.advance(WINDOW_STARTS);
    a.service.cached(nameless.id);
    await settled(a, 1);
    expect(a.refreshes).toEqual(["unknown_consumer"]);
    expect(emulator.calls.map((call) => call.path)).toEqual([
      expect.stringMatching(new RegExp(`/core-entities/consumers/${nameless.id}$`)),
    ]);
  });

  test("ratio 0 turns it off: the entry is served to its end, and then Kong is waited on", async () => {
    const { emulator, clock, instance } = await setup({ refreshAheadRatio: 0 });
    const a = await instance();
    const hal = emulator.addConsumer({ username: "hal" });
    emulator.addCredential(hal.id);
    await a.service.lookup(hal.id, "hal");
    emulator.resetCalls();

    clock.advance(FRESH_MS - 1);
    expect(a.service.cached(hal.id)).toBeDefined();
    clock.advance(1);
    expect(a.service.cached(hal.id)).toBeUndefined();
    expect(found(await a.service.lookup(hal.id, "hal")).source).toBe("kong");
    expect(a.refreshes).toEqual([]);
    expect(credentialLists(emulator)).toBe(1);
  });
});

describe("RefreshAhead on its own", () => {
  // Only these fields of an entry are read here.
  const entry = { consumerId: "c1", username: "user-c1", fetchedAt: EPOCH } as CachedCredential;
  const parts = (refresh: RefreshAheadParts["refresh"]): RefreshAheadParts => ({
    now: () => EPOCH + WINDOW_STARTS,
    claim: async () => "acquired",
    refresh,
  });

  test("an entry is due from ratio × lifetime after Kong's answer; ratio 0 never", () => {
    const noop = { onOutcome: () => {}, onError: () => {} };
    const none = parts(async () => succeeded({ credential: entry, source: "kong" }));
    expect(new RefreshAhead({ ratio: 0.8, lifetimeMs: FRESH_MS, ...noop }, none).afterMs).toBe(WINDOW_STARTS);
    expect(new RefreshAhead({ ratio: 0.5, lifetimeMs: 2_000, ...noop }, none).afterMs).toBe(1_000);
    expect(new RefreshAhead({ ratio: 0, lifetimeMs: FRESH_MS, ...noop }, none).afterMs).toBe(
      Number.POSITIVE_INFINITY,
    );
  });

  test("a refresh that throws is reported as an error and counted, never thrown at the request", async () => {
    const outcomes: RefreshOutcome[] = [];
    const errors: unknown[] = [];
    const fault = new Error("the cache broke");
    const ahead = new RefreshAhead(
      {
        ratio: RATIO,
        lifetimeMs: FRESH_MS,
        onOutcome: (outcome) => outcomes.push(outcome),
        onError: (error) => errors.push(error),
      },
      parts(() => Promise.reject(fault)),
    );
    expect(ahead.due(entry)).toBeUndefined();
    await waitFor(() => outcomes.length > 0, "the refresh's outcome");
    expect(outcomes).toEqual(["error"]);
    expect(errors).toEqual([fault]);
  });

  test("the claim holds for what is left of the entry's lifetime, at least a millisecond", async () => {
    const claims: number[] = [];
    let now = EPOCH + WINDOW_STARTS + 0.5;
    const ahead = new RefreshAhead(
      { ratio: RATIO, lifetimeMs: FRESH_MS, onOutcome: () => {}, onError: () => {} },
      {
        now: () => now,
        claim: async (_consumerId, _fetchedAt, ttlMs) => {
          claims.push(ttlMs);
          return "busy";
        },
        refresh: async () => succeeded({ credential: entry, source: "kong" }),
      },
    );
    ahead.due(entry);
    now = EPOCH + FRESH_MS + 10;
    ahead.due({ ...entry, fetchedAt: EPOCH });
    await waitFor(() => claims.length === 2, "both claims");
    expect(claims).toEqual([FRESH_MS - WINDOW_STARTS, 1]);
  });
});
