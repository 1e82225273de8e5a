import { afterAll, beforeAll, describe, expect, test } from "bun:test";
import { KongEmulator } from "../support/kong-emulator.ts";
import { verifyToken } from "../support/kong-jwt-verifier.ts";
import { deletePrefix, REDIS_URL, redisClient, uniquePrefix } from "../support/redis.ts";
import { type Stack, startStack } from "../support/stack.ts";

const PLUGIN = { key_claim_name: "key", claims_to_verify: ["exp", "nbf"] as ("exp" | "nbf")[] };
const HOUR_MS = 3_600_000;

type Consumer = ReturnType<KongEmulator["addConsumer"]>;
type Record = { [field: string]: unknown };

/**
 * Two instances sharing a prefix: `writer` fetches from Kong and fills Redis, the record is altered
 * in Redis, then `reader` (nothing in memory) must ignore it and ask Kong.
 */
function suite(label: string, encryptionKey: string | undefined) {
  const prefix = uniquePrefix(label);
  let emulator: KongEmulator;
  const env = {
    REDIS_ENABLED: "true",
    REDIS_URL,
    REDIS_KEY_PREFIX: prefix,
    ...(encryptionKey ? { CACHE_ENCRYPTION_KEY: encryptionKey } : {}),
  };
  const stacks: Stack[] = [];
  let consumers = 0;

  function start() {
    emulator = KongEmulator.start();
  }

  async function instance(now?: () => number): Promise<Stack> {
    const stack = await startStack({ emulator, env, ...(now ? { now } : {}) });
    stacks.push(stack);
    await stack.redisReady();
    return stack;
  }

  /** A consumer whose record `writer` has put in Redis. */
  async function stored(writer: Stack): Promise<Consumer> {
    const consumer = emulator.addConsumer({ username: `${label}-${++consumers}` });
    emulator.addCredential(consumer.id);
    expect((await writer.tokens(consumer)).status).toBe(200);
    return consumer;
  }

  async function alter(consumerId: string, change: (record: Record) => Record, toConsumerId = consumerId) {
    const client = await redisClient();
    try {
      const raw = await client.get(`${prefix}:credential:{${consumerId}}`);
      if (typeof raw !== "string") throw new Error(`no record for ${consumerId}`);
      await client.set(`${prefix}:credential:{${toConsumerId}}`, JSON.stringify(change(JSON.parse(raw))), {
        expiration: { type: "PX", value: 60_000 },
      });
    } finally {
      await client.close();
    }
  }

  /** The reader's answer came from Kong (not from the altered record) and Kong accepts the token. */
  async function servedFromKong(reader: Stack, consumer: Consumer) {
    emulator.resetCalls();
    const response = await reader.tokens(consumer);
    expect(response.status).toBe(200);
    expect(emulator.countCalls({ pathIncludes: consumer.id })).toBeGreaterThan(0);
    const { access_token } = (await response.json()) as { access_token: string };
    expect((await verifyToken(access_token, PLUGIN, emulator)).ok).toBe(true);
  }

  async function stop() {
    for (const stack of stacks) await stack.stop();
    await emulator.stop();
    await deletePrefix(prefix);
  }

  return {
    get emulator() {
      return emulator;
    },
    start,
    instance,
    stored,
    alter,
    servedFromKong,
    stop,
  };
}

describe("with CACHE_ENCRYPTION_KEY, every field of a Redis record is authenticated", () => {
  const key = Buffer.from(crypto.getRandomValues(new Uint8Array(32))).toString("base64");
  const s = suite("integrity", key);
  let writer: Stack;
  let reader: Stack;
  beforeAll(async () => {
    s.start();
    writer = await s.instance();
    reader = await s.instance();
  });
  afterAll(() => s.stop());

  const tampered: [field: string, change: (value: unknown) => unknown][] = [
    ["key", () => "attacker-chosen-key"],
    ["algorithm", (value) => (value === "HS512" ? "HS256" : "HS512")],
    ["username", () => "someone-else"],
    ["fetchedAt", (value) => (value as number) - 1_000],
    ["kongConsumerId", () => crypto.randomUUID()],
    ["credentialId", () => crypto.randomUUID()],
  ];
  test("an unaltered sealed record is served without Kong", async () => {
    const consumer = await s.stored(writer);
    s.emulator.resetCalls();
    expect((await reader.tokens(consumer)).status).toBe(200);
    expect(s.emulator.calls).toHaveLength(0);
  });

  for (const [field, change] of tampered) {
    test(`a record whose ${field} was changed in Redis is a miss: the token comes from Kong`, async () => {
      const consumer = await s.stored(writer);
      await s.alter(consumer.id, (record) => ({ ...record, [field]: change(record[field]) }));
      await s.servedFromKong(reader, consumer);
    });
  }

  test("a record copied to another consumer's key, its consumerId changed to match, is a miss", async () => {
    const victim = await s.stored(writer);
    const other = await s.stored(writer);
    await s.alter(victim.id, (record) => ({ ...record, consumerId: other.id }), other.id);
    await s.servedFromKong(reader, other);
  });

  test("a sealed record with fetchedAt in the future (replayed, or written by a clock far ahead) is a miss", async () => {
    const ahead = await s.instance(() => Date.now() + HOUR_MS);
    const consumer = await s.stored(ahead);
    await s.servedFromKong(reader, consumer);
  });
});

describe("without CACHE_ENCRYPTION_KEY, Redis records are validated strictly", () => {
  const s = suite("strict", undefined);
  let writer: Stack;
  let reader: Stack;
  beforeAll(async () => {
    s.start();
    writer = await s.instance();
    reader = await s.instance();
  });
  afterAll(() => s.stop());

  test("a record with fetchedAt in the future is a miss", async () => {
    const consumer = await s.stored(writer);
    await s.alter(consumer.id, (record) => ({ ...record, fetchedAt: Date.now() + HOUR_MS }));
    await s.servedFromKong(reader, consumer);
  });

  test("a record with fields it never has is a miss", async () => {
    const consumer = await s.stored(writer);
    await s.alter(consumer.id, (record) => ({ ...record, admin: true }));
    await s.servedFromKong(reader, consumer);
  });

  test("an unaltered record is served without Kong", async () => {
    const consumer = await s.stored(writer);
    s.emulator.resetCalls();
    expect((await reader.tokens(consumer)).status).toBe(200);
    expect(s.emulator.calls).toHaveLength(0);
  });
});
