import { afterEach, describe, expect, test } from "bun:test";
import { createPublicKey } from "node:crypto";
import { decodeProtectedHeader } from "jose";
import { retirementGraceMs } from "../../src/composition/rotation.ts";
import { manualClock } from "../support/clock.ts";
import { type EmulatedConsumer, KongEmulator } from "../support/kong-emulator.ts";
import { verifyToken } from "../support/kong-jwt-verifier.ts";
import { deletePrefix, REDIS_URL, uniquePrefix } from "../support/redis.ts";
import { jwkSet, privateJwk } from "../support/service-keys.ts";
import { type Stack, startStack } from "../support/stack.ts";
import { waitFor } from "../support/wait.ts";

const PLUGIN = { key_claim_name: "key", claims_to_verify: ["exp", "nbf"] as ("exp" | "nbf")[] };
const OLD = privateJwk("EdDSA", "key-2025");
const NEW = privateJwk("EdDSA", "key-2026");
const JWKS = jwkSet(OLD, NEW);
const pemOf = (jwk: Record<string, unknown>) =>
  createPublicKey({ key: jwk, format: "jwk" } as never)
    .export({ type: "spki", format: "pem" })
    .toString();
const OLD_PEM = pemOf(OLD);
const NEW_PEM = pemOf(NEW);

const cleanups: (() => Promise<void>)[] = [];
afterEach(async () => {
  for (const cleanup of cleanups.splice(0).reverse()) await cleanup();
});

/** Instances share one emulated Kong, one Redis prefix and one hand-moved clock. */
function fleet(extraEnv: Record<string, string> = {}) {
  const emulator = KongEmulator.start();
  const prefix = uniquePrefix("rotation");
  const clock = manualClock();
  const running = new Set<Stack>();
  cleanups.push(async () => {
    for (const instance of running) await instance.stop();
    await emulator.stop();
    await deletePrefix(prefix);
  });
  async function start(activeKid: string): Promise<Stack> {
    const env = {
      SIGNING_MODE: "service-keys",
      SERVICE_KEYS_JWKS: JWKS,
      SERVICE_KEYS_ACTIVE_KID: activeKid,
      REDIS_ENABLED: "true",
      REDIS_URL,
      REDIS_KEY_PREFIX: prefix,
      ...extraEnv,
    };
    const stack = await startStack({ emulator, env, now: clock.now });
    if (env.REDIS_ENABLED === "true") await stack.redisReady();
    running.add(stack);
    return stack;
  }
  async function stop(stack: Stack) {
    running.delete(stack);
    await stack.stop();
  }
  return { emulator, clock, start, stop };
}

/**
 * Token requests for every consumer, one after the other on each worker, spread over the instances
 * that are live; each token is checked with Kong's rules as soon as it is issued. An instance is
 * taken out of the rotation (and its requests drained) before it stops, as a load balancer does.
 */
function continuousLoad(consumers: EmulatedConsumer[], emulator: KongEmulator, nowSeconds: () => number) {
  const live: Stack[] = [];
  const inFlight = new Map<Stack, number>();
  const refusals: string[] = [];
  const kids: string[] = [];
  let running = true;
  let turn = 0;
  async function worker(consumer: EmulatedConsumer) {
    while (running) {
      const instance = live[turn++ % live.length];
      if (!instance) {
        await Bun.sleep(1);
        continue;
      }
      inFlight.set(instance, (inFlight.get(instance) ?? 0) + 1);
      const response = await instance.tokens(consumer);
      inFlight.set(instance, (inFlight.get(instance) ?? 1) - 1);
      if (response.status !== 200) {
        refusals.push(`status ${response.status}`);
        continue;
      }
      const { access_token } = (await response.json()) as { access_token: string };
      kids.push(String(decodeProtectedHeader(access_token).kid));
      const verdict = await verifyToken(access_token, PLUGIN, emulator, nowSeconds());
      if (!verdict.ok) refusals.push(verdict.message);
    }
  }
  const workers = consumers.map(worker);
  return {
    refusals,
    kids,
    add: (instance: Stack) => live.push(instance),
    async remove(instance: Stack) {
      live.splice(live.indexOf(instance), 1);
      await waitFor(() => (inFlight.get(instance) ?? 0) === 0, "the instance's requests to finish");
    },
    async stop() {
      running = false;
      await Promise.all(workers);
    },
  };
}

const keysOf = (emulator: KongEmulator, consumer: EmulatedConsumer) =>
  emulator
    .credentialsOf(consumer.id)
    .map((credential) =>
      credential.rsa_public_key === OLD_PEM ? "old" : credential.rsa_public_key === NEW_PEM ? "new" : "?",
    )
    .sort();

describe("key rotation under continuous load, two instances at a time sharing Redis", () => {
  test("no token is refused, one credential per live key, the old one removed after the longest lifetime and not before", async () => {
    const { emulator, clock, start, stop } = fleet();
    const consumers = [1, 2, 3].map((n) => emulator.addConsumer({ username: `rotating-${n}` }));
    const load = continuousLoad(consumers, emulator, () => Math.floor(clock.now() / 1000));
    const before = [await start("key-2025"), await start("key-2025")];
    before.forEach(load.add);
    await waitFor(() => load.kids.length >= 30, "tokens signed with the old key");

    // The roll: instances with the new key active join, the old ones leave.
    const after = [await start("key-2026"), await start("key-2026")];
    after.forEach(load.add);
    for (const instance of before) {
      await load.remove(instance);
      await stop(instance);
    }
    const signedBefore = load.kids.length;
    await waitFor(() => load.kids.length >= signedBefore + 30, "tokens from the new instances alone");
    await load.stop();

    expect(load.refusals).toEqual([]);
    expect(load.kids.slice(-10)).toEqual(Array(10).fill("key-2026"));
    for (const consumer of consumers) expect(keysOf(emulator, consumer)).toEqual(["new", "old"]);
    const jwks = (await (await after[0]?.fetch("/.well-known/jwks.json"))?.json()) as { keys: unknown[] };
    expect(jwks.keys).toHaveLength(2);

    // Every old-key token has expired (plus the skew) only at the grace's end: not a millisecond earlier.
    const config = (after[0] as Stack).config;
    // 15 min of token lifetime, 30 s of clock skew, 300 s for a cached copy the invalidation missed.
    expect(retirementGraceMs(config)).toBe(1_230_000);
    clock.advance(retirementGraceMs(config) - 1);
    for (const instance of after) await instance.app.retirements.sweep();
    for (const consumer of consumers) expect(keysOf(emulator, consumer)).toEqual(["new", "old"]);
    clock.advance(1);
    for (const instance of after) await instance.app.retirements.sweep();
    for (const consumer of consumers) expect(keysOf(emulator, consumer)).toEqual(["new"]);

    const token = (await (await after[1]?.tokens(consumers[0] as EmulatedConsumer))?.json()) as {
      access_token: string;
    };
    const verdict = await verifyToken(token.access_token, PLUGIN, emulator, Math.floor(clock.now() / 1000));
    expect(verdict.ok).toBe(true);
  });
});

describe("key rotation while Kong is down", () => {
  test("the old key keeps signing from sealed Redis until Kong is back, then the new key's credential is created", async () => {
    const key = Buffer.from(crypto.getRandomValues(new Uint8Array(32))).toString("base64");
    const { emulator, clock, start } = fleet({ CACHE_ENCRYPTION_KEY: key });
    const consumer = emulator.addConsumer({ username: "rotating-outage" });
    const old = await start("key-2025");
    expect((await old.tokens(consumer)).status).toBe(200);

    emulator.inject({ status: 503 });
    const rolled = await start("key-2026");
    const during = await rolled.tokens(consumer);
    expect(during.status).toBe(200);
    const { access_token } = (await during.json()) as { access_token: string };
    expect(decodeProtectedHeader(access_token).kid).toBe("key-2025");
    expect((await verifyToken(access_token, PLUGIN, emulator, Math.floor(clock.now() / 1000))).ok).toBe(true);
    expect(keysOf(emulator, consumer)).toEqual(["old"]);

    emulator.clearFaults();
    clock.advance(rolled.config.breaker.resetTimeoutMs + 1);
    const later = (await (await rolled.tokens(consumer)).json()) as { access_token: string };
    expect(decodeProtectedHeader(later.access_token).kid).toBe("key-2026");
    expect((await verifyToken(later.access_token, PLUGIN, emulator, Math.floor(clock.now() / 1000))).ok).toBe(
      true,
    );
    expect(keysOf(emulator, consumer)).toEqual(["new", "old"]);
  });
});

describe("POST /admin/consumers/{id}/rotate with service keys", () => {
  test("creates the active key's credential, retires the service's old one, never deletes a hand-made one", async () => {
    const adminToken = "admin-7c1e9a3f5d2b4e6a8c0f1d3b5a7e9c2d";
    const { emulator, clock, start } = fleet({ ADMIN_TOKEN: adminToken, REDIS_ENABLED: "false" });
    const consumer = emulator.addConsumer({ username: "rotated-keys" });
    const handMade = emulator.addCredential(consumer.id, {
      algorithm: "EdDSA",
      rsa_public_key: OLD_PEM,
      created_at: 1_000,
    });
    const ours = emulator.addCredential(consumer.id, {
      algorithm: "EdDSA",
      rsa_public_key: OLD_PEM,
      created_at: 2_000,
      tags: ["kong-auth-service"],
    });
    const instance = await start("key-2026");
    const rotate = async () => {
      const response = await instance.fetch(`/admin/consumers/${consumer.id}/rotate`, {
        method: "POST",
        headers: { authorization: `Bearer ${adminToken}` },
      });
      expect(response.status).toBe(200);
      return (await response.json()) as {
        credential: { id: string; created: boolean };
        retired: { id: string; removeAfter: string }[];
        kept: { id: string; reason: string }[];
      };
    };
    const first = await rotate();
    expect(first.credential.created).toBe(true);
    const removeAfter = new Date(clock.now() + retirementGraceMs(instance.config)).toISOString();
    expect(first.retired).toEqual([{ id: ours.id, removeAfter }]);
    expect(first.kept).toEqual([{ id: handMade.id, reason: expect.stringContaining("never deleted") }]);
    expect(keysOf(emulator, consumer)).toEqual(["new", "old", "old"]);

    // Again: the active key has its credential; nothing new, and the removal time does not move.
    clock.advance(60_000);
    const second = await rotate();
    expect(second.credential).toEqual({ ...first.credential, created: false });
    expect(second.retired).toEqual(first.retired);

    clock.advance(retirementGraceMs(instance.config) * 10);
    await instance.app.retirements.sweep();
    expect(
      emulator
        .credentialsOf(consumer.id)
        .map((c) => c.id)
        .sort(),
    ).toEqual([handMade.id, first.credential.id].sort());
  });
});
