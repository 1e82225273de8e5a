import { afterEach, describe, expect, test } from "bun:test";
import type { CachedCredential } from "../../../src/cache/types.ts";
import { loadServiceKeySet } from "../../../src/jwt/service-keys.ts";
import { serviceKeys } from "../../../src/kong/credential.ts";
import type { KongCredential } from "../../../src/kong/types.ts";
import { KongEmulator } from "../../support/kong-emulator.ts";
import { jwkSet, privateJwk } from "../../support/service-keys.ts";
import { EPOCH, FRESH_MS, found, manualClock, startInstance } from "./instances.ts";

/** What the credential service tells the retirements: every listing it picked from, every stale copy it signed with. */
const cleanups: (() => Promise<void> | void)[] = [];
afterEach(async () => {
  for (const cleanup of cleanups.splice(0).reverse()) await cleanup();
});

async function setup(policy?: Parameters<typeof startInstance>[0]["policy"]) {
  const emulator = KongEmulator.start();
  const clock = manualClock(EPOCH);
  const picked: [string, string, string[], string][] = [];
  const stale: CachedCredential[] = [];
  const instance = await startInstance({
    emulator,
    clock,
    highAvailability: true,
    ...(policy ? { policy } : {}),
    hooks: {
      onPicked: async (consumerId, kongConsumerId, listing: readonly KongCredential[], pickedId) => {
        picked.push([consumerId, kongConsumerId, listing.map(({ id }) => id).sort(), pickedId]);
      },
      onStale: async (entry) => {
        stale.push(entry);
      },
    },
  });
  cleanups.push(() => emulator.stop(), instance.stop);
  return { emulator, clock, picked, stale, ...instance };
}

describe("CredentialService tells the retirements what it saw", () => {
  test("the listing a credential was picked from, and the listing a created one joined", async () => {
    const { emulator, service, picked } = await setup();
    const alice = emulator.addConsumer({ username: "alice" });
    const older = emulator.addCredential(alice.id, { created_at: 10 });
    const newer = emulator.addCredential(alice.id, { created_at: 20 });
    expect(found(await service.lookup(alice.id, "alice")).credential.credentialId).toBe(newer.id);
    expect(picked).toEqual([[alice.id, alice.id, [older.id, newer.id].sort(), newer.id]]);

    const bob = emulator.addConsumer({ username: "bob" });
    const created = found(await service.lookup(bob.id, "bob")).credential.credentialId;
    expect(picked[1]).toEqual([bob.id, bob.id, [], created]);
  });

  test("nothing when Kong fails; the entry when a stale copy signs instead", async () => {
    const { emulator, clock, service, picked, stale } = await setup();
    const alice = emulator.addConsumer({ username: "alice" });
    const credential = emulator.addCredential(alice.id);
    await service.lookup(alice.id, "alice");
    clock.advance(FRESH_MS);
    emulator.inject({ status: 503 });
    const result = found(await service.lookup(alice.id, "alice"));
    expect(result.source).toBe("stale-memory");
    expect(picked).toHaveLength(1);
    expect(stale.map((entry) => entry.credentialId)).toEqual([credential.id]);
  });

  test("with service keys, the cached credential carries the key's kid for the token header", async () => {
    const set = loadServiceKeySet({ mode: "service-keys", jwks: jwkSet(privateJwk("EdDSA", "kid-1")) });
    if (!set) throw new Error("the test's key set did not load");
    const { emulator, service } = await setup(serviceKeys(set));
    const alice = emulator.addConsumer({ username: "alice" });
    expect(found(await service.lookup(alice.id, "alice")).credential.kid).toBe("kid-1");
    emulator.addCredential(alice.id, { algorithm: "EdDSA", rsa_public_key: set.active.publicPem });
    const bob = emulator.addConsumer({ username: "bob" });
    emulator.addCredential(bob.id, { algorithm: "EdDSA", rsa_public_key: set.active.publicPem });
    expect(found(await service.lookup(bob.id, "bob")).credential.kid).toBe("kid-1");
  });

  test("an HMAC credential has no kid at all", async () => {
    const { emulator, service } = await setup();
    const alice = emulator.addConsumer({ username: "alice" });
    emulator.addCredential(alice.id);
    expect(Object.hasOwn(found(await service.lookup(alice.id, "alice")).credential, "kid")).toBe(false);
  });
});
