import { afterEach, describe, expect, test } from "bun:test";
import { MemoryCredentialCache } from "../../../src/cache/memory.ts";
import { MemoryRetirementStore, type RetirementStore } from "../../../src/cache/retirement-store.ts";
import { TieredCredentialCache } from "../../../src/cache/tiered.ts";
import type { CachedCredential } from "../../../src/cache/types.ts";
import type { InvalidationScope } from "../../../src/credentials/invalidation.ts";
import {
  CURRENTLY_PICKED,
  NEWER_THAN_PICKED,
  NOT_CREATED_BY_SERVICE,
  OTHER_SIGNING_MODE,
  type RetirementOutcome,
  Retirements,
} from "../../../src/credentials/retirement.ts";
import { loadServiceKeySet } from "../../../src/jwt/service-keys.ts";
import { KongAdapter } from "../../../src/kong/adapter.ts";
import {
  consumerSecrets,
  SERVICE_KEY_TAG,
  type SigningPolicy,
  serviceKeys,
} from "../../../src/kong/credential.ts";
import { createStrategy } from "../../../src/kong/strategies.ts";
import type { KongCredential } from "../../../src/kong/types.ts";
import { KongBreaker } from "../../../src/resilience/breaker.ts";
import { KongEmulator } from "../../support/kong-emulator.ts";
import { testLogger } from "../../support/logger.ts";
import { jwkSet, privateJwk } from "../../support/service-keys.ts";
import { LogCapture } from "../../support/stack.ts";
import { waitFor } from "../../support/wait.ts";
import { EPOCH, manualClock } from "./instances.ts";

const GRACE_MS = 930_000;
const LEASE_MS = 60_000;
const TAGS = [SERVICE_KEY_TAG];

const cleanups: (() => Promise<void> | void)[] = [];
afterEach(async () => {
  for (const cleanup of cleanups.splice(0).reverse()) await cleanup();
});

/** Retirements over the emulator, this instance's memory tier and an in-memory record. */
function setup(options: { local?: RetirementStore; shared?: RetirementStore; policy?: SigningPolicy } = {}) {
  const emulator = KongEmulator.start();
  const clock = manualClock(EPOCH);
  const breaker = new KongBreaker({
    timeoutMs: 2_000,
    errorThresholdPercentage: 50,
    resetTimeoutMs: 1,
    volumeThreshold: 100,
    now: clock.now,
  });
  const kong = new KongAdapter(createStrategy("API_GATEWAY", emulator.adminUrl, undefined), {
    timeoutMs: 2_000,
    breaker,
    retryDelayMs: 1,
  });
  const policy = options.policy ?? consumerSecrets(false);
  const memory = new MemoryCredentialCache({
    maxSize: 10,
    freshMs: 60_000,
    staleMs: 0,
    unknownConsumerMs: 1,
    now: clock.now,
  });
  const cache = new TieredCredentialCache(memory, undefined, policy);
  const invalidated: string[] = [];
  const outcomes: RetirementOutcome[] = [];
  const logs = new LogCapture();
  const local = options.local ?? new MemoryRetirementStore();
  const retirements = new Retirements({
    kong,
    policy,
    cache,
    invalidate: async (consumerId): Promise<InvalidationScope> => {
      invalidated.push(consumerId);
      await cache.forget(consumerId);
      return "this-instance";
    },
    local,
    ...(options.shared ? { shared: options.shared } : {}),
    graceMs: GRACE_MS,
    leaseMs: LEASE_MS,
    logger: testLogger("info", logs),
    count: (outcome) => outcomes.push(outcome),
    now: clock.now,
  });
  cleanups.push(
    () => emulator.stop(),
    () => breaker.shutdown(),
    () => retirements.stop(),
  );
  const consumer = emulator.addConsumer({ username: "retiring" });
  const listing = () => emulator.credentialsOf(consumer.id) as unknown as KongCredential[];
  const ids = () => emulator.credentialsOf(consumer.id).map((credential) => credential.id);
  return { emulator, clock, memory, retirements, invalidated, outcomes, logs, local, consumer, listing, ids };
}

const cachedEntry = (consumerId: string, credential: KongCredential, fetchedAt: number): CachedCredential => {
  const entry = consumerSecrets(false).usable(credential);
  if (!entry) throw new Error("the test's credential is not usable");
  return {
    consumerId,
    kongConsumerId: consumerId,
    username: "retiring",
    credentialId: entry.id,
    key: entry.key,
    algorithm: entry.algorithm,
    secret: entry.secret,
    fetchedAt,
    signingKey: entry.signingKey,
  };
};

describe("Retirements.supersede", () => {
  test("records the service's own superseded credentials of this mode, and says why the others stay", async () => {
    const { emulator, clock, retirements, consumer, listing } = setup();
    const ours = emulator.addCredential(consumer.id, { created_at: 10, tags: TAGS });
    const handMade = emulator.addCredential(consumer.id, { created_at: 11 });
    const asymmetric = emulator.addCredential(consumer.id, {
      created_at: 12,
      algorithm: "EdDSA",
      tags: TAGS,
      rsa_public_key: ED_PEM,
    });
    const current = emulator.addCredential(consumer.id, { created_at: 20, tags: TAGS });

    const plan = await retirements.supersede(consumer.id, consumer.id, listing(), current.id);
    const removeAfter = new Date(EPOCH + GRACE_MS).toISOString();
    expect(plan.retired).toEqual([{ id: ours.id, removeAfter }]);
    expect(plan.kept).toEqual(
      expect.arrayContaining([
        { id: handMade.id, reason: NOT_CREATED_BY_SERVICE },
        { id: asymmetric.id, reason: OTHER_SIGNING_MODE },
      ]),
    );
    // What the admin answer tells the operator, word for word.
    expect(NOT_CREATED_BY_SERVICE).toBe(
      "not created by this service (no kong-auth-service tag); never deleted",
    );
    expect(OTHER_SIGNING_MODE).toBe("not a credential of this signing mode");
    expect(plan.kept).toHaveLength(2);

    // Superseded again later: the earlier time stands.
    clock.advance(5_000);
    const again = await retirements.supersede(consumer.id, consumer.id, listing(), current.id);
    expect(again.retired).toEqual([{ id: ours.id, removeAfter }]);
  });
});

describe("an instance still signing with an older credential (a rolling deploy)", () => {
  test("never schedules the removal of a newer credential the others sign with", async () => {
    const { emulator, retirements, consumer, listing } = setup();
    const older = emulator.addCredential(consumer.id, { created_at: 10, tags: TAGS });
    const itsOwn = emulator.addCredential(consumer.id, { created_at: 20, tags: TAGS });
    const newer = emulator.addCredential(consumer.id, { created_at: 30, tags: TAGS });
    const tie = emulator.addCredential(consumer.id, { id: `${itsOwn.id}z`, created_at: 20, tags: TAGS });

    // Newest first, as Kong may list them: the picked credential is found by its id, not by place.
    const newestFirst = [...listing()].sort((a, b) => b.created_at - a.created_at);
    const plan = await retirements.supersede(consumer.id, consumer.id, newestFirst, itsOwn.id);
    // Created in the same second as its own: not newer, so superseded as before.
    expect(plan.retired.map(({ id }) => id).sort()).toEqual([older.id, tie.id].sort());
    expect(plan.kept).toEqual([{ id: newer.id, reason: NEWER_THAN_PICKED }]);
    expect(NEWER_THAN_PICKED).toBe("newer than the credential this instance signs with; never retired by it");
  });

  test("a due removal of the new key's credential, swept by an instance still on the old key, is kept", async () => {
    const keys = loadServiceKeySet({
      mode: "service-keys",
      jwks: jwkSet(privateJwk("EdDSA", "old"), privateJwk("EdDSA", "new")),
      activeKid: "old",
    });
    if (!keys) throw new Error("no key set");
    const pem = (kid: string) => keys.keys.find((key) => key.kid === kid)?.publicPem as string;
    const { emulator, retirements, local, outcomes, logs, consumer, ids } = setup({
      policy: serviceKeys(keys),
    });
    const eddsa = (kid: string, created_at: number) =>
      emulator.addCredential(consumer.id, {
        created_at,
        algorithm: "EdDSA",
        rsa_public_key: pem(kid),
        tags: TAGS,
      });
    const oldKeys = eddsa("old", 20);
    const newKeys = eddsa("new", 30);
    await local.schedule(
      { consumerId: consumer.id, kongConsumerId: consumer.id, credentialId: newKeys.id },
      EPOCH,
    );
    await retirements.sweep();
    expect(ids().sort()).toEqual([oldKeys.id, newKeys.id].sort());
    expect(outcomes).toEqual(["kept"]);
    expect(logs.records().map((line) => line.message)).toEqual([
      "Superseded credential kept: newer than the credential this instance signs with; never retired by it",
    ]);
  });
});

describe("Retirements.sweep", () => {
  test("removes a superseded credential at its time and not a millisecond before, once", async () => {
    const { emulator, clock, retirements, outcomes, logs, consumer, listing, ids } = setup();
    const old = emulator.addCredential(consumer.id, { created_at: 10, tags: TAGS });
    const current = emulator.addCredential(consumer.id, { created_at: 20, tags: TAGS });
    await retirements.supersede(consumer.id, consumer.id, listing(), current.id);

    clock.advance(GRACE_MS - 1);
    await retirements.sweep();
    expect(ids()).toContain(old.id);
    expect(outcomes).toEqual([]);
    clock.advance(1);
    await retirements.sweep();
    expect(ids()).toEqual([current.id]);
    expect(outcomes).toEqual(["removed"]);
    const [line] = logs.records();
    expect(line).toMatchObject({
      message: "Superseded credential removed from Kong",
      consumer: { id: consumer.id },
      rotation: { retired_id: old.id },
    });
    await retirements.sweep();
    expect(outcomes).toEqual(["removed"]);
  });

  test("never deletes the credential tokens are signed with, nor one the service did not create", async () => {
    const { emulator, clock, retirements, local, outcomes, logs, consumer, ids } = setup();
    const handMade = emulator.addCredential(consumer.id, { created_at: 10 });
    const picked = emulator.addCredential(consumer.id, { created_at: 20, tags: TAGS });
    for (const credentialId of [handMade.id, picked.id]) {
      await local.schedule({ consumerId: consumer.id, kongConsumerId: consumer.id, credentialId }, EPOCH);
    }
    await retirements.sweep();
    expect(ids().sort()).toEqual([handMade.id, picked.id].sort());
    expect(outcomes).toEqual(["kept", "kept"]);
    expect(logs.records().map((line) => line.message)).toEqual([
      "Superseded credential kept: not created by this service (no kong-auth-service tag); never deleted",
      "Superseded credential kept: the credential tokens are signed with",
    ]);
    expect(CURRENTLY_PICKED).toBe("the credential tokens are signed with");
    clock.advance(LEASE_MS * 10);
    await retirements.sweep();
    expect(outcomes).toHaveLength(2);
  });

  test("while a cache still signs with it, every copy is dropped and the removal waits a full grace period", async () => {
    const { emulator, clock, memory, retirements, invalidated, outcomes, consumer, listing, ids } = setup();
    const old = emulator.addCredential(consumer.id, { created_at: 10, tags: TAGS });
    const current = emulator.addCredential(consumer.id, { created_at: 20, tags: TAGS });
    await retirements.supersede(consumer.id, consumer.id, listing(), current.id);
    clock.advance(GRACE_MS);
    memory.set(cachedEntry(consumer.id, old as unknown as KongCredential, clock.now()));

    await retirements.sweep();
    expect(outcomes).toEqual(["postponed"]);
    expect(invalidated).toEqual([consumer.id]);
    expect(memory.usable(consumer.id)).toBeUndefined();
    expect(ids()).toContain(old.id);
    clock.advance(GRACE_MS - 1);
    await retirements.sweep();
    expect(ids()).toContain(old.id);
    clock.advance(1);
    await retirements.sweep();
    expect(outcomes).toEqual(["postponed", "removed"]);
    expect(ids()).toEqual([current.id]);
  });

  test("Kong down at the due time: the credential stays, and is removed once the lease has passed", async () => {
    const { emulator, clock, retirements, outcomes, consumer, listing, ids } = setup();
    const old = emulator.addCredential(consumer.id, { created_at: 10, tags: TAGS });
    const current = emulator.addCredential(consumer.id, { created_at: 20, tags: TAGS });
    await retirements.supersede(consumer.id, consumer.id, listing(), current.id);
    clock.advance(GRACE_MS);
    emulator.inject({ status: 503, match: (call) => call.method === "DELETE" });
    await retirements.sweep();
    expect(outcomes).toEqual(["failed"]);
    expect(ids()).toContain(old.id);
    emulator.clearFaults();
    await retirements.sweep();
    expect(outcomes).toEqual(["failed"]);
    clock.advance(LEASE_MS);
    await retirements.sweep();
    expect(outcomes).toEqual(["failed", "removed"]);
    expect(ids()).toEqual([current.id]);
  });

  test("a credential (or consumer) already gone is simply forgotten", async () => {
    const { emulator, retirements, local, outcomes, consumer } = setup();
    const gone = { consumerId: consumer.id, kongConsumerId: consumer.id, credentialId: crypto.randomUUID() };
    await local.schedule(gone, EPOCH);
    const other = emulator.addConsumer({ username: "deleted" });
    const orphan = { consumerId: other.id, kongConsumerId: other.id, credentialId: crypto.randomUUID() };
    await local.schedule(orphan, EPOCH);
    emulator.removeConsumer(other.id);
    await retirements.sweep();
    expect(outcomes).toEqual(["gone", "gone"]);
    expect(await local.dueAt(gone)).toBeUndefined();
  });
});

describe("Retirements.sweep when Kong or the record answer otherwise", () => {
  test("Kong down when listing: nothing is deleted or forgotten, and it is tried again after the lease", async () => {
    const { emulator, clock, retirements, outcomes, consumer, listing, ids } = setup();
    const old = emulator.addCredential(consumer.id, { created_at: 10, tags: TAGS });
    const current = emulator.addCredential(consumer.id, { created_at: 20, tags: TAGS });
    await retirements.supersede(consumer.id, consumer.id, listing(), current.id);
    clock.advance(GRACE_MS);
    emulator.inject({ status: 503, match: (call) => call.method === "GET" });
    await retirements.sweep();
    emulator.clearFaults();
    expect(outcomes).toEqual(["failed"]);
    expect(ids()).toContain(old.id);
    clock.advance(LEASE_MS);
    await retirements.sweep();
    expect(outcomes).toEqual(["failed", "removed"]);
  });

  test("a delete Kong answers 404 (deleted meanwhile) is done", async () => {
    const { emulator, clock, retirements, outcomes, local, consumer, listing } = setup();
    const old = emulator.addCredential(consumer.id, { created_at: 10, tags: TAGS });
    const current = emulator.addCredential(consumer.id, { created_at: 20, tags: TAGS });
    await retirements.supersede(consumer.id, consumer.id, listing(), current.id);
    clock.advance(GRACE_MS);
    emulator.inject({ status: 404, times: 1, match: (call) => call.method === "DELETE" });
    await retirements.sweep();
    expect(outcomes).toEqual(["removed"]);
    const retirement = { consumerId: consumer.id, kongConsumerId: consumer.id, credentialId: old.id };
    expect(await local.dueAt(retirement)).toBeUndefined();
  });

  test("removed even when the consumer has no credential this mode signs with any more", async () => {
    const { emulator, retirements, local, outcomes, consumer, ids } = setup();
    const other = emulator.addCredential(consumer.id, {
      algorithm: "EdDSA",
      rsa_public_key: ED_PEM,
      tags: TAGS,
    });
    await local.schedule(
      { consumerId: consumer.id, kongConsumerId: consumer.id, credentialId: other.id },
      EPOCH,
    );
    await retirements.sweep();
    expect(outcomes).toEqual(["removed"]);
    expect(ids()).toEqual([]);
  });

  test("recorded where every instance sees it; here only when that record refuses", async () => {
    const shared = new MemoryRetirementStore();
    const { emulator, retirements, local, consumer, listing } = setup({ shared });
    const old = emulator.addCredential(consumer.id, { created_at: 10, tags: TAGS });
    const current = emulator.addCredential(consumer.id, { created_at: 20, tags: TAGS });
    await retirements.supersede(consumer.id, consumer.id, listing(), current.id);
    const retirement = { consumerId: consumer.id, kongConsumerId: consumer.id, credentialId: old.id };
    expect(await shared.dueAt(retirement)).toBe(EPOCH + GRACE_MS);
    expect(await local.dueAt(retirement)).toBeUndefined();

    // Redis down: nothing recorded there, nothing read back.
    const refusing: RetirementStore = {
      schedule: async () => false,
      postpone: async () => {},
      claimDue: async () => [],
      finish: async () => {},
      dueAt: async () => undefined,
    };
    const down = setup({ shared: refusing });
    const again = down.emulator.addCredential(down.consumer.id, { created_at: 10, tags: TAGS });
    const newer = down.emulator.addCredential(down.consumer.id, { created_at: 20, tags: TAGS });
    const plan = await down.retirements.supersede(
      down.consumer.id,
      down.consumer.id,
      down.listing(),
      newer.id,
    );
    expect(plan.retired).toEqual([{ id: again.id, removeAfter: new Date(EPOCH + GRACE_MS).toISOString() }]);
    const local2 = { consumerId: down.consumer.id, kongConsumerId: down.consumer.id, credentialId: again.id };
    expect(await down.local.dueAt(local2)).toBe(EPOCH + GRACE_MS);
  });
});

describe("Retirements.postpone", () => {
  test("a stale copy signing with a retiring credential moves its removal later, never earlier", async () => {
    const { emulator, clock, retirements, local, consumer, listing } = setup();
    const old = emulator.addCredential(consumer.id, { created_at: 10, tags: TAGS });
    const current = emulator.addCredential(consumer.id, { created_at: 20, tags: TAGS });
    await retirements.supersede(consumer.id, consumer.id, listing(), current.id);
    const retirement = { consumerId: consumer.id, kongConsumerId: consumer.id, credentialId: old.id };
    clock.advance(1_000);
    await retirements.postpone(cachedEntry(consumer.id, old as unknown as KongCredential, EPOCH));
    expect(await local.dueAt(retirement)).toBe(EPOCH + 1_000 + GRACE_MS);
    clock.advance(-500);
    await retirements.postpone(cachedEntry(consumer.id, old as unknown as KongCredential, EPOCH));
    expect(await local.dueAt(retirement)).toBe(EPOCH + 1_000 + GRACE_MS);
    const unrecorded = { ...retirement, credentialId: current.id };
    await retirements.postpone(cachedEntry(consumer.id, current as unknown as KongCredential, EPOCH));
    expect(await local.dueAt(unrecorded)).toBeUndefined();
  });
});

describe("Retirements on a timer", () => {
  test("sweeps every interval until stopped", async () => {
    const store = new MemoryRetirementStore();
    let claims = 0;
    const counting: RetirementStore = {
      schedule: (r, due) => store.schedule(r, due),
      postpone: (r, due) => store.postpone(r, due),
      finish: (r) => store.finish(r),
      dueAt: (r) => store.dueAt(r),
      claimDue: (now, lease, limit) => {
        claims++;
        return store.claimDue(now, lease, limit);
      },
    };
    const { emulator, clock, retirements, consumer, listing, ids } = setup({ local: counting });
    const old = emulator.addCredential(consumer.id, { created_at: 10, tags: TAGS });
    const current = emulator.addCredential(consumer.id, { created_at: 20, tags: TAGS });
    await retirements.supersede(consumer.id, consumer.id, listing(), current.id);
    retirements.start(5);
    await waitFor(() => claims >= 2, "two sweeps");
    expect(ids()).toContain(old.id);
    clock.advance(GRACE_MS);
    await waitFor(() => !ids().includes(old.id), "the due credential to be removed");
    await retirements.stop();
    const after = claims;
    await Bun.sleep(50);
    expect(claims).toBe(after);
  });

  test("stopped during a sweep: the sweep finishes, and no other follows", async () => {
    const store = new MemoryRetirementStore();
    let claims = 0;
    const gate = Promise.withResolvers<void>();
    const held: RetirementStore = {
      schedule: (r, due) => store.schedule(r, due),
      postpone: (r, due) => store.postpone(r, due),
      finish: (r) => store.finish(r),
      dueAt: (r) => store.dueAt(r),
      claimDue: async (now, lease, limit) => {
        claims++;
        await gate.promise;
        return store.claimDue(now, lease, limit);
      },
    };
    const { retirements } = setup({ local: held });
    retirements.start(1);
    await waitFor(() => claims === 1, "a sweep to start");
    const stopping = retirements.stop();
    gate.resolve();
    await stopping;
    await Bun.sleep(30);
    expect(claims).toBe(1);
  });
});

const ED_PEM = `-----BEGIN PUBLIC KEY-----
MCowBQYDK2VwAyEAGb9ECWmEzf6FQbrBZ9w7lshQhqowtrbLDFw4rXAxZuE=
-----END PUBLIC KEY-----
`;

describe("the sweeper's timer", () => {
  test("never keeps the process alive: a process with only the sweeper started exits at once", async () => {
    const source = new URL("../../../src/credentials/retirement.ts", import.meta.url).pathname;
    const script = `
      const { Retirements } = await import(${JSON.stringify(source)});
      new Retirements({ local: {}, now: Date.now }).start(60_000);
    `;
    const started = performance.now();
    const child = Bun.spawn(["bun", "-e", script], { stdout: "ignore", stderr: "pipe" });
    expect(await child.exited).toBe(0);
    expect(performance.now() - started).toBeLessThan(30_000);
  });
});
