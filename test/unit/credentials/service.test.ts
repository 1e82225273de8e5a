import { afterEach, describe, expect, test } from "bun:test";
import { KongEmulator, type KongMode } from "../../support/kong-emulator.ts";
import {
  BREAKER_RESET_MS,
  EPOCH,
  FRESH_MS,
  failure,
  found,
  type InstanceOptions,
  manualClock,
  STALE_MS,
  startInstance,
  UNKNOWN_CONSUMER,
  UNKNOWN_MS,
} from "./instances.ts";

/**
 * CredentialService over the real Kong adapter and breaker, talking to the Kong emulator, with one
 * instance's memory tier (no Redis here; see service.shared.test.ts) and an injected clock.
 */
const cleanups: (() => Promise<void> | void)[] = [];
afterEach(async () => {
  for (const cleanup of cleanups.splice(0).reverse()) await cleanup();
});

async function setup(options: { mode?: KongMode } & Omit<Partial<InstanceOptions>, "clock"> = {}) {
  const emulator = options.emulator ?? KongEmulator.start({ mode: options.mode ?? "API_GATEWAY" });
  const clock = manualClock(EPOCH);
  const instance = await startInstance({ ...options, emulator, clock });
  cleanups.push(() => emulator.stop(), instance.stop);
  return { emulator, clock, ...instance };
}

const consumerCalls = (emulator: KongEmulator) =>
  emulator.calls.filter((call) => call.method === "GET" && !call.path.endsWith("/jwt")).length;

describe("CredentialService: a consumer's credential from Kong", () => {
  test("found in Kong, then served from memory until it is no longer fresh", async () => {
    const { emulator, clock, service } = await setup();
    const alice = emulator.addConsumer({ username: "alice" });
    const credential = emulator.addCredential(alice.id);
    expect(service.cached(alice.id)).toBeUndefined();

    const result = found(await service.lookup(alice.id, "alice"));
    expect(result.source).toBe("kong");
    expect(result.credential).toMatchObject({
      consumerId: alice.id,
      kongConsumerId: alice.id,
      username: "alice",
      credentialId: credential.id,
      key: credential.key,
      algorithm: "HS256",
      secret: credential.secret,
      fetchedAt: EPOCH,
    });
    expect(result.credential.signingKey.export().toString()).toBe(credential.secret);

    clock.advance(FRESH_MS - 1);
    expect(service.cached(alice.id)?.key).toBe(credential.key);
    clock.advance(1);
    expect(service.cached(alice.id)).toBeUndefined();
  });

  test("a consumer without a credential gets one created in Kong, and uses it", async () => {
    const { emulator, service } = await setup();
    const bob = emulator.addConsumer({ username: "bob" });
    const result = found(await service.lookup(bob.id, "bob"));
    const created = emulator.credentialsOf(bob.id);
    expect(created).toHaveLength(1);
    expect(result.credential.key).toBe(created[0]?.key as string);
    expect(service.cached(bob.id)?.key).toBe(created[0]?.key as string);
  });

  test("concurrent lookups for one consumer ask Kong once and create one credential", async () => {
    const { emulator, service } = await setup();
    const carol = emulator.addConsumer({ username: "carol" });
    const results = await Promise.all(Array.from({ length: 10 }, () => service.lookup(carol.id, "carol")));
    const keys = new Set(results.map((result) => found(result).credential.key));
    expect(keys.size).toBe(1);
    expect(consumerCalls(emulator)).toBe(1);
    expect(emulator.credentialsOf(carol.id)).toHaveLength(1);
  });

  test("a consumer Kong does not know is not asked of Kong again while remembered, and is once forgotten", async () => {
    const { emulator, clock, service } = await setup();
    const id = crypto.randomUUID();
    expect(await service.lookup(id, "ghost")).toEqual(UNKNOWN_CONSUMER);
    expect(consumerCalls(emulator)).toBe(1);

    // Kong learns the consumer; the service keeps answering from its record until it expires.
    emulator.addCredential(emulator.addConsumer({ id, username: "ghost" }).id);
    clock.advance(UNKNOWN_MS);
    expect(await service.lookup(id, "ghost")).toEqual(UNKNOWN_CONSUMER);
    expect(consumerCalls(emulator)).toBe(1);
    clock.advance(1);
    expect(found(await service.lookup(id, "ghost")).source).toBe("kong");
    expect(consumerCalls(emulator)).toBe(2);
  });

  test("a consumer deleted between listing and creating its credential is unknown, and nothing is cached", async () => {
    const { emulator, service } = await setup();
    const dave = emulator.addConsumer({ username: "dave" });
    emulator.inject({ status: 404, match: (call) => call.method === "POST", times: 1 });
    expect(await service.lookup(dave.id, "dave")).toEqual(UNKNOWN_CONSUMER);
    expect(service.cached(dave.id)).toBeUndefined();
  });

  test("a consumer deleted between finding it and listing its credentials is unknown", async () => {
    const { emulator, service } = await setup();
    const erin = emulator.addConsumer({ username: "erin" });
    emulator.addCredential(erin.id);
    emulator.inject({ status: 404, match: (call) => call.path.endsWith("/jwt"), times: 1 });
    expect(await service.lookup(erin.id, "erin")).toEqual(UNKNOWN_CONSUMER);
    expect(emulator.countCalls({ method: "POST" })).toBe(0);
  });

  test("a credential Kong creates that its jwt plugin could not verify is a misconfiguration", async () => {
    const { emulator, service } = await setup({ secretIsBase64: true });
    const frank = emulator.addConsumer({ username: "frank" });
    emulator.inject({
      status: 201,
      body: { id: crypto.randomUUID(), key: "k".repeat(32), secret: "not+base64/url", algorithm: "HS256" },
      match: (call) => call.method === "POST",
      times: 1,
    });
    expect(failure(await service.lookup(frank.id, "frank"))).toMatchObject({
      kind: "misconfigured",
      message: "Kong created a credential the jwt plugin could not verify",
    });
    expect(service.cached(frank.id)).toBeUndefined();
  });
});

describe("CredentialService: which Kong consumer a request maps to", () => {
  test("Konnect: a realm consumer signs with the credential of the control-plane consumer of its name", async () => {
    const { emulator, service } = await setup({ mode: "KONNECT" });
    const plane = emulator.addConsumer({ username: "realm-user" });
    const credential = emulator.addCredential(plane.id);
    const realm = emulator.addRealmConsumer({ username: "realm-user" });

    const result = found(await service.lookup(realm.id, "realm-user"));
    expect(result.credential).toMatchObject({
      consumerId: realm.id,
      kongConsumerId: plane.id,
      key: credential.key,
    });
    expect(service.cached(realm.id)?.key).toBe(credential.key);
  });

  test("Konnect: only an id Kong does not know is tried by username; a refusal of the id is the answer", async () => {
    const { emulator, service } = await setup({ mode: "KONNECT" });
    emulator.addCredential(emulator.addConsumer({ username: "realm-user" }).id);
    const realm = emulator.addRealmConsumer({ username: "realm-user" });
    emulator.inject({ status: 403, match: (call) => call.path.endsWith(`/consumers/${realm.id}`), times: 1 });
    expect(failure(await service.lookup(realm.id, "realm-user"))).toMatchObject({
      kind: "misconfigured",
      status: 403,
    });
    expect(emulator.countCalls({ pathIncludes: "realm-user" })).toBe(0);
  });

  test("API_GATEWAY: an id Kong does not know is not resolved by username", async () => {
    const { emulator, service } = await setup();
    emulator.addCredential(emulator.addConsumer({ username: "named" }).id);
    expect(await service.lookup(crypto.randomUUID(), "named")).toEqual(UNKNOWN_CONSUMER);
    expect(emulator.countCalls({ pathIncludes: "named" })).toBe(0);
    expect(consumerCalls(emulator)).toBe(1);
  });

  test("Konnect: a consumer found by its id keeps its own credential, whatever username comes with it", async () => {
    const { emulator, service } = await setup({ mode: "KONNECT" });
    const own = emulator.addConsumer({ username: "own" });
    const ownCredential = emulator.addCredential(own.id);
    emulator.addCredential(emulator.addConsumer({ username: "other" }).id);
    expect(found(await service.lookup(own.id, "other")).credential.key).toBe(ownCredential.key);
    expect(consumerCalls(emulator)).toBe(1);
  });

  test.each(["", ".", ".."])(
    "Konnect: a username that is no path segment (%p) is not looked up",
    async (name) => {
      const { emulator, service } = await setup({ mode: "KONNECT" });
      expect(await service.lookup(crypto.randomUUID(), name)).toEqual(UNKNOWN_CONSUMER);
      expect(consumerCalls(emulator)).toBe(1);
    },
  );

  test("Konnect: a realm name that resolves to an anonymous consumer listed by id gets nothing", async () => {
    const emulator = KongEmulator.start({ mode: "KONNECT" });
    const guest = emulator.addConsumer({ username: "guest" });
    emulator.addCredential(guest.id);
    const { service } = await setup({ emulator, anonymous: [guest.id] });
    const realm = emulator.addRealmConsumer({ username: "guest" });
    expect(await service.lookup(realm.id, "guest")).toEqual(UNKNOWN_CONSUMER);
    expect(emulator.countCalls({ pathIncludes: "/jwt" })).toBe(0);
    expect(service.cached(realm.id)).toBeUndefined();
  });

  test("Konnect: a realm name that resolves to an anonymous consumer listed by username gets nothing", async () => {
    const emulator = KongEmulator.start({ mode: "KONNECT" });
    const guest = emulator.addConsumer({ username: "guest" });
    const { service } = await setup({ emulator, anonymous: ["guest"] });
    const realm = emulator.addRealmConsumer({ username: "guest" });
    expect(await service.lookup(realm.id, "guest")).toEqual(UNKNOWN_CONSUMER);
    expect(emulator.credentialsOf(guest.id)).toEqual([]);
  });

  test("Konnect: an anonymous consumer is recognised whatever the case Kong writes its id in", async () => {
    const emulator = KongEmulator.start({ mode: "KONNECT" });
    const guest = emulator.addConsumer({ username: "guest" });
    const { service } = await setup({ emulator, anonymous: [guest.id] });
    const realm = emulator.addRealmConsumer({ username: "guest" });
    emulator.inject({
      status: 200,
      body: { id: guest.id.toUpperCase(), username: "guest" },
      match: (call) => call.path.endsWith("/consumers/guest"),
    });
    expect(await service.lookup(realm.id, "guest")).toEqual(UNKNOWN_CONSUMER);
    expect(emulator.countCalls({ method: "POST" })).toBe(0);
  });
});

describe("CredentialService: when Kong cannot answer", () => {
  test("nothing cached: unavailable, with the Retry-After the breaker gives", async () => {
    const { emulator, clock, service } = await setup();
    const id = emulator.addConsumer({ username: "hank" }).id;
    emulator.inject({ status: 503 });
    // Two failures open the breaker (volumeThreshold 2 in instances.ts); then it is not even asked.
    for (let i = 0; i < 2; i++) expect(failure(await service.lookup(id, "hank")).kind).toBe("unavailable");
    clock.advance(12_000);
    expect(failure(await service.lookup(id, "hank"))).toMatchObject({
      kind: "unavailable",
      circuitOpen: true,
      retryAfterSeconds: (BREAKER_RESET_MS - 12_000) / 1000,
    });
  });

  test("a stale copy in memory stands in, with the reason", async () => {
    const { emulator, clock, service } = await setup({ highAvailability: true });
    const ivy = emulator.addConsumer({ username: "ivy" });
    const credential = emulator.addCredential(ivy.id);
    await service.lookup(ivy.id, "ivy");
    clock.advance(FRESH_MS);
    emulator.inject({ status: 503 });
    const result = found(await service.lookup(ivy.id, "ivy"));
    expect(result.source).toBe("stale-memory");
    expect(result.credential.key).toBe(credential.key);
    expect(result.reason).toContain("Kong answered 503");

    clock.advance(STALE_MS);
    expect(failure(await service.lookup(ivy.id, "ivy")).kind).toBe("unavailable");
  });

  test("a refused admin token is a misconfiguration, never hidden behind a stale copy", async () => {
    const { emulator, clock, service } = await setup({ highAvailability: true });
    const jack = emulator.addConsumer({ username: "jack" });
    emulator.addCredential(jack.id);
    await service.lookup(jack.id, "jack");
    clock.advance(FRESH_MS);
    emulator.inject({ status: 401 });
    expect(failure(await service.lookup(jack.id, "jack"))).toMatchObject({
      kind: "misconfigured",
      status: 401,
    });
  });

  test("a fault in the code (not Kong's) is not answered with a stale copy", async () => {
    const { emulator, clock, service, kong } = await setup({ highAvailability: true });
    const kate = emulator.addConsumer({ username: "kate" });
    emulator.addCredential(kate.id);
    await service.lookup(kate.id, "kate");
    clock.advance(FRESH_MS);
    kong.bug = new TypeError("a bug");
    await expect(service.lookup(kate.id, "kate")).rejects.toThrow("a bug");
  });
});
