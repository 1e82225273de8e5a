import { afterEach, describe, expect, test } from "bun:test";
import { manualClock } from "../support/clock.ts";
import { KongEmulator } from "../support/kong-emulator.ts";
import { verifyToken } from "../support/kong-jwt-verifier.ts";
import { deletePrefix, keysWithPrefix, REDIS_URL, redisClient, uniquePrefix } from "../support/redis.ts";
import { type Stack, startStack } from "../support/stack.ts";
import { waitFor } from "../support/wait.ts";

const PLUGIN = { key_claim_name: "key", claims_to_verify: ["exp", "nbf"] as ("exp" | "nbf")[] };
const cleanups: (() => Promise<void>)[] = [];
afterEach(async () => {
  for (const cleanup of cleanups.splice(0).reverse()) await cleanup();
});

/** Instances of the service sharing one emulated Kong and one Redis prefix. */
async function cluster(
  count: number,
  env: Record<string, string> = {},
  emulator = KongEmulator.start(),
  now?: () => number,
) {
  const prefix = env.REDIS_KEY_PREFIX ?? uniquePrefix("shared");
  const instances: Stack[] = [];
  for (let i = 0; i < count; i++) {
    const stack = await startStack({
      emulator,
      env: { REDIS_ENABLED: "true", REDIS_URL, REDIS_KEY_PREFIX: prefix, ...env },
      ...(now ? { now } : {}),
    });
    await stack.redisReady();
    instances.push(stack);
  }
  cleanups.push(async () => {
    for (const instance of instances) await instance.stop();
    await emulator.stop();
    await deletePrefix(prefix);
  });
  return { instances, emulator, prefix };
}

describe("Redis as the shared second tier", () => {
  test("an instance serves a consumer another instance fetched, with zero Kong calls", async () => {
    const { instances, emulator } = await cluster(2);
    const [a, b] = instances as [Stack, Stack];
    const consumer = emulator.addConsumer({ username: "shared" });
    emulator.addCredential(consumer.id);
    expect((await a.tokens(consumer)).status).toBe(200);
    emulator.resetCalls();
    const response = await b.tokens(consumer);
    expect(response.status).toBe(200);
    expect(emulator.calls).toHaveLength(0);
    const { access_token } = (await response.json()) as { access_token: string };
    expect((await verifyToken(access_token, PLUGIN, emulator)).ok).toBe(true);
  });

  test("a burst of 20+20 first requests across two instances creates exactly one credential", async () => {
    const { instances, emulator } = await cluster(2);
    const consumer = emulator.addConsumer({ username: "burst-two-instances" });
    emulator.setLatency(25);
    const responses = await Promise.all(
      instances.flatMap((instance) => Array.from({ length: 20 }, () => instance.tokens(consumer))),
    );
    emulator.setLatency(0);
    expect(responses.map((response) => response.status)).toEqual(Array(40).fill(200));
    expect(emulator.credentialsOf(consumer.id)).toHaveLength(1);
    expect(emulator.countCalls({ method: "POST" })).toBe(1);
    for (const response of responses) {
      const { access_token } = (await response.json()) as { access_token: string };
      expect((await verifyToken(access_token, PLUGIN, emulator)).ok).toBe(true);
    }
  });

  test("values are written with a TTL in one command, under the prefix", async () => {
    const { instances, emulator, prefix } = await cluster(1, { CACHE_TTL_SECONDS: "120" });
    const consumer = emulator.addConsumer({ username: "ttl" });
    emulator.addCredential(consumer.id);
    expect((await (instances[0] as Stack).tokens(consumer)).status).toBe(200);
    const client = await redisClient();
    try {
      const key = `${prefix}:credential:{${consumer.id}}`;
      const ttl = await client.pTTL(key);
      expect(ttl).toBeGreaterThan(110_000);
      expect(ttl).toBeLessThanOrEqual(120_000);
    } finally {
      await client.close();
    }
  });

  test("with CACHE_ENCRYPTION_KEY the secret is not in Redis in clear, and another instance still signs", async () => {
    const key = Buffer.from(crypto.getRandomValues(new Uint8Array(32))).toString("base64");
    const { instances, emulator, prefix } = await cluster(2, { CACHE_ENCRYPTION_KEY: key });
    const consumer = emulator.addConsumer({ username: "sealed" });
    const credential = emulator.addCredential(consumer.id);
    expect((await (instances[0] as Stack).tokens(consumer)).status).toBe(200);
    const client = await redisClient();
    try {
      const raw = (await client.get(`${prefix}:credential:{${consumer.id}}`)) as string;
      expect(raw).toContain('"sealed"');
      expect(raw).not.toContain(credential.secret);
      expect(raw).not.toContain(key);
    } finally {
      await client.close();
    }
    emulator.resetCalls();
    expect((await (instances[1] as Stack).tokens(consumer)).status).toBe(200);
    expect(emulator.calls).toHaveLength(0);
  });

  test("an instance with another key cannot read sealed values and falls back to Kong", async () => {
    const emulator = KongEmulator.start();
    const prefix = uniquePrefix("rotated");
    const keyA = Buffer.from(crypto.getRandomValues(new Uint8Array(32))).toString("base64");
    const keyB = Buffer.from(crypto.getRandomValues(new Uint8Array(32))).toString("base64");
    const {
      instances: [a],
    } = await cluster(1, { REDIS_KEY_PREFIX: prefix, CACHE_ENCRYPTION_KEY: keyA }, emulator);
    const {
      instances: [b],
    } = await cluster(1, { REDIS_KEY_PREFIX: prefix, CACHE_ENCRYPTION_KEY: keyB }, emulator);
    const consumer = emulator.addConsumer({ username: "rotation" });
    emulator.addCredential(consumer.id);
    expect((await (a as Stack).tokens(consumer)).status).toBe(200);
    emulator.resetCalls();
    expect((await (b as Stack).tokens(consumer)).status).toBe(200);
    expect(emulator.calls.length).toBeGreaterThan(0);
  });

  test("key prefixes isolate deployments sharing one Redis", async () => {
    const emulator = KongEmulator.start();
    const {
      instances: [a],
      prefix: prefixA,
    } = await cluster(1, {}, emulator);
    const {
      instances: [b],
      prefix: prefixB,
    } = await cluster(1, {}, emulator);
    const consumer = emulator.addConsumer({ username: "isolated" });
    emulator.addCredential(consumer.id);
    expect((await (a as Stack).tokens(consumer)).status).toBe(200);
    expect(await keysWithPrefix(prefixA)).toContain(`${prefixA}:credential:{${consumer.id}}`);
    expect(await keysWithPrefix(prefixB)).toEqual([]);
    emulator.resetCalls();
    expect((await (b as Stack).tokens(consumer)).status).toBe(200);
    expect(emulator.calls.length).toBeGreaterThan(0);
  });

  test("a message on <prefix>:invalidate clears the consumer in every instance", async () => {
    // At info level, each instance logs the invalidation it applied: the event this test waits for.
    const { instances, emulator, prefix } = await cluster(2, { LOG_LEVEL: "info" });
    const consumer = emulator.addConsumer({ username: "rotate-me" });
    const old = emulator.addCredential(consumer.id, { created_at: 1 });
    for (const instance of instances) expect((await instance.tokens(consumer)).status).toBe(200);

    emulator.removeCredential(consumer.id, old.id);
    const rotated = emulator.addCredential(consumer.id, { created_at: 2 });
    const key = `${prefix}:credential:{${consumer.id}}`;
    const client = await redisClient();
    try {
      expect(await client.exists(key)).toBe(1);
      expect(await client.publish(`${prefix}:invalidate`, consumer.id)).toBe(2);
      for (const instance of instances) {
        await waitFor(
          () => instance.logs.text.includes("Consumer invalidated through Redis"),
          "the invalidation to reach every instance",
        );
      }
      await waitFor(async () => (await client.exists(key)) === 0, "the shared copy to be removed");
    } finally {
      await client.close();
    }
    for (const instance of instances) {
      const { access_token } = (await (await instance.tokens(consumer)).json()) as { access_token: string };
      const verdict = await verifyToken(access_token, PLUGIN, emulator);
      expect(verdict.ok && verdict.credential.id).toBe(rotated.id);
    }
  });
});

/**
 * One instance fetches a consumer (CACHE_TTL_SECONDS=1), then its copy goes stale on the instances'
 * shared clock; how long Redis keeps it is the setting under test.
 */
async function firstFetch(env: Record<string, string>) {
  const emulator = KongEmulator.start();
  const clock = manualClock();
  const settings = { CACHE_TTL_SECONDS: "1", ...env };
  const {
    instances: [first],
    prefix,
  } = await cluster(1, settings, emulator, clock.now);
  const consumer = emulator.addConsumer({ username: "outage" });
  const credential = emulator.addCredential(consumer.id);
  expect((await (first as Stack).tokens(consumer)).status).toBe(200);
  const key = `${prefix}:credential:{${consumer.id}}`;
  const client = await redisClient();
  cleanups.push(() => client.close());
  return {
    emulator,
    credential,
    client,
    key,
    now: clock.now,
    /** Kong goes down; a freshly started instance (empty memory) is asked for the consumer. */
    async askFreshInstanceDuringOutage() {
      clock.advance(1_100);
      emulator.inject({ status: 503 });
      const {
        instances: [fresh],
      } = await cluster(1, settings, emulator, clock.now);
      return (fresh as Stack).tokens(consumer);
    },
  };
}

describe("HIGH_AVAILABILITY", () => {
  test("a freshly started instance rides out a Kong outage on what another instance fetched", async () => {
    const { emulator, credential, client, key, now, askFreshInstanceDuringOutage } = await firstFetch({
      REDIS_KEY_PREFIX: uniquePrefix("ha"),
      HIGH_AVAILABILITY: "true",
    });
    // Kept past its freshness, for the stale tolerance (60 min by default).
    expect(await client.pTTL(key)).toBeGreaterThan(59 * 60_000);
    const response = await askFreshInstanceDuringOutage();
    expect(response.status).toBe(200);
    const { access_token } = (await response.json()) as { access_token: string };
    // Kong checks nbf and exp at the instances' (moved) time.
    const verdict = await verifyToken(access_token, PLUGIN, emulator, Math.floor(now() / 1000));
    expect(verdict.ok && verdict.credential.id).toBe(credential.id);
  });

  test("without it, Redis keeps only fresh entries and a fresh instance answers 503", async () => {
    const { client, key, askFreshInstanceDuringOutage } = await firstFetch({
      REDIS_KEY_PREFIX: uniquePrefix("no-ha"),
    });
    const ttl = await client.pTTL(key);
    expect(ttl).toBeGreaterThan(0);
    expect(ttl).toBeLessThanOrEqual(1_000);
    // Redis expires it on its own clock.
    await waitFor(async () => (await client.exists(key)) === 0, "Redis to expire the entry");
    expect((await askFreshInstanceDuringOutage()).status).toBe(503);
  });
});
