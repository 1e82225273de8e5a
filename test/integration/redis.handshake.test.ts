import { describe, expect, test } from "bun:test";
import { RedisConnection } from "../../src/cache/redis-connection.ts";
import { testConfig } from "../support/config.ts";
import { KongEmulator } from "../support/kong-emulator.ts";
import { testLogger } from "../support/logger.ts";
import { redisClient, redisHealth, startOwnRedis, uniquePrefix } from "../support/redis.ts";
import { LogCapture, type Stack, startStack } from "../support/stack.ts";
import { startBlackHole } from "../support/tcp-black-hole.ts";
import { waitFor, within } from "../support/wait.ts";

/** Generous against the 200 ms command deadline: the machine is shared and slow; a stall is unbounded. */
const ANSWER_WITHIN_MS = 2_000;
/** How long recovery may take at most, from the moment Redis answers (backoff included). */
const RECOVERY_WITHIN_MS = 20_000;
/** How long any other step may take: the machine is shared and slow, and each test has a minute. */
const STEP_WITHIN_MS = 15_000;

const env = (url: string, prefix: string) => ({
  REDIS_ENABLED: "true",
  REDIS_URL: url,
  REDIS_KEY_PREFIX: prefix,
  REDIS_COMMAND_TIMEOUT_MS: "200",
  REDIS_CONNECT_TIMEOUT_MS: "500",
  REDIS_RETRY_DELAY_MS: "50",
  REDIS_MAX_RETRIES: "10",
  LOG_LEVEL: "info",
});

const count = (text: string, phrase: string) => text.split(phrase).length - 1;

/**
 * While Redis does not complete the handshake, tokens come from Kong without waiting and /health
 * says Redis is unhealthy; once it answers (`release`), the service moves onto it: /health healthy,
 * credentials written under the prefix, and invalidations published on `<prefix>:invalidate` heard.
 */
async function servesFromKongThenMovesOntoRedis(options: {
  readonly url: string;
  readonly redisUrl: string;
  /** Resolves once the service is stuck in the handshake, as far as the test can see it. */
  readonly stuck: (stack: Stack) => Promise<void>;
  readonly release: () => void;
}) {
  const prefix = uniquePrefix("handshake");
  const emulator = KongEmulator.start();
  const stack = await startStack({ emulator, env: env(options.url, prefix) });
  let redis: Awaited<ReturnType<typeof redisClient>> | undefined;
  try {
    const waiting = emulator.addConsumer({ username: "while-handshake-hangs" });
    emulator.addCredential(waiting.id);
    const answer = await within(ANSWER_WITHIN_MS, stack.tokens(waiting));
    expect(answer === "no answer" ? answer : answer.status).toBe(200);
    expect(await redisHealth(stack)).toBe("unhealthy");

    await options.stuck(stack);
    const later = await within(
      ANSWER_WITHIN_MS,
      stack.tokens(emulator.addConsumer({ username: "still-hung" })),
    );
    expect(later === "no answer" ? later : later.status).toBe(200);
    expect(await redisHealth(stack)).toBe("unhealthy");

    options.release();
    await waitFor(
      async () => (await redisHealth(stack)) === "healthy",
      "/health to say Redis is healthy",
      RECOVERY_WITHIN_MS,
    );
    expect(stack.app.redisStatus()).toBe("ready");
    redis = await redisClient(options.redisUrl);

    const consumer = emulator.addConsumer({ username: "after-handshake" });
    emulator.addCredential(consumer.id);
    expect((await stack.tokens(consumer)).status).toBe(200);
    const key = `${prefix}:credential:{${consumer.id}}`;
    await waitFor(async () => (await redis?.exists(key)) === 1, `${key} to be written`, STEP_WITHIN_MS);

    // The subscriber connection recovered too: an invalidation reaches the instance, which drops the
    // consumer from memory and from Redis, so the next token asks Kong again.
    await waitFor(
      async () => ((await redis?.publish(`${prefix}:invalidate`, consumer.id)) ?? 0) > 0,
      "the instance to subscribe to invalidations",
      RECOVERY_WITHIN_MS,
    );
    await waitFor(
      async () => (await redis?.exists(key)) === 0,
      `the invalidation to remove ${key}`,
      STEP_WITHIN_MS,
    );
    expect(stack.logs.text).toContain("Consumer invalidated through Redis");
    emulator.resetCalls();
    expect((await stack.tokens(consumer)).status).toBe(200);
    expect(emulator.calls.length).toBeGreaterThan(0);

    expect(count(stack.logs.text, "Redis unavailable")).toBe(1);
    expect(count(stack.logs.text, "Redis connection restored")).toBe(1);
  } finally {
    options.release();
    await redis?.close();
    await stack.stop();
    await emulator.stop();
  }
}

describe("a Redis that accepts the connection but does not complete the handshake", () => {
  test("behind a proxy that swallows the handshake: tokens come from Kong meanwhile, and the service moves onto Redis (commands and invalidations) once the proxy forwards", async () => {
    const redis = await startOwnRedis();
    const hole = await startBlackHole({ hostname: "127.0.0.1", port: redis.port }, { hung: true });
    try {
      await servesFromKongThenMovesOntoRedis({
        url: hole.url,
        redisUrl: redis.url,
        // Both connections (commands, subscriber) sent their handshake into the void.
        stuck: () =>
          waitFor(() => hole.swallowed >= 2, "both connections to send their handshake", STEP_WITHIN_MS),
        release: () => hole.release(),
      });
    } finally {
      hole.stop();
      await redis.stop();
    }
  }, 60_000);

  // The kernel accepts for a stopped server and keeps what the client sent, so the first connection
  // would be answered on SIGCONT anyway; this case makes sure the connections given up meanwhile (left
  // in the stopped server's accept queue) do not get in the way, and that the outage is logged.
  test("stopped (SIGSTOP) before the service connects: tokens come from Kong meanwhile, the outage is logged once, and the service moves onto Redis once it is resumed", async () => {
    const redis = await startOwnRedis();
    redis.pause();
    try {
      await servesFromKongThenMovesOntoRedis({
        url: redis.url,
        redisUrl: redis.url,
        // The service gave up on the handshake at least once (nothing else shows while Redis is stopped).
        stuck: (stack) =>
          waitFor(
            () => stack.logs.text.includes("Redis unavailable"),
            "the outage to be logged",
            STEP_WITHIN_MS,
          ),
        release: () => redis.resume(),
      });
    } finally {
      await redis.stop();
    }
  }, 60_000);
});

describe("a connection whose handshake never completes", () => {
  test("is replaced again and again without piling up sockets, logs the outage once, and close() returns at once", async () => {
    let opened = 0;
    let open = 0;
    const listener = Bun.listen({
      hostname: "127.0.0.1",
      port: 0,
      socket: {
        open() {
          opened++;
          open++;
        },
        data() {},
        close() {
          open--;
        },
      },
    });
    const logs = new LogCapture();
    const logger = testLogger("info", logs);
    const config = testConfig({
      REDIS_URL: `redis://127.0.0.1:${listener.port}`,
      REDIS_CONNECT_TIMEOUT_MS: "100",
      REDIS_RETRY_DELAY_MS: "50",
      REDIS_MAX_RETRIES: "10",
    });
    const connection = new RedisConnection(config.redis, logger);
    try {
      await connection.connect();
      // Subscribing never waits on Redis.
      expect(
        await within(
          ANSWER_WITHIN_MS,
          connection.subscribe("handshake-test", () => {}),
        ),
      ).toBeUndefined();
      // Two connections (commands, subscriber), each given up at least twice.
      await waitFor(() => opened >= 6, "the connections to be retried", RECOVERY_WITHIN_MS);
      // A client given up is destroyed: its socket does not stay open next to its successor's.
      await waitFor(() => open <= 2, "given-up connections to be closed", STEP_WITHIN_MS);
      expect(connection.status).toBe("down");
      expect(count(logs.text, "Redis unavailable")).toBe(1);
    } finally {
      const closed = await within(ANSWER_WITHIN_MS, connection.close());
      expect(closed).toBeUndefined();
      await waitFor(() => open === 0, "every connection to be closed after close()", STEP_WITHIN_MS);
      listener.stop(true);
    }
  }, 60_000);
});
