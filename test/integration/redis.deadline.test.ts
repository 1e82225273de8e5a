import { afterAll, beforeAll, describe, expect, test } from "bun:test";
import { Writable } from "node:stream";
import { RedisCredentialStore } from "../../src/cache/redis.ts";
import { RedisConnection, type RedisState } from "../../src/cache/redis-connection.ts";
import { redisRateSync } from "../../src/security/redis-rate-sync.ts";
import { createLogger } from "../../src/telemetry/logger.ts";
import { testConfig } from "../support/config.ts";
import { startOwnRedis } from "../support/redis.ts";

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

async function settlesWithin<T>(ms: number, pending: Promise<T>): Promise<{ value: T } | "no answer"> {
  let timer: ReturnType<typeof setTimeout> | undefined;
  const late = new Promise<"no answer">((resolve) => {
    timer = setTimeout(() => resolve("no answer"), ms);
  });
  try {
    return await Promise.race([pending.then((value) => ({ value })), late]);
  } finally {
    clearTimeout(timer);
  }
}

describe("every Redis call on the request path is bounded by REDIS_COMMAND_TIMEOUT_MS", () => {
  let redis: Awaited<ReturnType<typeof startOwnRedis>>;
  let connection: RedisConnection;
  let store: RedisCredentialStore;

  async function untilStatus(status: RedisState) {
    for (let i = 0; i < 200 && connection.status !== status; i++) await Bun.sleep(25);
    expect(connection.status).toBe(status);
  }

  /** Runs `call` against a Redis hung with SIGSTOP, resuming it whatever happens. */
  async function whileHung<T>(call: () => Promise<T>): Promise<{ value: T } | "no answer"> {
    await untilStatus("ready");
    redis.pause();
    try {
      return await settlesWithin(WITHIN_MS, call());
    } finally {
      redis.resume();
    }
  }

  beforeAll(async () => {
    redis = await startOwnRedis();
    const config = testConfig({ REDIS_URL: redis.url, REDIS_COMMAND_TIMEOUT_MS: "150" });
    const sink = new Writable({ write: (_chunk, _encoding, done) => done() });
    const logger = createLogger({
      level: "error",
      serviceName: "test",
      serviceVersion: "test",
      environment: "test",
      secrets: [],
      stream: sink,
    });
    connection = new RedisConnection(config.redis, logger);
    store = new RedisCredentialStore(connection, { prefix: "deadline", freshMs: 60_000, retainMs: 60_000 });
    await connection.connect();
  });
  afterAll(async () => {
    redis.resume();
    await connection.close();
    await redis.stop();
  });

  test("read answers a miss", async () => {
    expect(await whileHung(() => store.read("c1"))).toEqual({ value: undefined });
    expect(connection.status).toBe("degraded");
  });

  test("write gives up", async () => {
    expect(await whileHung(() => store.write(STORED))).toEqual({ value: undefined });
  });

  test("remove gives up", async () => {
    expect(await whileHung(() => store.remove("c1"))).toEqual({ value: undefined });
  });

  test("lock answers unavailable", async () => {
    expect(await whileHung(() => store.lock("c1", 1_000))).toEqual({ value: { kind: "unavailable" } });
  });

  test("lock release gives up (the lock expires on its own)", async () => {
    await untilStatus("ready");
    const lock = await store.lock("c2", 1_000);
    expect(lock.kind).toBe("acquired");
    if (lock.kind !== "acquired") throw new Error("lock not acquired");
    expect(await whileHung(() => lock.release())).toEqual({ value: undefined });
  });

  test("isLocked answers false", async () => {
    expect(await whileHung(() => store.isLocked("c1"))).toEqual({ value: false });
  });

  test("the rate-limit sync answers unavailable", async () => {
    const sync = redisRateSync(connection, "deadline");
    expect(await whileHung(() => sync.push(new Map([["c1:1", 1]]), 1_000))).toEqual({ value: undefined });
  });

  test("the connection is healthy again once Redis answers", async () => {
    await untilStatus("ready");
    await store.write(STORED);
    expect((await store.read("c1"))?.stored.key).toBe("key-1");
  });
});
