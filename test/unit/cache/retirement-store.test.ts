import { afterAll, beforeAll, describe, expect, test } from "bun:test";
import { RedisConnection } from "../../../src/cache/redis-connection.ts";
import {
  MemoryRetirementStore,
  RedisRetirementStore,
  type RetirementStore,
} from "../../../src/cache/retirement-store.ts";
import { testConfig } from "../../support/config.ts";
import { testLogger } from "../../support/logger.ts";
import { deletePrefix, REDIS_URL, redisClient, uniquePrefix } from "../../support/redis.ts";
import { waitFor } from "../../support/wait.ts";

const connections: RedisConnection[] = [];
const prefixes: string[] = [];
let connection: RedisConnection;

async function connect(): Promise<RedisConnection> {
  const opened = new RedisConnection(testConfig({ REDIS_URL }).redis, testLogger());
  connections.push(opened);
  await opened.connect();
  await waitFor(() => opened.status === "ready", "a Redis connection");
  return opened;
}

beforeAll(async () => {
  connection = await connect();
});
afterAll(async () => {
  for (const opened of connections) await opened.close();
  for (const prefix of prefixes) await deletePrefix(prefix);
});

function redisStore(prefix = uniquePrefix("retirements"), on = connection) {
  prefixes.push(prefix);
  return new RedisRetirementStore(on, prefix);
}

const retirement = (n: number) => ({
  consumerId: `consumer-${n}`,
  kongConsumerId: `kong-${n}`,
  credentialId: `credential-${n}`,
});

describe.each([
  ["in memory", () => new MemoryRetirementStore() as RetirementStore],
  ["in Redis", () => redisStore() as RetirementStore],
])("a retirement record %s", (_where, make) => {
  test("a retirement scheduled twice keeps its first time; postponing only ever moves it later", async () => {
    const store = make();
    expect(await store.schedule(retirement(1), 1_000)).toBe(true);
    expect(await store.schedule(retirement(1), 5_000)).toBe(true);
    expect(await store.dueAt(retirement(1))).toBe(1_000);
    await store.postpone(retirement(1), 800);
    expect(await store.dueAt(retirement(1))).toBe(1_000);
    await store.postpone(retirement(1), 2_000);
    expect(await store.dueAt(retirement(1))).toBe(2_000);
    await store.postpone(retirement(2), 2_000);
    expect(await store.dueAt(retirement(2))).toBeUndefined();
  });

  test("claims what is due, at most `limit`, leasing it until `leaseUntil`; finished ones are gone", async () => {
    const store = make();
    await store.schedule(retirement(1), 1_000);
    await store.schedule(retirement(2), 1_500);
    await store.schedule(retirement(3), 3_000);
    expect(await store.claimDue(999, 10_000, 10)).toEqual([]);
    const claimed = await store.claimDue(2_000, 10_000, 1);
    expect(claimed).toEqual([{ ...retirement(1) }]);
    expect(await store.dueAt(retirement(1))).toBe(10_000);
    expect(await store.claimDue(2_000, 10_000, 10)).toEqual([{ ...retirement(2) }]);
    expect(await store.claimDue(2_000, 10_000, 10)).toEqual([]);
    await store.finish(retirement(1));
    expect(await store.dueAt(retirement(1))).toBeUndefined();
    // The earliest first: the one leased until 10 000 comes back after the one due at 3 000.
    expect(await store.claimDue(10_000, 20_000, 10)).toEqual([{ ...retirement(3) }, { ...retirement(2) }]);
  });
});

describe("the Redis record across instances", () => {
  test("two instances claiming at once take each due retirement exactly once", async () => {
    const prefix = uniquePrefix("retirements-race");
    const [a, b] = [redisStore(prefix), redisStore(prefix, await connect())];
    for (let n = 0; n < 40; n++) await a.schedule(retirement(n), 1_000 + n);
    const [fromA, fromB] = await Promise.all([a.claimDue(5_000, 60_000, 25), b.claimDue(5_000, 60_000, 25)]);
    const claimed = [...fromA, ...fromB].map(({ credentialId }) => credentialId).sort();
    expect(claimed).toHaveLength(40);
    expect(new Set(claimed).size).toBe(40);
  });

  test("a member that is not one of ours is skipped, not thrown on", async () => {
    const prefix = uniquePrefix("retirements-junk");
    const store = redisStore(prefix);
    const raw = await redisClient();
    try {
      await raw.zAdd(`${prefix}:retirements`, [
        { score: 1, value: "not json" },
        { score: 2, value: JSON.stringify(["only", "two"]) },
        { score: 3, value: JSON.stringify([1, 2, 3]) },
        { score: 3, value: JSON.stringify(["a", 2, "c"]) },
      ]);
    } finally {
      await raw.close();
    }
    await store.schedule(retirement(1), 4);
    expect(await store.claimDue(10, 100, 10)).toEqual([{ ...retirement(1) }]);
  });

  test("with Redis down nothing is recorded and nothing claimed: schedule says so", async () => {
    const down = new RedisConnection(
      testConfig({ REDIS_ENABLED: "true", REDIS_URL: "redis://127.0.0.1:1" }).redis,
      testLogger(),
    );
    const store = new RedisRetirementStore(down, "unreachable");
    expect(await store.schedule(retirement(1), 1)).toBe(false);
    expect(await store.claimDue(10, 100, 10)).toEqual([]);
    expect(await store.dueAt(retirement(1))).toBeUndefined();
  });
});
