import { afterEach, describe, expect, test } from "bun:test";
import { MemoryCredentialCache } from "../../../src/cache/memory.ts";
import { MemoryRetirementStore } from "../../../src/cache/retirement-store.ts";
import { TieredCredentialCache } from "../../../src/cache/tiered.ts";
import { createInvalidator } from "../../../src/credentials/invalidation.ts";
import { Retirements } from "../../../src/credentials/retirement.ts";
import { CredentialRotation } from "../../../src/credentials/rotation.ts";
import { loadServiceKeySet } from "../../../src/jwt/service-keys.ts";
import { type CredentialDraft, KongAdapter } from "../../../src/kong/adapter.ts";
import { AnonymousConsumers } from "../../../src/kong/anonymous.ts";
import {
  consumerSecrets,
  SERVICE_KEY_TAG,
  type SigningPolicy,
  serviceKeys,
} from "../../../src/kong/credential.ts";
import type { KongResult } from "../../../src/kong/result.ts";
import { createStrategy } from "../../../src/kong/strategies.ts";
import type { KongCredential } from "../../../src/kong/types.ts";
import { KongBreaker } from "../../../src/resilience/breaker.ts";
import { KongEmulator } from "../../support/kong-emulator.ts";
import { testLogger } from "../../support/logger.ts";
import { jwkSet, privateJwk } from "../../support/service-keys.ts";
import { SharedRedis } from "./instances.ts";

const cleanups: (() => Promise<void> | void)[] = [];
afterEach(async () => {
  for (const cleanup of cleanups.splice(0).reverse()) await cleanup();
});

/** Kong as it answers, except that the first `ties` credentials it creates claim to be from 1970. */
class TiedKong extends KongAdapter {
  ties = 0;
  /** Answers created credentials with an algorithm no policy signs with. */
  garbled = false;
  override async createCredential(id: string, draft?: CredentialDraft): Promise<KongResult<KongCredential>> {
    const created = await super.createCredential(id, draft);
    if (created.ok && this.garbled) return { ok: true, value: { ...created.value, algorithm: "HS999" } };
    if (!created.ok || this.ties === 0) return created;
    this.ties--;
    return { ok: true, value: { ...created.value, created_at: 0 } };
  }
}

async function setup(
  options: { anonymous?: string[]; redis?: SharedRedis; lockMs?: number; policy?: SigningPolicy } = {},
) {
  const emulator = KongEmulator.start();
  const breaker = new KongBreaker({ timeoutMs: 2_000, errorThresholdPercentage: 50, resetTimeoutMs: 1 });
  const kong = new TiedKong(createStrategy("API_GATEWAY", emulator.adminUrl, undefined), {
    timeoutMs: 2_000,
    breaker,
  });
  const policy = options.policy ?? consumerSecrets(false);
  const memory = new MemoryCredentialCache({
    maxSize: 10,
    freshMs: 60_000,
    staleMs: 0,
    unknownConsumerMs: 1,
  });
  const store = options.redis ? await options.redis.store({ now: Date.now, advance: () => {} }) : undefined;
  const cache = new TieredCredentialCache(memory, store, policy);
  const invalidate = createInvalidator(cache, store);
  const retirements = new Retirements({
    kong,
    policy,
    cache,
    invalidate,
    local: new MemoryRetirementStore(),
    graceMs: 60_000,
    leaseMs: 60_000,
    logger: testLogger(),
    count: () => {},
    now: Date.now,
  });
  const sleeps: number[] = [];
  const rotation = new CredentialRotation({
    kong,
    policy,
    cache,
    retirements,
    invalidate,
    provisionLockMs: options.lockMs ?? 1_000,
    ...(options.anonymous ? { anonymous: new AnonymousConsumers(options.anonymous) } : {}),
    now: Date.now,
    sleep: async (ms) => {
      sleeps.push(ms);
      if (ms < 1_000) await Bun.sleep(ms);
    },
  });
  cleanups.push(
    () => emulator.stop(),
    () => breaker.shutdown(),
  );
  return { emulator, kong, rotation, sleeps, store };
}

describe("CredentialRotation", () => {
  test("a new credential that loses the same-second tie is deleted and made again a second later", async () => {
    const { emulator, kong, rotation, sleeps } = await setup();
    const consumer = emulator.addConsumer({ username: "tied" });
    const old = emulator.addCredential(consumer.id, { created_at: 100, tags: [SERVICE_KEY_TAG] });
    kong.ties = 1;
    const report = await rotation.rotate(consumer.id);
    if (!report.ok) throw new Error(`rotation failed: ${report.error.kind}`);
    expect(sleeps).toEqual([1_000]);
    const ids = emulator.credentialsOf(consumer.id).map((c) => c.id);
    expect(ids.sort()).toEqual([old.id, report.value.credential.id].sort());
    expect(report.value.retired.map(({ id }) => id)).toEqual([old.id]);
  });

  test("after three lost ties it gives up as an outage, leaving nothing of its own behind", async () => {
    const { emulator, kong, rotation, sleeps } = await setup();
    const consumer = emulator.addConsumer({ username: "always-tied" });
    const old = emulator.addCredential(consumer.id, { created_at: 100, tags: [SERVICE_KEY_TAG] });
    kong.ties = 5;
    const report = await rotation.rotate(consumer.id);
    expect(report).toMatchObject({
      ok: false,
      error: {
        kind: "unavailable",
        message: "the new credential is not newer than the current one; try again",
      },
    });
    expect(sleeps).toEqual([1_000, 1_000]);
    expect(emulator.credentialsOf(consumer.id).map((c) => c.id)).toEqual([old.id]);
  });

  test("an anonymous consumer, by id or by the name Kong gives it, is never rotated", async () => {
    const { emulator, rotation } = await setup({ anonymous: ["guest"] });
    const guest = emulator.addConsumer({ username: "guest" });
    expect(await rotation.rotate(guest.id)).toMatchObject({ ok: false, error: { kind: "unknown-consumer" } });
    expect(emulator.credentialsOf(guest.id)).toEqual([]);
    const id = crypto.randomUUID();
    const byId = await setup({ anonymous: [id.toUpperCase()] });
    const visitor = byId.emulator.addConsumer({ id, username: "visitor" });
    expect(await byId.rotation.rotate(visitor.id)).toMatchObject({
      ok: false,
      error: { kind: "unknown-consumer" },
    });
    expect(byId.emulator.credentialsOf(visitor.id)).toEqual([]);
  });

  test("waits for another instance's provisioning lock, and gives up once twice its time has passed", async () => {
    const redis = new SharedRedis();
    cleanups.push(() => redis.close());
    const { emulator, rotation, store } = await setup({ redis, lockMs: 100 });
    const consumer = emulator.addConsumer({ username: "locked" });
    const held = await store?.lock(consumer.id, 60_000);
    expect(held?.kind).toBe("acquired");
    expect(await rotation.rotate(consumer.id)).toMatchObject({
      ok: false,
      error: { kind: "unavailable", message: "another instance holds this consumer's lock" },
    });
    expect(emulator.credentialsOf(consumer.id)).toEqual([]);
    if (held?.kind === "acquired") await held.release();
    const report = await rotation.rotate(consumer.id);
    expect(report.ok).toBe(true);
    expect(emulator.credentialsOf(consumer.id)).toHaveLength(1);
    // Released once done: the next holder gets it at once.
    expect((await store?.lock(consumer.id, 1_000))?.kind).toBe("acquired");
  });

  test("a lock held for less than twice its time is waited for, then taken", async () => {
    const redis = new SharedRedis();
    cleanups.push(() => redis.close());
    const { emulator, rotation, store } = await setup({ redis, lockMs: 200 });
    const consumer = emulator.addConsumer({ username: "briefly-locked" });
    expect((await store?.lock(consumer.id, 150))?.kind).toBe("acquired");
    const report = await rotation.rotate(consumer.id);
    expect(report.ok).toBe(true);
  });

  test("Kong failing to list or to create: nothing rotated, an outage; a credential it cannot use: misconfigured", async () => {
    const { emulator, kong, rotation } = await setup();
    const consumer = emulator.addConsumer({ username: "failing" });
    emulator.inject({
      status: 503,
      times: 2,
      match: (call) => call.method === "GET" && call.path.endsWith("/jwt"),
    });
    expect(await rotation.rotate(consumer.id)).toMatchObject({ ok: false, error: { kind: "unavailable" } });
    emulator.inject({ status: 503, times: 1, match: (call) => call.method === "POST" });
    expect(await rotation.rotate(consumer.id)).toMatchObject({
      ok: false,
      error: { kind: "unavailable", status: 503 },
    });
    expect(emulator.credentialsOf(consumer.id)).toEqual([]);
    kong.garbled = true;
    expect(await rotation.rotate(consumer.id)).toMatchObject({
      ok: false,
      error: { kind: "misconfigured", message: "Kong created a credential the jwt plugin could not verify" },
    });
  });

  test("with service keys, a consumer whose credential holds the active key keeps it: nothing created", async () => {
    const set = loadServiceKeySet({ mode: "service-keys", jwks: jwkSet(privateJwk("EdDSA", "active")) });
    if (!set) throw new Error("the test's key set did not load");
    const { emulator, rotation } = await setup({ policy: serviceKeys(set) });
    const consumer = emulator.addConsumer({ username: "keyed" });
    const own = emulator.addCredential(consumer.id, {
      algorithm: "EdDSA",
      rsa_public_key: set.active.publicPem,
      tags: [SERVICE_KEY_TAG],
    });
    emulator.resetCalls();
    const report = await rotation.rotate(consumer.id);
    expect(report).toMatchObject({
      ok: true,
      value: {
        consumerId: consumer.id,
        credential: { id: own.id, algorithm: "EdDSA", created: false },
        retired: [],
        kept: [],
      },
    });
    expect(emulator.countCalls({ method: "POST" })).toBe(0);
  });
});
