import { afterAll, beforeAll, describe, expect, test } from "bun:test";
import { KongEmulator } from "../support/kong-emulator.ts";
import { redisClient, startOwnRedis, uniquePrefix } from "../support/redis.ts";
import { type Stack, startStack } from "../support/stack.ts";
import { waitFor, within } from "../support/wait.ts";

/** How long a step of a reconnection may take: the machine is shared and slow (the test has 30 s). */
const STEP_WITHIN_MS = 15_000;
/** Far over the 100 ms command timeout (the machine is shared and slow), far under a stall's length. */
const ANSWER_WITHIN_MS = 2_000;
/** Long enough that a request waiting for the stall to end would show as no answer. */
const STALL_MS = 10_000;

/** After a few quick attempts reconnection backs off to one every 5 s (src/cache/redis-link.ts). */
function reconnected(stack: Stack): Promise<void> {
  return waitFor(() => stack.app.redisStatus() === "ready", "the service to use Redis", STEP_WITHIN_MS);
}

describe("Redis down or slow never fails a token request", () => {
  let redis: Awaited<ReturnType<typeof startOwnRedis>>;
  let emulator: KongEmulator;
  let a: Stack;
  let b: Stack;

  beforeAll(async () => {
    redis = await startOwnRedis();
    emulator = KongEmulator.start();
    const env = {
      REDIS_ENABLED: "true",
      REDIS_URL: redis.url,
      REDIS_COMMAND_TIMEOUT_MS: "100",
      REDIS_RETRY_DELAY_MS: "50",
      REDIS_CONNECT_TIMEOUT_MS: "200",
      LOG_LEVEL: "info",
    };
    a = await startStack({ emulator, env });
    b = await startStack({ emulator, env });
    await a.redisReady();
    await b.redisReady();
  });
  afterAll(async () => {
    await a.stop();
    await b.stop();
    await emulator.stop();
    await redis.stop();
  });

  test("killed during load: consumers in memory keep getting tokens, new ones go to Kong, Redis is used again once back", async () => {
    const warm = emulator.addConsumer({ username: "in-memory" });
    emulator.addCredential(warm.id);
    expect((await a.tokens(warm)).status).toBe(200);

    // The load goes on until Redis has been killed under it and more rounds were served without it.
    let rounds = 0;
    let loading = true;
    const load = (async () => {
      const statuses: number[] = [];
      while (loading) {
        const batch = await Promise.all(Array.from({ length: 10 }, () => a.tokens(warm)));
        statuses.push(...batch.map((response) => response.status));
        rounds++;
      }
      return statuses;
    })();
    await waitFor(() => rounds >= 2, "the load to be under way");
    await redis.stop();
    await waitFor(() => a.app.redisStatus() === "down", "the service to lose Redis");
    const roundsAtOutage = rounds;
    await waitFor(() => rounds >= roundsAtOutage + 5, "five rounds of load served without Redis");
    loading = false;
    const statuses = await load;
    expect(statuses.filter((status) => status !== 200)).toEqual([]);
    expect(a.app.redisStatus()).toBe("down");

    const newcomer = emulator.addConsumer({ username: "while-redis-down" });
    const started = performance.now();
    expect((await a.tokens(newcomer)).status).toBe(200);
    // Skipping a dead Redis costs nothing; waiting for it would be unbounded. Loose for a loaded machine.
    expect(performance.now() - started).toBeLessThan(ANSWER_WITHIN_MS);
    expect(a.logs.text).toContain("Redis unavailable");
    expect(a.logs.text.match(/Redis unavailable/g)).toHaveLength(1);

    await redis.start();
    await reconnected(a);
    await reconnected(b);
    expect(a.logs.text).toContain("Redis connection restored");
    const after = emulator.addConsumer({ username: "after-restart" });
    emulator.addCredential(after.id);
    expect((await a.tokens(after)).status).toBe(200);
    emulator.resetCalls();
    expect((await b.tokens(after)).status).toBe(200);
    expect(emulator.calls).toHaveLength(0);
  }, 30_000);

  test("a stalled Redis costs at most REDIS_COMMAND_TIMEOUT_MS, then Kong answers", async () => {
    const consumer = emulator.addConsumer({ username: "redis-stalled" });
    emulator.addCredential(consumer.id);
    await reconnected(a);
    const client = await redisClient(redis.url);
    try {
      // Acknowledged once every client is held, so the request below meets a Redis that answers nothing.
      // It cannot be lifted early (CLIENT UNPAUSE would be held too); the Redis is killed after the tests.
      await client.sendCommand(["CLIENT", "PAUSE", String(STALL_MS), "ALL"]);
      const answer = await within(ANSWER_WITHIN_MS, a.tokens(consumer));
      expect(answer === "no answer" ? answer : answer.status).toBe(200);
      // Answered because the command was given up, not because the stall ended.
      expect(a.logs.text).toContain("Redis did not answer within 100 ms");
    } finally {
      client.destroy();
    }
  }, 30_000);
});

describe("Redis down when the service starts", () => {
  test("invalidations published once it is up reach the instance", async () => {
    const redis = await startOwnRedis();
    await redis.stop();
    const prefix = uniquePrefix("down-at-start");
    const emulator = KongEmulator.start();
    const stack = await startStack({
      emulator,
      env: {
        REDIS_ENABLED: "true",
        REDIS_URL: redis.url,
        REDIS_KEY_PREFIX: prefix,
        REDIS_RETRY_DELAY_MS: "50",
        REDIS_MAX_RETRIES: "10",
        LOG_LEVEL: "info",
      },
    });
    try {
      await waitFor(
        () => stack.logs.text.includes("Redis unavailable"),
        "the outage to be logged",
        STEP_WITHIN_MS,
      );
      await redis.start();
      await stack.redisReady();
      const client = await redisClient(redis.url);
      try {
        // Before, the SUBSCRIBE queued while Redis refused connections was dropped for good.
        await waitFor(
          async () => (await client.publish(`${prefix}:invalidate`, "someone")) > 0,
          "the instance to subscribe to invalidations",
          STEP_WITHIN_MS,
        );
      } finally {
        await client.close();
      }
      await waitFor(
        () => stack.logs.text.includes("Consumer invalidated through Redis"),
        "the invalidation to reach the instance",
        STEP_WITHIN_MS,
      );
    } finally {
      await stack.stop();
      await emulator.stop();
      await redis.stop();
    }
  }, 30_000);
});
