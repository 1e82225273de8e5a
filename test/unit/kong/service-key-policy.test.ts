import { describe, expect, test } from "bun:test";
import type { StoredCredential } from "../../../src/cache/types.ts";
import { loadServiceKeySet } from "../../../src/jwt/service-keys.ts";
import { consumerSecrets, pickCredential, serviceKeys } from "../../../src/kong/credential.ts";
import type { KongCredential } from "../../../src/kong/types.ts";
import { jwkSet, privateJwk } from "../../support/service-keys.ts";

const set = loadServiceKeySet({
  mode: "service-keys",
  jwks: jwkSet(privateJwk("EdDSA", "new"), privateJwk("ES256", "old")),
  activeKid: "new",
});
if (!set) throw new Error("the test's key set did not load");
const [active, old] = set.keys as [(typeof set.keys)[0], (typeof set.keys)[0]];
const policy = serviceKeys(set);

const credential = (over: Partial<KongCredential> & { id: string }): KongCredential => ({
  key: `key-${over.id}`,
  secret: "generated-and-unused",
  algorithm: "EdDSA",
  rsa_public_key: active.publicPem,
  created_at: 1000,
  ...over,
});

const stored = (over: Partial<StoredCredential>): StoredCredential => ({
  consumerId: "c1",
  kongConsumerId: "c1",
  username: "alice",
  credentialId: "cred-1",
  key: "key-1",
  algorithm: "EdDSA",
  secret: "new",
  fetchedAt: 0,
  ...over,
});

describe("the service-key signing policy", () => {
  test("uses only a credential with the active key's algorithm and public key", () => {
    const picked = pickCredential(
      [
        credential({ id: "hmac", algorithm: "HS256", rsa_public_key: null, created_at: 9000 }),
        credential({ id: "other-key", rsa_public_key: old.publicPem, created_at: 8000 }),
        credential({ id: "other-alg", algorithm: "ES256", created_at: 7000 }),
        credential({ id: "no-key", rsa_public_key: null, created_at: 6000 }),
        credential({ id: "ours" }),
      ],
      policy,
    );
    expect(picked).toMatchObject({ id: "ours", algorithm: "EdDSA", kid: "new", secret: "new" });
    expect(picked?.signingKey).toBe(active.privateKey);
  });

  test("reads Kong's copy of the PEM whatever its line endings", () => {
    const crlf = `${active.publicPem.replaceAll("\n", "\r\n")}\n`;
    expect(policy.usable(credential({ id: "crlf", rsa_public_key: crlf }))?.id).toBe("crlf");
  });

  test("creates credentials holding the active key, tagged as the service's own", () => {
    expect(policy.draft).toEqual({
      algorithm: "EdDSA",
      rsa_public_key: active.publicPem,
      tags: ["kong-auth-service"],
    });
  });

  test("signs a cached entry with the key its kid names, while that key is in the set", () => {
    expect(policy.materialize(stored({ algorithm: "ES256", secret: "old" }))).toMatchObject({
      kid: "old",
      signingKey: old.privateKey,
    });
    expect(policy.materialize(stored({ secret: "gone" }))).toBeUndefined();
    expect(policy.materialize(stored({ algorithm: "ES256", secret: "new" }))).toBeUndefined();
  });

  test("signs new tokens only with an entry of the active key; another key's is a fallback", () => {
    const current = policy.materialize(stored({}));
    const previous = policy.materialize(stored({ algorithm: "ES256", secret: "old" }));
    expect(current && policy.isCurrent(current)).toBe(true);
    expect(previous && policy.isCurrent(previous)).toBe(false);
  });

  test("owns the asymmetric credentials only, and rotates by creating the active key's when missing", () => {
    expect(policy.ownsKind(credential({ id: "es", algorithm: "ES256" }))).toBe(true);
    expect(policy.ownsKind(credential({ id: "hs", algorithm: "HS256", rsa_public_key: null }))).toBe(false);
    expect(policy.renewsOnRotate).toBe(false);
  });

  test("never signs with an entry of the HMAC mode found in the shared cache", () => {
    expect(policy.materialize(stored({ algorithm: "HS256", secret: "new" }))).toBeUndefined();
  });

  test("and the HMAC mode never signs with a service-key entry", () => {
    expect(consumerSecrets(false).materialize(stored({}))).toBeUndefined();
  });
});
