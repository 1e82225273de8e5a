import { afterAll, beforeAll, describe, expect, test } from "bun:test";
import { KongEmulator } from "../support/kong-emulator.ts";
import { redisHealth, startOwnRedis } from "../support/redis.ts";
import { type Stack, startStack } from "../support/stack.ts";
import { startBlackHole } from "../support/tcp-black-hole.ts";
import { waitFor, within } from "../support/wait.ts";

const COMMAND_TIMEOUT_MS = 200;
/** Generous against the 200 ms deadline: the machine is shared and slow; a hang is unbounded. */
const ANSWER_WITHIN_MS = 2_000;

const env = (url: string) => ({
  REDIS_ENABLED: "true",
  REDIS_URL: url,
  REDIS_COMMAND_TIMEOUT_MS: String(COMMAND_TIMEOUT_MS),
  REDIS_RETRY_DELAY_MS: "50",
  REDIS_CONNECT_TIMEOUT_MS: "500",
  RATE_LIMIT_SYNC_MS: "50",
});

/** Polls /health until Redis reports `status`. */
function untilRedisHealth(stack: Stack, status: string): Promise<void> {
  return waitFor(
    async () => (await redisHealth(stack)) === status,
    `/health to report Redis ${status}`,
    10_000,
  );
}

describe("a hung Redis (SIGSTOP) never stalls a memory miss", () => {
  let redis: Awaited<ReturnType<typeof startOwnRedis>>;
  let emulator: KongEmulator;
  let stack: Stack;

  beforeAll(async () => {
    redis = await startOwnRedis();
    emulator = KongEmulator.start();
    stack = await startStack({ emulator, env: env(redis.url) });
    await stack.redisReady();
  });
  afterAll(async () => {
    redis.resume();
    await stack.stop();
    await emulator.stop();
    await redis.stop();
  });

  test("memory misses are answered by Kong within the command timeout, /health says Redis is degraded while it hangs and healthy once it answers", async () => {
    const known = emulator.addConsumer({ username: "hung-known" });
    emulator.addCredential(known.id);
    const fresh = emulator.addConsumer({ username: "hung-provisioned" });
    await untilRedisHealth(stack, "healthy");
    redis.pause();
    try {
      const started = performance.now();
      const answer = await within(ANSWER_WITHIN_MS, stack.tokens(known));
      expect(answer === "no answer" ? answer : answer.status).toBe(200);
      expect(performance.now() - started).toBeLessThan(ANSWER_WITHIN_MS);

      // Provisioning takes the Redis lock: that path is bounded too.
      const created = await within(ANSWER_WITHIN_MS, stack.tokens(fresh));
      expect(created === "no answer" ? created : created.status).toBe(200);
      expect(emulator.credentialsOf(fresh.id)).toHaveLength(1);

      await untilRedisHealth(stack, "degraded");
      const health = (await (await stack.fetch("/health")).json()) as { status: string };
      expect(health.status).toBe("degraded");
      const metrics = (await (await stack.fetch("/metrics")).json()) as { cache: { redis: string } };
      expect(metrics.cache.redis).toBe("degraded");
    } finally {
      redis.resume();
    }
    await untilRedisHealth(stack, "healthy");
    expect(stack.app.redisStatus()).toBe("ready");
  });
});

describe("a Redis connection that stops answering (TCP black hole), as behind a partition", () => {
  let redis: Awaited<ReturnType<typeof startOwnRedis>>;
  let emulator: KongEmulator;
  let hole: Awaited<ReturnType<typeof startBlackHole>>;
  let stack: Stack;

  beforeAll(async () => {
    redis = await startOwnRedis();
    hole = await startBlackHole({ hostname: "127.0.0.1", port: redis.port });
    emulator = KongEmulator.start();
    stack = await startStack({ emulator, env: env(hole.url) });
    await stack.redisReady();
  });
  let stopped = false;
  afterAll(async () => {
    hole.stop();
    if (!stopped) await stack.stop();
    await emulator.stop();
    await redis.stop();
  });

  test("memory misses go on to Kong within the command timeout, /health shows Redis degraded, and the service still shuts down", async () => {
    const consumer = emulator.addConsumer({ username: "black-hole" });
    emulator.addCredential(consumer.id);
    hole.hang();
    const answer = await within(ANSWER_WITHIN_MS, stack.tokens(consumer));
    expect(answer === "no answer" ? answer : answer.status).toBe(200);
    await untilRedisHealth(stack, "degraded");
    const again = await within(ANSWER_WITHIN_MS, stack.tokens(emulator.addConsumer({ username: "hole-2" })));
    expect(again === "no answer" ? again : again.status).toBe(200);
    expect(await within(ANSWER_WITHIN_MS, stack.stop())).toBeUndefined();
    stopped = true;
  });
});

describe("a listener that never answers, not even the handshake", () => {
  test("memory misses go straight to Kong, /health shows Redis unhealthy, and the service still shuts down", async () => {
    const listener = Bun.listen({ hostname: "127.0.0.1", port: 0, socket: { data() {} } });
    const emulator = KongEmulator.start();
    const stack = await startStack({ emulator, env: env(`redis://127.0.0.1:${listener.port}`) });
    try {
      const consumer = emulator.addConsumer({ username: "never-ready" });
      emulator.addCredential(consumer.id);
      const answer = await within(ANSWER_WITHIN_MS, stack.tokens(consumer));
      expect(answer === "no answer" ? answer : answer.status).toBe(200);
      expect(await redisHealth(stack)).toBe("unhealthy");
      expect(await within(ANSWER_WITHIN_MS, stack.stop())).toBeUndefined();
    } finally {
      await emulator.stop();
      listener.stop(true);
    }
  });
});
