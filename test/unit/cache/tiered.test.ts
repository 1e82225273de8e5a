import { describe, expect, test } from "bun:test";
import { createHmac } from "node:crypto";
import { MemoryCredentialCache } from "../../../src/cache/memory.ts";
import type { RedisCredentialStore } from "../../../src/cache/redis.ts";
import { type CacheTier, TieredCredentialCache } from "../../../src/cache/tiered.ts";
import type { CachedCredential, StoredCredential } from "../../../src/cache/types.ts";
import { HmacKey, importSigningKey, type SigningKey } from "../../../src/jwt/keys.ts";
import { consumerSecrets } from "../../../src/kong/credential.ts";
import { manualClock } from "../../support/clock.ts";
import {
  type Clock,
  credential,
  EPOCH,
  FRESH_MS,
  newCipher,
  RETAIN_MS,
  sharedRedis,
} from "./shared-redis.ts";

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
  const cache = new TieredCredentialCache(memory, store, consumerSecrets(secretIsBase64), {
    onRead: (tier, outcome, seconds) => reads.push({ tier, outcome, seconds }),
  });
  return { cache, reads };
}

/** What the credential service hands the cache: the credential with its imported signing key. */
function cached(stored: StoredCredential): CachedCredential {
  return { ...stored, signingKey: importSigningKey(new TextEncoder().encode(stored.secret)) };
}

/** What Kong's jwt plugin computes over `data` with the consumer's secret bytes. */
const hmac = (key: string | Buffer | SigningKey, data: string) =>
  createHmac("sha256", key instanceof HmacKey ? key.export() : key)
    .update(data)
    .digest("hex");

describe("TieredCredentialCache", () => {
  test("a remembered credential is served from memory at once and shared through Redis with other instances", async () => {
    const clock = manualClock(EPOCH);
    const store = redis.store({ clock });
    const a = instance(clock, store);
    const b = instance(clock, store);
    const entry = cached(credential("c1", clock.now()));
    await a.cache.remember(entry);
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
    await instance(clock, store).cache.remember(cached(credential("c1", fetchedAt)));
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
    await instance(clock, store).cache.remember(cached(credential("c1", clock.now())));
    clock.advance(FRESH_MS);
    const b = instance(clock, store);
    const shared = await b.cache.readShared("c1");
    expect(shared?.fresh).toBe(false);
    expect(shared?.entry.key).toBe("key-c1");
    expect(b.reads.map((read) => read.outcome)).toEqual(["stale"]);
    expect(b.cache.fresh("c1")).toBeUndefined();
    expect(b.cache.stale("c1", undefined)).toBeUndefined();
  });

  test("a consumer Redis does not hold is a miss", async () => {
    const clock = manualClock(EPOCH);
    const b = instance(clock, redis.store({ clock }));
    expect(await b.cache.readShared("nobody")).toBeUndefined();
    expect(b.reads.map((read) => read.outcome)).toEqual(["miss"]);
  });

  test("without Redis there is no shared tier: nothing is read or observed, and no lock or refresh claim is taken", async () => {
    const clock = manualClock(EPOCH);
    const alone = instance(clock, undefined);
    await alone.cache.remember(cached(credential("c1", clock.now())));
    expect(alone.cache.fresh("c1")?.key).toBe("key-c1");
    expect(await alone.cache.readShared("c1")).toBeUndefined();
    expect(alone.reads).toEqual([]);
    expect(await alone.cache.lockForProvisioning("c1", 10_000)).toEqual({ kind: "unavailable" });
    expect(await alone.cache.claimRefresh("c1", EPOCH, 10_000)).toBe("unavailable");
    await alone.cache.forget("c1");
    expect(alone.cache.fresh("c1")).toBeUndefined();
    expect(alone.cache.stale("c1", undefined)).toBeUndefined();
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
    await a.cache.remember(cached(credential("c1", clock.now())));
    clock.advance(FRESH_MS);
    expect(a.cache.fresh("c1")).toBeUndefined();
    expect(a.cache.stale("c1", undefined)).toMatchObject({ tier: "memory", entry: { key: "key-c1" } });
    clock.advance(STALE_MS);
    expect(a.cache.stale("c1", undefined)).toBeUndefined();
  });

  test("while Kong is unusable, this instance's own copy stands in before the shared copy it read", async () => {
    const clock = manualClock(EPOCH);
    const store = redis.store({ clock });
    const a = instance(clock, store);
    await a.cache.remember(cached({ ...credential("c1", clock.now()), key: "own" }));
    clock.advance(FRESH_MS);
    // Another instance fetched since (a rotation): Redis holds a newer copy, soon stale too.
    await instance(clock, store).cache.remember(cached({ ...credential("c1", clock.now()), key: "shared" }));
    clock.advance(FRESH_MS);

    const shared = await a.cache.readShared("c1");
    expect(shared).toMatchObject({ fresh: false, entry: { key: "shared" } });
    expect(a.cache.stale("c1", shared)).toMatchObject({ tier: "memory", entry: { key: "own" } });
    if (!shared) throw new Error("Redis held no copy");
    const b = instance(clock, store);
    expect(b.cache.stale("c1", shared)).toEqual({ tier: "redis", entry: shared.entry });
    expect(b.cache.stale("c1", undefined)).toBeUndefined();
  });

  test("invalidate clears the consumer from memory and from Redis, so no instance serves it any longer", async () => {
    const clock = manualClock(EPOCH);
    const store = redis.store({ clock });
    const a = instance(clock, store);
    await a.cache.remember(cached(credential("gone", clock.now())));
    await a.cache.remember(cached(credential("kept", clock.now())));
    await a.cache.forget("gone");
    expect(a.cache.fresh("gone")).toBeUndefined();
    expect(a.cache.stale("gone", undefined)).toBeUndefined();
    expect(await instance(clock, store).cache.readShared("gone")).toBeUndefined();
    expect(a.cache.fresh("kept")).toBeDefined();
    expect(await redis.raw.exists(redis.credentialKey(store, "kept"))).toBe(1);
  });

  test("an unknown consumer is remembered as such, loses its copy, and is no longer unknown once remembered or forgotten", async () => {
    const clock = manualClock(EPOCH);
    const a = instance(clock, undefined);
    await a.cache.remember(cached(credential("c1", clock.now())));
    expect(a.cache.isRememberedUnknown("c1")).toBe(false);
    a.cache.rememberUnknown("c1");
    expect(a.cache.isRememberedUnknown("c1")).toBe(true);
    expect(a.cache.fresh("c1")).toBeUndefined();
    expect(a.cache.stale("c1", undefined)).toBeUndefined();
    await a.cache.remember(cached(credential("c1", clock.now())));
    expect(a.cache.isRememberedUnknown("c1")).toBe(false);
    a.cache.rememberUnknown("c1");
    await a.cache.forget("c1");
    expect(a.cache.isRememberedUnknown("c1")).toBe(false);
  });

  test("the provisioning lock is one per consumer across instances sharing Redis", async () => {
    const clock = manualClock(EPOCH);
    const store = redis.store({ clock });
    const first = await instance(clock, store).cache.lockForProvisioning("c1", 10_000);
    expect(first.kind).toBe("acquired");
    const other = instance(clock, store).cache;
    expect(await other.lockForProvisioning("c1", 10_000)).toEqual({ kind: "busy", waited: false });
    if (first.kind === "acquired") await first.release();
    const second = await other.lockForProvisioning("c1", 10_000);
    expect(second.kind).toBe("acquired");
    if (second.kind === "acquired") await second.release();
  });

  test("the refresh claim is one per lifetime of an entry across instances sharing Redis", async () => {
    const clock = manualClock(EPOCH);
    const store = redis.store({ clock });
    expect(await instance(clock, store).cache.claimRefresh("c1", EPOCH, 10_000)).toBe("acquired");
    expect(await instance(clock, store).cache.claimRefresh("c1", EPOCH, 10_000)).toBe("busy");
  });

  test("Redis holds exactly the fields another instance needs, never the signing key; what it reads back signs as Kong verifies", async () => {
    const clock = manualClock(EPOCH);
    const fields = [
      "algorithm",
      "consumerId",
      "credentialId",
      "fetchedAt",
      "key",
      "kongConsumerId",
      "username",
      "v",
    ];
    for (const [secretField, cipher] of [
      ["secret", undefined],
      ["sealed", newCipher()],
    ] as const) {
      const store = redis.store({ clock, ...(cipher ? { cipher } : {}) });
      const stored = credential("c1", clock.now());
      await instance(clock, store).cache.remember(cached(stored));

      const raw = await redis.raw.get(redis.credentialKey(store, "c1"));
      expect(Object.keys(JSON.parse(String(raw))).sort()).toEqual([...fields, secretField].sort());
      const read = (await instance(clock, store).cache.readShared("c1"))?.entry;
      expect(read && hmac(read.signingKey, "payload")).toBe(hmac(stored.secret, "payload"));
    }
  });

  test("reads from Redis work without an observer", async () => {
    const clock = manualClock(EPOCH);
    const store = redis.store({ clock });
    await store.write(credential("c1", clock.now()));
    const unobserved = new TieredCredentialCache(memoryAt(clock), store, consumerSecrets(false));
    expect((await unobserved.readShared("c1"))?.entry.key).toBe("key-c1");
  });
});

describe("TieredCredentialCache across a key rotation", () => {
  /** A policy that signs with any entry, and calls current only the one of credential `cred-current`. */
  const rotating = () => {
    const base = consumerSecrets(false);
    return { ...base, isCurrent: (entry: CachedCredential) => entry.credentialId === "cred-current" };
  };

  test("a shared entry of a key no longer active is a stale copy: never fresh, never promoted to memory", async () => {
    const clock = manualClock(EPOCH);
    const store = redis.store({ clock });
    const reads: string[] = [];
    const memory = memoryAt(clock);
    const cache = new TieredCredentialCache(memory, store, rotating(), {
      onRead: (_tier, outcome) => reads.push(outcome),
    });
    await store.write(credential("old-key", clock.now()));
    const copy = await cache.readShared("old-key");
    expect(copy?.fresh).toBe(false);
    expect(copy?.entry.credentialId).toBe("cred-old-key");
    expect(memory.usable("old-key")).toBeUndefined();
    expect(cache.stale("old-key", copy)).toMatchObject({
      tier: "redis",
      entry: { credentialId: "cred-old-key" },
    });

    await store.write({ ...credential("new-key", clock.now()), credentialId: "cred-current" });
    expect((await cache.readShared("new-key"))?.fresh).toBe(true);
    expect(memory.fresh("new-key")?.credentialId).toBe("cred-current");
    expect(reads).toEqual(["stale", "hit"]);
  });

  test("signsWith: whether this instance's memory or the shared tier still holds that credential", async () => {
    const clock = manualClock(EPOCH);
    const store = redis.store({ clock });
    const memory = memoryAt(clock);
    const cache = new TieredCredentialCache(memory, store, consumerSecrets(false));
    expect(await cache.signsWith("c1", "cred-c1")).toBe(false);
    memory.set(cached(credential("c1", clock.now())));
    expect(await cache.signsWith("c1", "cred-c1")).toBe(true);
    expect(await cache.signsWith("c1", "cred-other")).toBe(false);
    await store.write(credential("c2", clock.now()));
    expect(await cache.signsWith("c2", "cred-c2")).toBe(true);
    expect(await cache.signsWith("c2", "cred-c1")).toBe(false);
    const alone = new TieredCredentialCache(memoryAt(clock), undefined, consumerSecrets(false));
    expect(await alone.signsWith("c2", "cred-c2")).toBe(false);
  });
});
