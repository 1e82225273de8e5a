import { afterEach, describe, expect, test } from "bun:test";
import { redisClient, refusedSubscriptions, startOwnRedis, uniquePrefix } from "../support/redis.ts";
import { type Stack, startStack } from "../support/stack.ts";
import { waitFor } from "../support/wait.ts";

/**
 * Invalidations and rotations reach the other instances through Redis's `<prefix>:invalidate`
 * channel. An instance that takes commands but is not subscribed hears none of them, and keeps
 * signing with a credential another instance invalidated until its TTL: /health says so, Redis
 * counts as degraded, and the subscription is asked again until Redis takes it.
 */
interface RedisShown {
  status: string;
  invalidations?: string;
}

let stack: Stack | undefined;
let ownRedis: Awaited<ReturnType<typeof startOwnRedis>> | undefined;
afterEach(async () => {
  await stack?.stop();
  stack = undefined;
  await ownRedis?.stop();
  ownRedis = undefined;
});

async function health(s: Stack) {
  const response = await s.fetch("/health");
  const body = (await response.json()) as { status: string; dependencies: { redis: RedisShown } };
  return { code: response.status, status: body.status, redis: body.dependencies.redis };
}

/** A gauge's value in the Prometheus text /metrics answers (undefined when it is not there). */
async function gauge(s: Stack, name: string): Promise<number | undefined> {
  const text = await (await s.fetch("/metrics", { headers: { accept: "text/plain" } })).text();
  const line = text
    .split("\n")
    .find((candidate) => candidate.startsWith(`${name}{`) || candidate.startsWith(`${name} `));
  return line === undefined ? undefined : Number(line.slice(line.lastIndexOf(" ") + 1));
}

/** A stack on its own redis-server, connecting as `user` (an ACL user made here) when given. */
async function stackOnOwnRedis(prefix: string, user?: { name: string; password: string; channels: string }) {
  ownRedis = await startOwnRedis();
  const admin = await redisClient(ownRedis.url);
  if (user)
    await admin.sendCommand([
      "ACL",
      "SETUSER",
      user.name,
      "on",
      `>${user.password}`,
      "~*",
      "+@all",
      user.channels,
    ]);
  await admin.close();
  const url = user
    ? `redis://${user.name}:${user.password}@127.0.0.1:${ownRedis.port}`
    : `redis://127.0.0.1:${ownRedis.port}`;
  stack = await startStack({
    env: { REDIS_ENABLED: "true", REDIS_URL: url, REDIS_KEY_PREFIX: prefix, LOG_LEVEL: "info" },
  });
  // Readiness does not wait for Redis: a token issued before the connection is up is cached in
  // memory only, and its credential never reaches Redis.
  await stack.redisReady();
  return stack;
}

describe("the invalidation channel's subscription", () => {
  test("refused by Redis (an ACL user without channels): /health says so and Redis is degraded, tokens and readiness go on; once the ACL allows it, it is taken without a restart", async () => {
    const prefix = uniquePrefix("subscription");
    const user = { name: "svc-no-channels", password: "svc-password-0123", channels: "resetchannels" };
    const s = await stackOnOwnRedis(prefix, user);
    // Commands are taken (the credential is written), the subscription is not.
    const consumer = s.emulator.addConsumer({ username: "deaf" });
    s.emulator.addCredential(consumer.id);
    expect((await s.tokens(consumer)).status).toBe(200);
    const admin = await redisClient(ownRedis?.url);
    try {
      const key = `${prefix}:credential:{${consumer.id}}`;
      await waitFor(async () => (await admin.exists(key)) === 1, `${key} to be written`, 10_000);
      await waitFor(
        () => s.logs.text.includes(`Redis refused the subscription to ${prefix}:invalidate`),
        "the refusal to be logged",
        10_000,
      );
      // Asked again while refused, and not logged again: Redis's ACL log counts the refused attempts.
      await waitFor(
        async () => (await refusedSubscriptions(admin, `${prefix}:invalidate`)) >= 2,
        "a second refused attempt",
        10_000,
      );
      const deaf = await health(s);
      expect(deaf.redis).toMatchObject({ status: "degraded", invalidations: "not subscribed" });
      expect(deaf).toMatchObject({ code: 200, status: "degraded" });
      expect(await gauge(s, "redis_invalidations_subscribed")).toBe(0);
      expect(await gauge(s, "redis_connected")).toBe(1);
      expect((await s.fetch("/health/ready")).status).toBe(200);
      expect((await s.tokens(consumer)).status).toBe(200);

      // The operator grants the channels: the next attempt is taken, and invalidations are heard.
      await admin.sendCommand(["ACL", "SETUSER", user.name, "allchannels"]);
      await waitFor(
        async () => (await health(s)).redis.invalidations === "subscribed",
        "the subscription to be taken",
        10_000,
      );
      expect(await health(s)).toMatchObject({ status: "healthy", redis: { status: "healthy" } });
      expect(await gauge(s, "redis_invalidations_subscribed")).toBe(1);
      expect(await admin.publish(`${prefix}:invalidate`, consumer.id)).toBe(1);
      await waitFor(async () => (await admin.exists(key)) === 0, `the invalidation to remove ${key}`, 10_000);
      // Refused at least twice, logged once.
      expect(s.logs.text.split("Redis refused the subscription").length - 1).toBe(1);
      expect(s.logs.text).toContain("Redis took the subscription");
    } finally {
      await admin.close();
    }
  }, 30_000);

  test("its connection killed (CLIENT KILL TYPE pubsub): subscribed again, and an invalidation published then is heard", async () => {
    const prefix = uniquePrefix("subscription-kill");
    const s = await stackOnOwnRedis(prefix);
    await waitFor(
      async () => (await health(s)).redis.invalidations === "subscribed",
      "the first subscription",
      10_000,
    );
    expect((await health(s)).redis.status).toBe("healthy");
    const admin = await redisClient(ownRedis?.url);
    try {
      expect(Number(await admin.sendCommand(["CLIENT", "KILL", "TYPE", "pubsub"]))).toBe(1);
      await waitFor(
        async () =>
          (await admin.sendCommand(["PUBSUB", "NUMSUB", `${prefix}:invalidate`]))?.toString().endsWith(",1"),
        "the instance to subscribe again",
        10_000,
      );
      await waitFor(
        async () => (await health(s)).redis.invalidations === "subscribed",
        "/health to say so",
        10_000,
      );
      const consumer = s.emulator.addConsumer({ username: "heard" });
      s.emulator.addCredential(consumer.id);
      expect((await s.tokens(consumer)).status).toBe(200);
      const key = `${prefix}:credential:{${consumer.id}}`;
      await waitFor(async () => (await admin.exists(key)) === 1, `${key} to be written`, 10_000);
      expect(await admin.publish(`${prefix}:invalidate`, consumer.id)).toBe(1);
      await waitFor(async () => (await admin.exists(key)) === 0, `the invalidation to remove ${key}`, 10_000);
    } finally {
      await admin.close();
    }
    // Redis gone: unhealthy, as a lost connection always was, and not subscribed either.
    await ownRedis?.stop();
    await waitFor(
      async () => (await health(s)).redis.status === "unhealthy",
      "/health to say Redis is unhealthy",
      10_000,
    );
    expect((await health(s)).redis.invalidations).toBe("not subscribed");
    expect(await gauge(s, "redis_invalidations_subscribed")).toBe(0);
  }, 30_000);
});
