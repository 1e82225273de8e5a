import { afterAll, beforeAll } from "bun:test";
import { SecretCipher } from "../../../src/cache/cipher.ts";
import { RedisCredentialStore } from "../../../src/cache/redis.ts";
import { RedisConnection } from "../../../src/cache/redis-connection.ts";
import type { StoredCredential } from "../../../src/cache/types.ts";
import type { manualClock } from "../../support/clock.ts";
import { testConfig } from "../../support/config.ts";
import { testLogger } from "../../support/logger.ts";
import { deletePrefix, REDIS_URL, redisClient, uniquePrefix } from "../../support/redis.ts";
import { waitFor } from "../../support/wait.ts";

/** Far from today's date, so a part that read the real clock instead of the injected one would show. */
export const EPOCH = Date.UTC(2001, 0, 1);
export const FRESH_MS = 60_000;
export const RETAIN_MS = 300_000;

export type Clock = ReturnType<typeof manualClock>;

export const newCipher = () => new SecretCipher(crypto.getRandomValues(new Uint8Array(32)));

/** A credential as Kong gave it at `fetchedAt`, every field distinct so a mix-up shows. */
export function credential(consumerId: string, fetchedAt: number): StoredCredential {
  return {
    consumerId,
    kongConsumerId: `kong-${consumerId}`,
    username: `user-${consumerId}`,
    credentialId: `cred-${consumerId}`,
    key: `key-${consumerId}`,
    algorithm: "HS256",
    secret: `secret-of-${consumerId}-0123456789abcdef`,
    fetchedAt,
  };
}

/**
 * One connection to the suite's Redis for a test file, ready before its tests run, and stores on it
 * with a key prefix of their own (deleted afterwards), all on one injected clock.
 */
export function sharedRedis() {
  const connection = new RedisConnection(testConfig({ REDIS_URL }).redis, testLogger());
  const prefixes = new Map<RedisCredentialStore, string>();
  let raw: Awaited<ReturnType<typeof redisClient>>;

  beforeAll(async () => {
    await connection.connect();
    await waitFor(() => connection.status === "ready", "the connection to Redis to be ready");
    raw = await redisClient();
  });
  afterAll(async () => {
    await connection.close();
    for (const prefix of prefixes.values()) await deletePrefix(prefix);
    await raw.close();
  });

  function store(options: { clock: Clock; cipher?: SecretCipher; prefix?: string }) {
    const prefix = options.prefix ?? uniquePrefix("unit-store");
    const store = new RedisCredentialStore(connection, {
      prefix,
      freshMs: FRESH_MS,
      retainMs: RETAIN_MS,
      now: options.clock.now,
      ...(options.cipher ? { cipher: options.cipher } : {}),
    });
    prefixes.set(store, prefix);
    return store;
  }

  /** The key prefix a store of this suite was made with: the store keeps its own to itself. */
  function prefixOf(store: RedisCredentialStore): string {
    const prefix = prefixes.get(store);
    if (!prefix) throw new Error("not a store of this suite");
    return prefix;
  }

  return {
    connection,
    store,
    prefixOf,
    /** Where operators find a consumer's record: `<prefix>:credential:<consumer id>`. */
    credentialKey: (store: RedisCredentialStore, consumerId: string) =>
      `${prefixOf(store)}:credential:{${consumerId}}`,
    /** A client of the test's own, to look at and alter what the store wrote. */
    get raw() {
      return raw;
    },
  };
}
