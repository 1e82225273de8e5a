import { describe, expect, test } from "bun:test";
import { createSecretKey } from "node:crypto";
import { RedisCredentialStore } from "../../../src/cache/redis.ts";
import { RedisConnection } from "../../../src/cache/redis-connection.ts";
import { manualClock } from "../../support/clock.ts";
import { testConfig } from "../../support/config.ts";
import { testLogger } from "../../support/logger.ts";
import { REDIS_URL, uniquePrefix } from "../../support/redis.ts";
import { waitFor } from "../../support/wait.ts";
import { credential, EPOCH, FRESH_MS, newCipher, RETAIN_MS, sharedRedis } from "./shared-redis.ts";

type Fields = { [field: string]: unknown };

const redis = sharedRedis();

async function rawRecord(store: RedisCredentialStore, consumerId: string): Promise<Fields> {
  const value = await redis.raw.get(redis.credentialKey(store, consumerId));
  if (typeof value !== "string") throw new Error(`no record for ${consumerId}`);
  return JSON.parse(value);
}

async function putRaw(store: RedisCredentialStore, consumerId: string, value: Fields | string) {
  const text = typeof value === "string" ? value : JSON.stringify(value);
  await redis.raw.set(redis.credentialKey(store, consumerId), text, {
    expiration: { type: "PX", value: 60_000 },
  });
}

/** Everything stored under the store's prefix, keys and values, as one string. */
async function everythingUnder(store: RedisCredentialStore): Promise<string> {
  const keys = await redis.raw.keys(`${redis.prefixOf(store)}:*`);
  const values = await Promise.all(keys.map((key) => redis.raw.get(key)));
  return JSON.stringify([keys, values]);
}

/** The suite's connection, recording the options of each SET sent through it and Redis's answer. */
function recordSets() {
  const sent: { options: unknown; answer: unknown }[] = [];
  const connection = {
    run: (command: Parameters<RedisConnection["run"]>[0], fallback: unknown) =>
      redis.connection.run((client) => {
        const recording = Object.create(client) as typeof client;
        recording.set = (async (key: string, value: string, options: unknown) => {
          const answer = await client.set(key, value, options as Parameters<typeof client.set>[2]);
          sent.push({ options, answer });
          return answer;
        }) as typeof client.set;
        return command(recording);
      }, fallback),
  } as unknown as RedisConnection;
  return { connection, sent };
}

describe("RedisCredentialStore without an encryption key", () => {
  test("a credential is written under <prefix>:credential:<consumer id> and reads back whole and fresh; nothing else is stored", async () => {
    const clock = manualClock(EPOCH);
    const store = redis.store({ clock });
    const stored = credential("c1", clock.now());
    // What the cache hands over carries the imported signing key too.
    await store.write({ ...stored, signingKey: createSecretKey(new Uint8Array(32)) } as typeof stored);

    const prefix = redis.prefixOf(store);
    expect(await redis.raw.keys(`${prefix}:*`)).toEqual([`${prefix}:credential:{c1}`]);
    expect(await rawRecord(store, "c1")).toEqual({ v: 2, ...stored });
    expect(await store.read("c1")).toEqual({ stored, fresh: true });
  });

  test("each algorithm Kong signs with, and a consumer without a username, read back", async () => {
    const clock = manualClock(EPOCH);
    const store = redis.store({ clock });
    const variants = [
      { ...credential("a", clock.now()), algorithm: "HS384" as const },
      { ...credential("b", clock.now()), algorithm: "HS512" as const },
      { ...credential("c", clock.now()), username: null },
      // A credential of the service's own key: its secret field holds the key's kid.
      ...(["EdDSA", "ES256", "RS256"] as const).map((algorithm) => ({
        ...credential(`k-${algorithm}`, clock.now()),
        algorithm,
        secret: `kid-${algorithm}`,
      })),
    ];
    for (const stored of variants) {
      await store.write(stored);
      expect((await store.read(stored.consumerId))?.stored).toEqual(stored);
    }
  });

  test("fresh until freshMs after Kong's answer, then a stale copy until retainMs, then a miss", async () => {
    const clock = manualClock(EPOCH);
    const store = redis.store({ clock });
    await store.write(credential("c1", clock.now()));
    clock.advance(FRESH_MS - 1);
    expect((await store.read("c1"))?.fresh).toBe(true);
    clock.advance(1);
    expect((await store.read("c1"))?.fresh).toBe(false);
    clock.advance(RETAIN_MS - FRESH_MS - 1);
    expect((await store.read("c1"))?.stored.key).toBe("key-c1");
    clock.advance(1);
    expect(await store.read("c1")).toBeUndefined();
  });

  test("Redis keeps a record only for what is left of retainMs since Kong's answer", async () => {
    const clock = manualClock(EPOCH);
    const store = redis.store({ clock });
    await store.write(credential("old", clock.now() - 100_000));
    const left = await redis.raw.pTTL(redis.credentialKey(store, "old"));
    expect(left).toBeLessThanOrEqual(RETAIN_MS - 100_000);
    expect(left).toBeGreaterThan(RETAIN_MS - 100_000 - 30_000);

    // A record from a clock ahead of this one is kept no longer than a fresh one.
    await store.write(credential("ahead", clock.now() + 3_000));
    expect(await redis.raw.pTTL(redis.credentialKey(store, "ahead"))).toBeLessThanOrEqual(RETAIN_MS);

    // With half a millisecond of it left (clocks need not be whole milliseconds), it is still written,
    // for the millisecond Redis can keep. Such a key is gone a millisecond later, on a loaded machine
    // before the test could look: the SET and Redis's answer to it are what show it.
    const sets = recordSets();
    const lateStore = new RedisCredentialStore(sets.connection, {
      prefix: uniquePrefix("unit-store-late"),
      freshMs: FRESH_MS,
      retainMs: RETAIN_MS,
      now: manualClock(EPOCH + 0.5).now,
    });
    await lateStore.write(credential("last", EPOCH + 1 - RETAIN_MS));
    expect(sets.sent).toEqual([{ options: { expiration: { type: "PX", value: 1 } }, answer: "OK" }]);
  });

  test("a credential already past retainMs is not written", async () => {
    const clock = manualClock(EPOCH);
    const store = redis.store({ clock });
    await store.write(credential("c1", clock.now() - RETAIN_MS));
    expect(await redis.raw.keys(`${redis.prefixOf(store)}:*`)).toEqual([]);
  });

  test("a record up to 5 s ahead of this instance's clock is read, one further ahead is a miss (it would stay fresh for ever)", async () => {
    const clock = manualClock(EPOCH);
    const store = redis.store({ clock });
    await putRaw(store, "near", { v: 2, ...credential("near", clock.now() + 5_000) });
    await putRaw(store, "far", { v: 2, ...credential("far", clock.now() + 5_001) });
    expect((await store.read("near"))?.fresh).toBe(true);
    expect(await store.read("far")).toBeUndefined();
  });

  test("what Redis answers is validated: not JSON, another format version, unknown fields, missing or oversized fields, or a record filed under another consumer's key are misses", async () => {
    const clock = manualClock(EPOCH);
    const store = redis.store({ clock });
    const good = { v: 2, ...credential("c1", clock.now()) };
    const broken: Fields[] = [
      { ...good, v: 1 },
      { ...good, admin: true },
      { ...good, algorithm: "none" },
      { ...good, key: "" },
      { ...good, key: "k".repeat(1025) },
      { ...good, secret: "" },
      { ...good, fetchedAt: -1 },
      { ...good, fetchedAt: clock.now() + 0.5 },
      { ...good, consumerId: "c2" },
    ];
    await putRaw(store, "c1", "{not json");
    expect(await store.read("c1")).toBeUndefined();
    for (const record of broken) {
      await putRaw(store, "c1", record);
      expect(await store.read("c1")).toBeUndefined();
    }
    await putRaw(store, "c1", good);
    expect((await store.read("c1"))?.stored.key).toBe("key-c1");
  });

  test("remove deletes the consumer's record (a consumer deleted in Kong is no longer served by any instance)", async () => {
    const clock = manualClock(EPOCH);
    const store = redis.store({ clock });
    await store.write(credential("gone", clock.now()));
    await store.write(credential("kept", clock.now()));
    await store.remove("gone");
    expect(await store.read("gone")).toBeUndefined();
    expect(await redis.raw.keys(`${redis.prefixOf(store)}:*`)).toEqual([redis.credentialKey(store, "kept")]);
  });
});

describe("RedisCredentialStore with CACHE_ENCRYPTION_KEY", () => {
  test("the secret is sealed: no plain, hex or base64 copy of it anywhere under the prefix, and it reads back", async () => {
    const clock = manualClock(EPOCH);
    const cipher = newCipher();
    const store = redis.store({ clock, cipher });
    const stored = credential("c1", clock.now());
    await store.write(stored);

    const everything = await everythingUnder(store);
    for (const encoding of ["utf8", "hex", "base64", "base64url"] as const)
      expect(everything).not.toContain(Buffer.from(stored.secret).toString(encoding));
    const record = await rawRecord(store, "c1");
    expect(record).not.toHaveProperty("secret");
    expect(record.sealed).toMatchObject({ kid: cipher.keyId });
    expect(await store.read("c1")).toEqual({ stored, fresh: true });
  });

  test("every field is authenticated with the secret: a record with any field changed is a miss", async () => {
    const clock = manualClock(EPOCH);
    const store = redis.store({ clock, cipher: newCipher() });
    const changes: Fields = {
      kongConsumerId: "kong-other",
      username: "someone-else",
      credentialId: "cred-other",
      key: "attacker-chosen-key",
      algorithm: "HS512",
      fetchedAt: clock.now() - 1,
    };
    for (const [field, value] of Object.entries(changes)) {
      await store.write(credential("c1", clock.now()));
      await putRaw(store, "c1", { ...(await rawRecord(store, "c1")), [field]: value });
      expect({ field, read: await store.read("c1") }).toEqual({ field, read: undefined });
    }
    // A username taken away is a change too.
    await store.write(credential("c1", clock.now()));
    await putRaw(store, "c1", { ...(await rawRecord(store, "c1")), username: null });
    expect(await store.read("c1")).toBeUndefined();
  });

  test("a sealed record copied to another consumer's key is refused, whether or not its consumerId was changed to match", async () => {
    const clock = manualClock(EPOCH);
    const store = redis.store({ clock, cipher: newCipher() });
    await store.write(credential("victim", clock.now()));
    const record = await rawRecord(store, "victim");
    await putRaw(store, "other", record);
    expect(await store.read("other")).toBeUndefined();
    await putRaw(store, "other", { ...record, consumerId: "other" });
    expect(await store.read("other")).toBeUndefined();
  });

  test("a sealed record copied under another prefix (another deployment sharing the key) is refused", async () => {
    const clock = manualClock(EPOCH);
    const cipher = newCipher();
    const here = redis.store({ clock, cipher });
    const there = redis.store({ clock, cipher });
    await here.write(credential("c1", clock.now()));
    await putRaw(there, "c1", await rawRecord(here, "c1"));
    expect(await there.read("c1")).toBeUndefined();
  });

  test("once a key is set, a plaintext secret is never used: a plain record is a miss, and a secret planted beside or instead of the sealed one is ignored", async () => {
    const clock = manualClock(EPOCH);
    const prefix = uniquePrefix("unit-plain");
    const plain = redis.store({ clock, prefix });
    const sealed = redis.store({ clock, prefix, cipher: newCipher() });
    await plain.write(credential("c1", clock.now()));
    expect(await sealed.read("c1")).toBeUndefined();

    await sealed.write(credential("c2", clock.now()));
    const record = await rawRecord(sealed, "c2");
    await putRaw(sealed, "c2", { ...record, secret: "planted-secret" });
    expect((await sealed.read("c2"))?.stored.secret).toBe(credential("c2", clock.now()).secret);
    await putRaw(sealed, "c2", { ...record, secret: "planted-secret", sealed: undefined });
    expect(await sealed.read("c2")).toBeUndefined();
  });

  test("a record sealed with another key (CACHE_ENCRYPTION_KEY rotated) is a miss", async () => {
    const clock = manualClock(EPOCH);
    const prefix = uniquePrefix("unit-rotated");
    const before = redis.store({ clock, prefix, cipher: newCipher() });
    const after = redis.store({ clock, prefix, cipher: newCipher() });
    await before.write(credential("c1", clock.now()));
    expect(await after.read("c1")).toBeUndefined();
  });
});

describe("the provisioning lock", () => {
  test("one holder at a time: others are told it is busy until the holder releases it", async () => {
    const store = redis.store({ clock: manualClock(EPOCH) });
    const first = await store.lock("c1", 10_000);
    expect(first.kind).toBe("acquired");
    expect(await store.lock("c1", 10_000)).toEqual({ kind: "busy", waited: false });
    // Another consumer's lock is another lock.
    expect((await store.lock("c2", 10_000)).kind).toBe("acquired");
    if (first.kind === "acquired") await first.release();
    expect((await store.lock("c1", 10_000)).kind).toBe("acquired");
  });

  test("it expires on its own after its ttl, so a holder that vanished cannot block provisioning", async () => {
    const store = redis.store({ clock: manualClock(EPOCH) });
    await store.lock("c1", 5_000);
    const left = await redis.raw.pTTL(`${redis.prefixOf(store)}:lock:{c1}`);
    expect(left).toBeGreaterThan(0);
    expect(left).toBeLessThanOrEqual(5_000);
  });

  test("a holder whose lock expired cannot release the lock another instance took since", async () => {
    const store = redis.store({ clock: manualClock(EPOCH) });
    const late = await store.lock("c1", 50);
    expect(late.kind).toBe("acquired");
    let current = await store.lock("c1", 10_000);
    await waitFor(async () => {
      if (current.kind !== "acquired") current = await store.lock("c1", 10_000);
      return current.kind === "acquired";
    }, "the first lock to expire and another to be taken");
    if (late.kind === "acquired") await late.release();
    expect(await store.lock("c1", 10_000)).toEqual({ kind: "busy", waited: false });
    if (current.kind === "acquired") await current.release();
    expect((await store.lock("c1", 10_000)).kind).toBe("acquired");
  });
});

describe("the refresh claim", () => {
  test("one claimant per lifetime of a consumer's entry (its fetchedAt); another lifetime or consumer is another claim", async () => {
    const store = redis.store({ clock: manualClock(EPOCH) });
    expect(await store.claimRefresh("c1", EPOCH, 10_000)).toBe("acquired");
    expect(await store.claimRefresh("c1", EPOCH, 10_000)).toBe("busy");
    expect(await store.claimRefresh("c1", EPOCH + 1, 10_000)).toBe("acquired");
    expect(await store.claimRefresh("c2", EPOCH, 10_000)).toBe("acquired");
    const prefix = redis.prefixOf(store);
    expect((await redis.raw.keys(`${prefix}:refresh:*`)).sort()).toEqual([
      `${prefix}:refresh:c1:${EPOCH}`,
      `${prefix}:refresh:c1:${EPOCH + 1}`,
      `${prefix}:refresh:c2:${EPOCH}`,
    ]);
  });

  test("it is never released, and expires after its ttl", async () => {
    const store = redis.store({ clock: manualClock(EPOCH) });
    await store.claimRefresh("c1", EPOCH, 5_000);
    const left = await redis.raw.pTTL(`${redis.prefixOf(store)}:refresh:c1:${EPOCH}`);
    expect(left).toBeGreaterThan(0);
    expect(left).toBeLessThanOrEqual(5_000);
    await store.claimRefresh("c2", EPOCH, 20);
    let again = await store.claimRefresh("c2", EPOCH, 10_000);
    await waitFor(async () => {
      if (again !== "acquired") again = await store.claimRefresh("c2", EPOCH, 10_000);
      return again === "acquired";
    }, "the short claim to expire");
  });
});

describe("with Redis unreachable", () => {
  test("reads miss, writes and removes do nothing, the lock and the refresh claim are unavailable", async () => {
    // Configured, never connected: what an instance sees while Redis is down.
    const connection = new RedisConnection(testConfig({ REDIS_URL }).redis, testLogger());
    const clock = manualClock(EPOCH);
    const prefix = uniquePrefix("unit-down");
    const store = new RedisCredentialStore(connection, {
      prefix,
      freshMs: FRESH_MS,
      retainMs: RETAIN_MS,
      now: clock.now,
    });
    expect(await store.read("c1")).toBeUndefined();
    expect(await store.write(credential("c1", clock.now()))).toBeUndefined();
    expect(await store.remove("c1")).toBeUndefined();
    expect(await store.lock("c1", 1_000)).toEqual({ kind: "unavailable" });
    expect(await store.claimRefresh("c1", EPOCH, 1_000)).toBe("unavailable");
    expect(await store.publishInvalidation("c1")).toBe(false);
    expect(await redis.raw.keys(`${prefix}:*`)).toEqual([]);
  });
});

describe("invalidations", () => {
  /** A store listening on its prefix's channel, once Redis counts it as a subscriber. */
  async function listening() {
    const store = redis.store({ clock: manualClock(EPOCH) });
    const channel = `${redis.prefixOf(store)}:invalidate`;
    const heard: string[] = [];
    await store.listenForInvalidations((consumerId) => heard.push(consumerId));
    await waitFor(async () => (await redis.raw.publish(channel, "  ")) > 0, "the store to subscribe");
    return { store, channel, heard };
  }

  test("each consumer id published on <prefix>:invalidate reaches the listener, trimmed and lower-cased; blank messages do not", async () => {
    const { channel, heard } = await listening();
    await redis.raw.publish(channel, " Consumer-A\n");
    await waitFor(() => heard.length > 0, "the invalidation to be heard");
    expect(heard).toEqual(["consumer-a"]);
  });

  test("publishInvalidation reaches every listener on the prefix, this instance's too, and says Redis took it", async () => {
    const { store, heard } = await listening();
    expect(await store.publishInvalidation("consumer-b")).toBe(true);
    await waitFor(() => heard.length > 0, "the invalidation to be heard");
    expect(heard).toEqual(["consumer-b"]);
  });
});
