import { afterAll, beforeAll, describe, expect, test } from "bun:test";
import { RedisConnection } from "../../src/cache/redis-connection.ts";
import { redisRateSync } from "../../src/security/redis-rate-sync.ts";
import { testConfig } from "../support/config.ts";
import { testLogger } from "../support/logger.ts";
import { deletePrefix, REDIS_URL, redisClient, uniquePrefix } from "../support/redis.ts";
import { waitFor } from "../support/wait.ts";

const WINDOW_MS = 60_000;

function connectionTo(url: string) {
  return new RedisConnection(testConfig({ REDIS_URL: url }).redis, testLogger());
}

describe("rate-limit counts shared through a real Redis", () => {
  const prefix = uniquePrefix("rate-sync");
  let connection: RedisConnection;
  let client: Awaited<ReturnType<typeof redisClient>>;

  beforeAll(async () => {
    connection = connectionTo(REDIS_URL);
    await connection.connect();
    await waitFor(() => connection.status === "ready", "the connection to Redis");
    client = await redisClient();
  });
  afterAll(async () => {
    await deletePrefix(prefix);
    await client.close();
    await connection.close();
  });

  test("each instance adds its increments and learns the total per key, under <prefix>:ratelimit:{<prefix>}: (one hash slot)", async () => {
    const a = redisRateSync(connection, prefix);
    const b = redisRateSync(connection, prefix);
    const first = await a.push(
      new Map([
        ["alice:7", 3],
        ["bob:7", 1],
      ]),
      WINDOW_MS,
    );
    expect(first).toEqual(
      new Map([
        ["alice:7", 3],
        ["bob:7", 1],
      ]),
    );
    expect(await b.push(new Map([["alice:7", 2]]), WINDOW_MS)).toEqual(new Map([["alice:7", 5]]));
    expect(await client.get(`${prefix}:ratelimit:{${prefix}}:alice:7`)).toBe("5");
    expect(await client.get(`${prefix}:ratelimit:{${prefix}}:bob:7`)).toBe("1");
  });

  test("a window's key expires two windows after its first increment, and later increments do not extend it", async () => {
    const sync = redisRateSync(connection, prefix);
    const key = `${prefix}:ratelimit:{${prefix}}:carol:7`;
    await sync.push(new Map([["carol:7", 1]]), WINDOW_MS);
    const created = await client.pTTL(key);
    expect(created).toBeGreaterThan(WINDOW_MS);
    expect(created).toBeLessThanOrEqual(2 * WINDOW_MS);
    await client.pExpire(key, 5_000);
    await sync.push(new Map([["carol:7", 1]]), WINDOW_MS);
    expect(await client.pTTL(key)).toBeLessThanOrEqual(5_000);
  });

  test("while Redis is not connected the sync answers unavailable, without throwing", async () => {
    const never = connectionTo("redis://127.0.0.1:9");
    try {
      expect(await redisRateSync(never, prefix).push(new Map([["dave:7", 1]]), WINDOW_MS)).toBeUndefined();
    } finally {
      await never.close();
    }
    expect(await client.exists(`${prefix}:ratelimit:{${prefix}}:dave:7`)).toBe(0);
  });
});
