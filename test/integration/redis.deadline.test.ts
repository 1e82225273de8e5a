import { afterAll, beforeAll, describe, expect, test } from "bun:test";
import { RedisCredentialStore } from "../../src/cache/redis.ts";
import { RedisConnection, type RedisState } from "../../src/cache/redis-connection.ts";
import { redisRateSync } from "../../src/security/redis-rate-sync.ts";
import { testConfig } from "../support/config.ts";
import { testLogger } from "../support/logger.ts";
import { startOwnRedis } from "../support/redis.ts";
import { waitFor, within } from "../support/wait.ts";

/** Generous against the 150 ms deadline on a shared, slow machine; a hang is unbounded. */
const WITHIN_MS = 2_000;

const STORED = {
  consumerId: "c1",
  kongConsumerId: "c1",
  username: "deadline",
  credentialId: "cred-1",
  key: "key-1",
  algorithm: "HS256",
  secret: "s".repeat(32),
  fetchedAt: Date.now(),
} as const;

describe("every Redis call on the request path is bounded by REDIS_COMMAND_TIMEOUT_MS", () => {
  let redis: Awaited<ReturnType<typeof startOwnRedis>>;
  let connection: RedisConnection;
  let store: RedisCredentialStore;

  function untilStatus(status: RedisState) {
    return waitFor(() => connection.status === status, `the connection to be ${status}`, 5_000);
  }

  /** Runs `call` against a Redis hung with SIGSTOP, resuming it whatever happens. */
  async function whileHung<T>(call: () => Promise<T>): Promise<T | "no answer"> {
    await untilStatus("ready");
    redis.pause();
    try {
      return await within(WITHIN_MS, call());
    } finally {
      redis.resume();
    }
  }

  beforeAll(async () => {
    redis = await startOwnRedis();
    const config = testConfig({ REDIS_URL: redis.url, REDIS_COMMAND_TIMEOUT_MS: "150" });
    connection = new RedisConnection(config.redis, testLogger());
    store = new RedisCredentialStore(connection, { prefix: "deadline", freshMs: 60_000, retainMs: 60_000 });
    await connection.connect();
  });
  afterAll(async () => {
    redis.resume();
    await connection.close();
    await redis.stop();
  });

  test("read answers a miss", async () => {
    expect(await whileHung(() => store.read("c1"))).toBeUndefined();
    expect(connection.status).toBe("degraded");
  });

  test("write gives up", async () => {
    expect(await whileHung(() => store.write(STORED))).toBeUndefined();
  });

  test("remove gives up", async () => {
    expect(await whileHung(() => store.remove("c1"))).toBeUndefined();
  });

  test("lock answers unavailable", async () => {
    expect(await whileHung(() => store.lock("c1", 1_000))).toEqual({ kind: "unavailable" });
  });

  test("lock release gives up (the lock expires on its own)", async () => {
    await untilStatus("ready");
    const lock = await store.lock("c2", 1_000);
    expect(lock.kind).toBe("acquired");
    if (lock.kind !== "acquired") throw new Error("lock not acquired");
    expect(await whileHung(() => lock.release())).toBeUndefined();
  });

  test("the rate-limit sync answers unavailable", async () => {
    const sync = redisRateSync(connection, "deadline");
    expect(await whileHung(() => sync.push(new Map([["c1:1", 1]]), 1_000))).toBeUndefined();
  });

  test("the connection is healthy again once Redis answers", async () => {
    await untilStatus("ready");
    await store.write(STORED);
    expect((await store.read("c1"))?.stored.key).toBe("key-1");
  });
});
