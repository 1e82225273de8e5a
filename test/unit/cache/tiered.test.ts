import { describe, expect, test } from "bun:test";
import { createHmac } from "node:crypto";
import { MemoryCredentialCache } from "../../../src/cache/memory.ts";
import type { RedisCredentialStore } from "../../../src/cache/redis.ts";
import { type CacheTier, materialize, TieredCredentialCache } from "../../../src/cache/tiered.ts";
import type { CachedCredential, StoredCredential } from "../../../src/cache/types.ts";
import { manualClock } from "../../support/clock.ts";
import { type Clock, credential, EPOCH, FRESH_MS, RETAIN_MS, sharedRedis } from "./shared-redis.ts";

const STALE_MS = RETAIN_MS - FRESH_MS;
const redis = sharedRedis();

type Read = { tier: CacheTier; outcome: string; seconds: number };

const memoryAt = (clock: Clock) =>
  new MemoryCredentialCache({
    maxSize: 10,
    freshMs: FRESH_MS,
    staleMs: STALE_MS,
    unknownConsumerMs: 10_000,
    now: clock.now,
  });

/** One instance's cache: its own memory tier over the given Redis store, reads recorded. */
function instance(clock: Clock, store: RedisCredentialStore | undefined, secretIsBase64 = false) {
  const memory = memoryAt(clock);
  const reads: Read[] = [];
  const cache = new TieredCredentialCache(memory, store, secretIsBase64, {
    onRead: (tier, outcome, seconds) => reads.push({ tier, outcome, seconds }),
  });
  return { cache, reads };
}

function cached(stored: StoredCredential): CachedCredential {
  const entry = materialize(stored, false);
  if (!entry) throw new Error("unusable secret");
  return entry;
}

/** What Kong's jwt plugin computes over `data` with the consumer's secret bytes. */
const hmac = (key: Parameters<typeof createHmac>[1], data: string) =>
  createHmac("sha256", key).update(data).digest("hex");

describe("TieredCredentialCache", () => {
  test("a stored credential is served from memory at once and shared through Redis with other instances", async () => {
    const clock = manualClock(EPOCH);
    const store = redis.store({ clock });
    const a = instance(clock, store);
    const b = instance(clock, store);
    const entry = cached(credential("c1", clock.now()));
    await a.cache.store(entry);
    expect(a.cache.fresh("c1")).toBe(entry);

    expect(b.cache.fresh("c1")).toBeUndefined();
    const started = performance.now();
    const shared = await b.cache.readShared("c1");
    const elapsedSeconds = (performance.now() - started) / 1000;
    expect(shared?.fresh).toBe(true);
    expect(shared?.entry.key).toBe("key-c1");
    expect(b.reads).toHaveLength(1);
    const [read] = b.reads;
    expect(read).toMatchObject({ tier: "redis", outcome: "hit" });
    expect(read?.seconds).toBeGreaterThanOrEqual(0);
    expect(read?.seconds).toBeLessThanOrEqual(elapsedSeconds);
  });

  test("a fresh Redis copy is promoted to memory, fresh only as long as Kong's answer is", async () => {
    const clock = manualClock(EPOCH);
    const store = redis.store({ clock });
    const fetchedAt = clock.now();
    await instance(clock, store).cache.store(cached(credential("c1", fetchedAt)));
    clock.advance(FRESH_MS / 2);
    const b = instance(clock, store);
    await b.cache.readShared("c1");
    expect(b.cache.fresh("c1")?.key).toBe("key-c1");
    clock.advance(FRESH_MS / 2);
    expect(b.cache.fresh("c1")).toBeUndefined();
  });

  test("a stale Redis copy is returned marked stale and not promoted", async () => {
    const clock = manualClock(EPOCH);
    const store = redis.store({ clock });
    await instance(clock, store).cache.store(cached(credential("c1", clock.now())));
    clock.advance(FRESH_MS);
    const b = instance(clock, store);
    const shared = await b.cache.readShared("c1");
    expect(shared?.fresh).toBe(false);
    expect(shared?.entry.key).toBe("key-c1");
    expect(b.reads.map((read) => read.outcome)).toEqual(["stale"]);
    expect(b.cache.fresh("c1")).toBeUndefined();
    expect(b.cache.staleInMemory("c1")).toBeUndefined();
  });

  test("a consumer Redis does not hold is a miss", async () => {
    const clock = manualClock(EPOCH);
    const b = instance(clock, redis.store({ clock }));
    expect(await b.cache.readShared("nobody")).toBeUndefined();
    expect(b.reads.map((read) => read.outcome)).toEqual(["miss"]);
  });

  test("without Redis there is no shared tier: nothing is read or observed", async () => {
    const clock = manualClock(EPOCH);
    const alone = instance(clock, undefined);
    await alone.cache.store(cached(credential("c1", clock.now())));
    expect(alone.cache.fresh("c1")?.key).toBe("key-c1");
    expect(await alone.cache.readShared("c1")).toBeUndefined();
    expect(alone.reads).toEqual([]);
    await alone.cache.invalidate("c1");
    expect(alone.cache.fresh("c1")).toBeUndefined();
  });

  test("a Redis copy signs as Kong verifies, with the secret as-is or base64url-decoded (secret_is_base64)", async () => {
    const clock = manualClock(EPOCH);
    const store = redis.store({ clock });
    const raw = "raw-secret-bytes-0123456789abcdef";
    const encoded = Buffer.from(raw).toString("base64url");
    await store.write({ ...credential("plain", clock.now()), secret: raw });
    await store.write({ ...credential("b64", clock.now()), secret: encoded });

    const plain = (await instance(clock, store).cache.readShared("plain"))?.entry;
    expect(plain && hmac(plain.signingKey, "payload")).toBe(hmac(raw, "payload"));
    const b64 = (await instance(clock, store, true).cache.readShared("b64"))?.entry;
    expect(b64 && hmac(b64.signingKey, "payload")).toBe(hmac(Buffer.from(raw), "payload"));
    expect(b64?.secret).toBe(encoded);
  });

  test("a Redis copy whose secret Kong could not use (not base64url under secret_is_base64) is a miss", async () => {
    const clock = manualClock(EPOCH);
    const store = redis.store({ clock });
    await store.write({ ...credential("c1", clock.now()), secret: "not base64url!" });
    const b = instance(clock, store, true);
    expect(await b.cache.readShared("c1")).toBeUndefined();
    expect(b.reads.map((read) => read.outcome)).toEqual(["miss"]);
    expect(b.cache.fresh("c1")).toBeUndefined();
  });

  test("past its TTL the memory copy is kept as a stale fallback for the stale window", async () => {
    const clock = manualClock(EPOCH);
    const a = instance(clock, undefined);
    await a.cache.store(cached(credential("c1", clock.now())));
    clock.advance(FRESH_MS);
    expect(a.cache.fresh("c1")).toBeUndefined();
    expect(a.cache.staleInMemory("c1")?.key).toBe("key-c1");
    clock.advance(STALE_MS);
    expect(a.cache.staleInMemory("c1")).toBeUndefined();
  });

  test("invalidate clears the consumer from memory and from Redis, so no instance serves it any longer", async () => {
    const clock = manualClock(EPOCH);
    const store = redis.store({ clock });
    const a = instance(clock, store);
    await a.cache.store(cached(credential("gone", clock.now())));
    await a.cache.store(cached(credential("kept", clock.now())));
    await a.cache.invalidate("gone");
    expect(a.cache.fresh("gone")).toBeUndefined();
    expect(a.cache.staleInMemory("gone")).toBeUndefined();
    expect(await instance(clock, store).cache.readShared("gone")).toBeUndefined();
    expect(a.cache.fresh("kept")).toBeDefined();
    expect(await redis.raw.exists(store.credentialKey("kept"))).toBe(1);
  });

  test("reads from Redis work without an observer", async () => {
    const clock = manualClock(EPOCH);
    const store = redis.store({ clock });
    await store.write(credential("c1", clock.now()));
    const unobserved = new TieredCredentialCache(memoryAt(clock), store, false);
    expect((await unobserved.readShared("c1"))?.entry.key).toBe("key-c1");
  });
});
