import { describe, expect, test } from "bun:test";
import { createHmac } from "node:crypto";
import type { StoredCredential } from "../../../src/cache/types.ts";
import { HmacKey, type SigningKey } from "../../../src/jwt/keys.ts";
import { consumerSecrets, createdByService, pickCredential } from "../../../src/kong/credential.ts";
import type { KongCredential } from "../../../src/kong/types.ts";

const cred = (over: Partial<KongCredential> & { id: string }): KongCredential => ({
  key: `key-${over.id}`,
  secret: `secret-${over.id}`,
  algorithm: "HS256",
  created_at: 1000,
  ...over,
});

const HMAC = consumerSecrets(false);
const HMAC_BASE64 = consumerSecrets(true);

describe("pickCredential", () => {
  test("nothing to pick from", () => {
    expect(pickCredential([], HMAC)).toBeUndefined();
  });

  test("the newest by created_at wins regardless of list order", () => {
    const picked = pickCredential(
      [
        cred({ id: "a", created_at: 10 }),
        cred({ id: "c", created_at: 30 }),
        cred({ id: "b", created_at: 20 }),
      ],
      HMAC,
    );
    expect(picked?.id).toBe("c");
  });

  test("the newest wins even when an older credential has a greater id", () => {
    const picked = pickCredential(
      [cred({ id: "c", created_at: 30 }), cred({ id: "z", created_at: 10 })],
      HMAC,
    );
    expect(picked?.id).toBe("c");
  });

  test("equal created_at falls back to the greater id", () => {
    expect(pickCredential([cred({ id: "b" }), cred({ id: "d" }), cred({ id: "a" })], HMAC)?.id).toBe("d");
    expect(pickCredential([cred({ id: "d" }), cred({ id: "b" })], HMAC)?.id).toBe("d");
  });

  test("HS384 and HS512 are signable; RS/ES/PS/EdDSA credentials are skipped", () => {
    const picked = pickCredential(
      [
        cred({ id: "1", algorithm: "HS384", created_at: 1 }),
        cred({ id: "2", algorithm: "RS256", created_at: 5, secret: null }),
        cred({ id: "3", algorithm: "ES256", created_at: 6 }),
        cred({ id: "4", algorithm: "EdDSA", created_at: 7 }),
        cred({ id: "5", algorithm: "HS512", created_at: 2 }),
      ],
      HMAC,
    );
    expect(picked).toMatchObject({ id: "5", algorithm: "HS512" });
  });

  test("credentials without key or secret are skipped", () => {
    const picked = pickCredential(
      [
        cred({ id: "1", created_at: 1 }),
        cred({ id: "2", created_at: 9, key: "" }),
        cred({ id: "3", created_at: 8, secret: "" }),
      ],
      HMAC,
    );
    expect(picked?.id).toBe("1");
  });

  test("with secret_is_base64, a secret Kong cannot decode is skipped", () => {
    const list = [
      cred({ id: "1", created_at: 1, secret: "YWJjZGVmZ2g" }),
      cred({ id: "2", created_at: 9, secret: "ab+/cd" }),
    ];
    expect(pickCredential(list, HMAC_BASE64)?.id).toBe("1");
    expect(pickCredential(list, HMAC)?.id).toBe("2");
  });
});

describe("the consumer-secret policy", () => {
  const stored = (over: Partial<StoredCredential>): StoredCredential => ({
    consumerId: "c1",
    kongConsumerId: "c1",
    username: "alice",
    credentialId: "cred-1",
    key: "key-1",
    algorithm: "HS384",
    secret: "YWJj",
    fetchedAt: 5,
    ...over,
  });
  const hmac = (signingKey: SigningKey | undefined) => {
    expect(signingKey).toBeInstanceOf(HmacKey);
    return createHmac("sha384", (signingKey as HmacKey).export())
      .update("input")
      .digest("hex");
  };

  test("signs a cached entry with its secret, as Kong decodes it, keeping the entry as it was", () => {
    const plain = HMAC.materialize(stored({}));
    expect(plain).toMatchObject(stored({}));
    expect(hmac(plain?.signingKey)).toBe(createHmac("sha384", "YWJj").update("input").digest("hex"));
    const decoded = HMAC_BASE64.materialize(stored({}));
    expect(hmac(decoded?.signingKey)).toBe(createHmac("sha384", "abc").update("input").digest("hex"));
  });

  test("does not sign with a cached secret Kong could not decode", () => {
    expect(HMAC_BASE64.materialize(stored({ secret: "abc+def/" }))).toBeUndefined();
  });

  test("creates HS256 credentials tagged as the service's own, whose secret Kong generates", () => {
    expect(HMAC.draft).toEqual({ algorithm: "HS256", tags: ["kong-auth-service"] });
  });

  test("signs new tokens with any cached entry, and creates a credential on every rotation", () => {
    const entry = HMAC.materialize(stored({}));
    expect(entry && HMAC.isCurrent(entry)).toBe(true);
    expect(HMAC.renewsOnRotate).toBe(true);
  });

  test("owns the HMAC credentials only: those are the ones it may retire", () => {
    expect(HMAC.ownsKind(cred({ id: "h", algorithm: "HS512" }))).toBe(true);
    expect(HMAC.ownsKind(cred({ id: "e", algorithm: "EdDSA" }))).toBe(false);
  });
});

describe("createdByService", () => {
  test("only a credential carrying the service's tag is the service's", () => {
    expect(createdByService(cred({ id: "a", tags: ["team-a", "kong-auth-service"] }))).toBe(true);
    expect(createdByService(cred({ id: "b", tags: ["team-a"] }))).toBe(false);
    expect(createdByService(cred({ id: "c", tags: null }))).toBe(false);
    expect(createdByService(cred({ id: "d" }))).toBe(false);
  });
});
