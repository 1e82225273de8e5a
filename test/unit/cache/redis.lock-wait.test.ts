import { afterAll, beforeAll, describe, expect, test } from "bun:test";
import { type LockResult, RedisCredentialStore } from "../../../src/cache/redis.ts";
import { RedisConnection } from "../../../src/cache/redis-connection.ts";
import { testConfig } from "../../support/config.ts";
import { testLogger } from "../../support/logger.ts";
import { startOwnRedis } from "../../support/redis.ts";
import { waitFor } from "../../support/wait.ts";

/**
 * With Sentinel or Cluster, the provisioning lock is tried again while Redis does not answer (a
 * failover), up to lockWaitMs, and says it waited: instances that each went on without it would each
 * create a credential. A Redis of the test's own, hung (SIGSTOP), stands for the failover.
 */
let redis: Awaited<ReturnType<typeof startOwnRedis>>;
let connection: RedisConnection;
beforeAll(async () => {
  redis = await startOwnRedis();
  const config = testConfig({ REDIS_URL: redis.url, REDIS_COMMAND_TIMEOUT_MS: "100" });
  connection = new RedisConnection(config.redis, testLogger());
  await connection.connect();
  await answering();
});
afterAll(async () => {
  redis.resume();
  await connection.close();
  await redis.stop();
});

const answering = () => waitFor(() => connection.status === "ready", "Redis to answer", 10_000);
const store = (prefix: string, lockWaitMs: number) =>
  new RedisCredentialStore(connection, { prefix, freshMs: 1_000, retainMs: 1_000, lockWaitMs });

/** Hangs Redis until a first try has timed out, then lets it answer. */
async function throughHang(lock: () => Promise<LockResult>): Promise<LockResult> {
  redis.pause();
  try {
    const pending = lock();
    await waitFor(() => connection.status === "degraded", "a try to time out", 10_000);
    redis.resume();
    return await pending;
  } finally {
    redis.resume();
  }
}

describe("the provisioning lock through a failover", () => {
  test("answered on a later try: acquired (also when the timed-out try took it), saying it waited", async () => {
    const lock = await throughHang(() => store(crypto.randomUUID(), 30_000).lock("c1", 5_000));
    expect(lock).toMatchObject({ kind: "acquired", waited: true });
    if (lock.kind === "acquired") await lock.release();
    await answering();
  });

  test("held by another instance once Redis answers: busy, saying it waited", async () => {
    const prefix = crypto.randomUUID();
    expect(await store(prefix, 0).lock("c2", 30_000)).toMatchObject({ kind: "acquired", waited: false });
    expect(await throughHang(() => store(prefix, 30_000).lock("c2", 5_000))).toEqual({
      kind: "busy",
      waited: true,
    });
    await answering();
  });

  test("held by another when answered at once: busy, no wait", async () => {
    const prefix = crypto.randomUUID();
    await store(prefix, 0).lock("c3", 30_000);
    expect(await store(prefix, 30_000).lock("c3", 5_000)).toEqual({ kind: "busy", waited: false });
  });

  test("Redis silent past lockWaitMs: unavailable; with no wait (standalone), after the first try", async () => {
    redis.pause();
    try {
      expect(await store(crypto.randomUUID(), 0).lock("c4", 5_000)).toEqual({ kind: "unavailable" });
      expect(await store(crypto.randomUUID(), 300).lock("c5", 5_000)).toEqual({ kind: "unavailable" });
    } finally {
      redis.resume();
    }
    await answering();
  });
});
