import { afterEach, describe, expect, test } from "bun:test";
import { KongEmulator } from "../../support/kong-emulator.ts";
import { waitFor } from "../../support/wait.ts";
import {
  EPOCH,
  FRESH_MS,
  failure,
  found,
  type Instance,
  LOCK_MS,
  manualClock,
  SharedRedis,
  startInstance,
  UNKNOWN_CONSUMER,
} from "./instances.ts";

/**
 * Instances of CredentialService sharing one emulated Kong, one real Redis (a prefix of their own)
 * and one injected clock: what one instance learns reaches the others through Redis, and racing
 * instances create a consumer's first credential once.
 */
const cleanups: (() => Promise<void> | void)[] = [];
afterEach(async () => {
  for (const cleanup of cleanups.splice(0).reverse()) await cleanup();
});

async function cluster(options: { highAvailability?: boolean } = {}) {
  const emulator = KongEmulator.start();
  const redis = new SharedRedis();
  const clock = manualClock(EPOCH);
  cleanups.push(
    () => emulator.stop(),
    () => redis.close(),
  );
  const instance = async () => {
    const started = await startInstance({ emulator, clock, redis, ...options });
    cleanups.push(started.stop);
    return started;
  };
  return { emulator, redis, clock, a: await instance(), b: await instance(), instance };
}

/** Resolves once `instance` has read Redis `count` more times: it is polling for another's result. */
async function polled(instance: Instance, count: number, settled: () => boolean) {
  const seen = instance.redisReads.length;
  await waitFor(() => settled() || instance.redisReads.length >= seen + count, "Redis reads");
  expect(settled()).toBe(false);
}

/** Resolves once `lookup` is held; fails at once if it ends without getting there. */
function reached(hold: { reached: Promise<void> }, lookup: Promise<unknown>) {
  const ended = lookup.then(() => {
    throw new Error("the lookup ended before reaching the hold");
  });
  return Promise.race([hold.reached, ended]);
}

function track<T>(promise: Promise<T>) {
  let done = false;
  void promise.then(
    () => {
      done = true;
    },
    () => {
      done = true;
    },
  );
  return { promise, settled: () => done };
}

describe("CredentialService across instances: Redis as the shared tier", () => {
  test("an instance serves what another fetched, from Redis, without asking Kong", async () => {
    const { emulator, a, b } = await cluster();
    const alice = emulator.addConsumer({ username: "alice" });
    const credential = emulator.addCredential(alice.id);
    expect(found(await a.service.lookup(alice.id, "alice")).source).toBe("kong");
    emulator.resetCalls();

    const result = found(await b.service.lookup(alice.id, "alice"));
    expect(result.source).toBe("redis");
    expect(result.credential.key).toBe(credential.key);
    expect(emulator.calls).toHaveLength(0);
    expect(b.service.cached(alice.id)?.key).toBe(credential.key);
  });

  test("a stale Redis copy is not served as fresh: Kong is asked, and a rotated credential replaces it", async () => {
    const { emulator, clock, a, b } = await cluster({ highAvailability: true });
    const bob = emulator.addConsumer({ username: "bob" });
    const old = emulator.addCredential(bob.id);
    await a.service.lookup(bob.id, "bob");
    clock.advance(FRESH_MS);
    emulator.removeCredential(bob.id, old.id);
    const rotated = emulator.addCredential(bob.id);

    const result = found(await b.service.lookup(bob.id, "bob"));
    expect(result.source).toBe("kong");
    expect(result.credential.key).toBe(rotated.key);
  });

  test("a consumer deleted in Kong is cleared from Redis: another instance no longer signs for it", async () => {
    const { emulator, clock, a, b } = await cluster({ highAvailability: true });
    const carol = emulator.addConsumer({ username: "carol" });
    emulator.addCredential(carol.id);
    await a.service.lookup(carol.id, "carol");
    clock.advance(FRESH_MS);
    emulator.removeConsumer(carol.id);
    expect(await a.service.lookup(carol.id, "carol")).toEqual(UNKNOWN_CONSUMER);

    // Kong then fails: B has nothing of its own, and Redis must not hand it the deleted consumer's copy.
    emulator.inject({ status: 503 });
    expect(failure(await b.service.lookup(carol.id, "carol")).kind).toBe("unavailable");
    expect(await b.store?.read(carol.id)).toBeUndefined();
  });

  test("a Kong outage falls back on Redis's stale copy when memory has none", async () => {
    const { emulator, clock, a, b } = await cluster({ highAvailability: true });
    const dave = emulator.addConsumer({ username: "dave" });
    const credential = emulator.addCredential(dave.id);
    await a.service.lookup(dave.id, "dave");
    clock.advance(FRESH_MS);
    emulator.inject({ status: 503 });
    const result = found(await b.service.lookup(dave.id, "dave"));
    expect(result.source).toBe("stale-redis");
    expect(result.credential.key).toBe(credential.key);
    expect(result.reason).toContain("Kong answered 503");
  });

  test("a Kong outage prefers this instance's own stale copy to Redis's", async () => {
    const { emulator, clock, a, b } = await cluster({ highAvailability: true });
    const erin = emulator.addConsumer({ username: "erin" });
    const first = emulator.addCredential(erin.id);
    await a.service.lookup(erin.id, "erin");
    // B fetches later, after a rotation, and overwrites Redis; A still holds the first in memory.
    clock.advance(FRESH_MS);
    emulator.removeCredential(erin.id, first.id);
    const second = emulator.addCredential(erin.id);
    expect(found(await b.service.lookup(erin.id, "erin")).credential.key).toBe(second.key);
    clock.advance(FRESH_MS);
    emulator.inject({ status: 503 });

    const result = found(await a.service.lookup(erin.id, "erin"));
    expect(result.source).toBe("stale-memory");
    expect(result.credential.key).toBe(first.key);
  });
});

describe("CredentialService across instances: a consumer's first credential is created once", () => {
  test("two instances racing on a new consumer create one credential, and both sign with it", async () => {
    const { emulator, a, b } = await cluster();
    const frank = emulator.addConsumer({ username: "frank" });
    const holdA = a.kong.hold("list");
    const holdB = b.kong.hold("list");
    const lookupA = a.service.lookup(frank.id, "frank");
    const lookupB = b.service.lookup(frank.id, "frank");
    await Promise.all([reached(holdA, lookupA), reached(holdB, lookupB)]);
    holdA.release();
    holdB.release();

    const keys = (await Promise.all([lookupA, lookupB])).map((result) => found(result).credential.key);
    const created = emulator.credentialsOf(frank.id).map((credential) => credential.key);
    expect(created).toHaveLength(1);
    expect(keys).toEqual([created[0] as string, created[0] as string]);
  });

  test("an instance that listed before another finished takes the other's credential instead of creating one", async () => {
    const { emulator, a, b } = await cluster();
    const gina = emulator.addConsumer({ username: "gina" });
    const hold = b.kong.hold("list");
    const late = b.service.lookup(gina.id, "gina");
    await reached(hold, late);
    const first = found(await a.service.lookup(gina.id, "gina"));
    hold.release();

    expect(found(await late).credential.key).toBe(first.credential.key);
    expect(emulator.credentialsOf(gina.id)).toHaveLength(1);
  });

  test("a stale Redis copy of a revoked credential is not taken for the new one", async () => {
    const { emulator, clock, a, b } = await cluster({ highAvailability: true });
    const hank = emulator.addConsumer({ username: "hank" });
    const revoked = emulator.addCredential(hank.id);
    await a.service.lookup(hank.id, "hank");
    clock.advance(FRESH_MS);
    emulator.removeCredential(hank.id, revoked.id);

    const result = found(await b.service.lookup(hank.id, "hank"));
    expect(result.credential.key).not.toBe(revoked.key);
    expect(result.credential.key).toBe(emulator.credentialsOf(hank.id)[0]?.key as string);
  });

  test("the lock is released after creating, and after Kong failed to create", async () => {
    const { emulator, redis, clock, a } = await cluster();
    const other = await redis.store(clock);
    const ivy = emulator.addConsumer({ username: "ivy" });
    await a.service.lookup(ivy.id, "ivy");
    const afterCreate = await other.lock(ivy.id, LOCK_MS);
    expect(afterCreate.kind).toBe("acquired");
    if (afterCreate.kind === "acquired") await afterCreate.release();

    const jack = emulator.addConsumer({ username: "jack" });
    emulator.inject({ status: 500, match: (call) => call.method === "POST", times: 1 });
    expect(failure(await a.service.lookup(jack.id, "jack")).kind).toBe("unavailable");
    const afterFailure = await other.lock(jack.id, LOCK_MS);
    expect(afterFailure.kind).toBe("acquired");
    if (afterFailure.kind === "acquired") await afterFailure.release();
  });

  test("an instance whose lock expired before it finished leaves the lock another instance took", async () => {
    const { emulator, redis, clock } = await cluster();
    // As if Redis lost the lock early (a failover to a replica that had not received it yet).
    const slow = await startInstance({ emulator, clock, redis, provisionLockMs: 200 });
    cleanups.push(slow.stop);
    const other = await redis.store(clock);
    const paula = emulator.addConsumer({ username: "paula" });
    const hold = slow.kong.hold("create");
    const lookup = slow.service.lookup(paula.id, "paula");
    await reached(hold, lookup);
    let taken = await other.lock(paula.id, 60_000);
    await waitFor(async () => {
      if (taken.kind !== "acquired") taken = await other.lock(paula.id, 60_000);
      return taken.kind === "acquired";
    }, "the expired lock to be taken");
    hold.release();
    expect(found(await lookup).source).toBe("kong");

    expect((await other.lock(paula.id, 1_000)).kind).toBe("busy");
    if (taken.kind === "acquired") await taken.release();
  });

  test("an instance that stopped mid-provisioning: once its lock expires, another creates the credential", async () => {
    const { emulator, redis, clock, a } = await cluster();
    const kate = emulator.addConsumer({ username: "kate" });
    // The lock of an instance that died before creating anything: it is never released.
    expect((await (await redis.store(clock)).lock(kate.id, 300)).kind).toBe("acquired");

    const result = found(await a.service.lookup(kate.id, "kate"));
    expect(emulator.credentialsOf(kate.id).map((credential) => credential.key)).toEqual([
      result.credential.key,
    ]);
  });

  test("while another instance holds the lock, its credential is taken as soon as it reaches Redis", async () => {
    const { emulator, redis, clock, a, b } = await cluster();
    const liam = emulator.addConsumer({ username: "liam" });
    const held = await (await redis.store(clock)).lock(liam.id, 60_000);
    cleanups.push(() => (held.kind === "acquired" ? held.release() : undefined));
    const waiting = track(b.service.lookup(liam.id, "liam"));
    await polled(b, 2, waiting.settled);

    // Up to twice the lock time by the injected clock, the loser keeps waiting for the winner.
    clock.advance(LOCK_MS * 2 - 1);
    await polled(b, 2, waiting.settled);
    // The lock holder's credential, stored through another instance that finds it in Kong.
    const credential = emulator.addCredential(liam.id);
    await a.service.lookup(liam.id, "liam");

    expect(found(await waiting.promise).credential.key).toBe(credential.key);
    expect(emulator.countCalls({ method: "POST" })).toBe(0);
  });

  test("a waiting instance ignores a stale Redis copy while the lock holder provisions", async () => {
    const { emulator, redis, clock, a, b } = await cluster({ highAvailability: true });
    const mia = emulator.addConsumer({ username: "mia" });
    const revoked = emulator.addCredential(mia.id);
    await a.service.lookup(mia.id, "mia");
    clock.advance(FRESH_MS);
    emulator.removeCredential(mia.id, revoked.id);
    const held = await (await redis.store(clock, true)).lock(mia.id, 60_000);
    cleanups.push(() => (held.kind === "acquired" ? held.release() : undefined));

    const waiting = track(b.service.lookup(mia.id, "mia"));
    await polled(b, 2, waiting.settled);
    const credential = emulator.addCredential(mia.id);
    await a.service.lookup(mia.id, "mia");
    expect(found(await waiting.promise).credential.key).toBe(credential.key);
  });

  test("a waiting instance that gets the lock finds no shared entry: it asks Kong, and uses what the holder created (a failover lost the entry)", async () => {
    const { emulator, redis, clock, b } = await cluster();
    const pia = emulator.addConsumer({ username: "pia" });
    const held = await (await redis.store(clock)).lock(pia.id, 60_000);
    const waiting = track(b.service.lookup(pia.id, "pia"));
    await polled(b, 2, waiting.settled);
    // The holder created the credential, but its shared entry never made it (lost with the master).
    const created = emulator.addCredential(pia.id);
    if (held.kind === "acquired") await held.release();

    expect(found(await waiting.promise).credential.key).toBe(created.key);
    expect(emulator.credentialsOf(pia.id)).toHaveLength(1);
    expect(emulator.countCalls({ method: "POST" })).toBe(0);
  });

  test("past twice the lock time, a waiting instance gives up: unavailable, nothing created", async () => {
    const { emulator, redis, clock, b } = await cluster();
    const noah = emulator.addConsumer({ username: "noah" });
    const held = await (await redis.store(clock)).lock(noah.id, 60_000);
    cleanups.push(() => (held.kind === "acquired" ? held.release() : undefined));
    const waiting = track(b.service.lookup(noah.id, "noah"));
    await polled(b, 2, waiting.settled);
    clock.advance(LOCK_MS * 2);

    expect(failure(await waiting.promise)).toMatchObject({
      kind: "unavailable",
      message: "another instance is still provisioning this consumer",
      retryAfterSeconds: 1,
    });
    expect(emulator.countCalls({ method: "POST" })).toBe(0);
  });

  test("with Redis unreachable, the lock is skipped and the credential created", async () => {
    const emulator = KongEmulator.start();
    cleanups.push(() => emulator.stop());
    const { service, stop } = await startInstance({ emulator, clock: manualClock(EPOCH), redisDown: true });
    cleanups.push(stop);
    const olga = emulator.addConsumer({ username: "olga" });
    const result = found(await service.lookup(olga.id, "olga"));
    expect(emulator.credentialsOf(olga.id).map((credential) => credential.key)).toEqual([
      result.credential.key,
    ]);
  });
});
