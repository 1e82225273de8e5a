import { afterEach, describe, expect, test } from "bun:test";
import type { LockResult } from "../../../src/cache/redis.ts";
import { KongEmulator } from "../../support/kong-emulator.ts";
import { EPOCH, failure, found, LOCK_MS, manualClock, SharedRedis, startInstance } from "./instances.ts";

/**
 * Provisioning through a Redis failover (Sentinel or Cluster): the lock may have waited for Redis,
 * and a winner that waited or lost a race asks Kong before creating, because a failover can lose the
 * entry (and the lock) another instance wrote just before.
 */
const cleanups: (() => Promise<void> | void)[] = [];
afterEach(async () => {
  for (const cleanup of cleanups.splice(0).reverse()) await cleanup();
});

async function instance() {
  const emulator = KongEmulator.start();
  const redis = new SharedRedis();
  const clock = manualClock(EPOCH);
  cleanups.push(
    () => emulator.stop(),
    () => redis.close(),
  );
  const started = await startInstance({ emulator, clock, redis });
  cleanups.push(started.stop);
  return { emulator, clock, ...started };
}

/** Replaces the store's lock with answers given in turn, each after its own step (a clock advance). */
function scriptLock(store: { lock: unknown } | undefined, answers: (() => LockResult)[]) {
  let call = 0;
  if (!store) throw new Error("no Redis store");
  store.lock = async () => {
    const answer = answers[Math.min(call++, answers.length - 1)] as () => LockResult;
    return answer();
  };
}
const acquired = (waited = false): LockResult => ({ kind: "acquired", waited, release: async () => {} });

describe("provisioning through a Redis failover", () => {
  test("a winner at the first try creates at once: no second look at Kong", async () => {
    const { emulator, service } = await instance();
    const ada = emulator.addConsumer({ username: "ada" });
    found(await service.lookup(ada.id, "ada"));
    expect(emulator.countCalls({ method: "GET", pathIncludes: "/jwt" })).toBe(1);
    expect(emulator.countCalls({ method: "POST" })).toBe(1);
  });

  test("a lock that waited out a failover restarts the wait for the holder", async () => {
    const { emulator, clock, service, store } = await instance();
    const bo = emulator.addConsumer({ username: "bo" });
    scriptLock(store, [
      () => {
        clock.advance(LOCK_MS * 3);
        return { kind: "busy", waited: true };
      },
      () => {
        clock.advance(LOCK_MS);
        return { kind: "busy", waited: false };
      },
      () => acquired(),
    ]);
    found(await service.lookup(bo.id, "bo"));
    expect(emulator.credentialsOf(bo.id)).toHaveLength(1);
  });

  test("a winner that waited for Redis uses the credential Kong already has", async () => {
    const { emulator, service, store } = await instance();
    const cy = emulator.addConsumer({ username: "cy" });
    const before = emulator.addCredential(cy.id);
    // Listed once before the lock (as none usable: it is made so below), once after.
    let lists = 0;
    emulator.inject({
      match: (call) => call.method === "GET" && call.path.endsWith("/jwt") && ++lists === 1,
      body: { data: [], next: null },
      status: 200,
    });
    scriptLock(store, [() => acquired(true)]);
    expect(found(await service.lookup(cy.id, "cy")).credential.key).toBe(before.key);
    expect(emulator.countCalls({ method: "POST" })).toBe(0);
  });

  test("a winner that lost a race and cannot list the credentials creates nothing: unavailable", async () => {
    const { emulator, service, store } = await instance();
    const di = emulator.addConsumer({ username: "di" });
    let lists = 0;
    emulator.inject({
      match: (call) => call.method === "GET" && call.path.endsWith("/jwt") && ++lists >= 2,
      status: 500,
    });
    scriptLock(store, [() => ({ kind: "busy", waited: false }), () => acquired()]);
    expect(failure(await service.lookup(di.id, "di")).kind).toBe("unavailable");
    expect(emulator.countCalls({ method: "POST" })).toBe(0);
  });
});
