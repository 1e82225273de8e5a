import { describe, expect, test } from "bun:test";
import { verify } from "node:crypto";
import fc from "fast-check";
import { decodeBase64UrlStrict } from "../../../src/jwt/base64url.ts";
import {
  HmacKey,
  importSigningKey,
  SIGNING_ALGORITHMS,
  type SigningAlgorithm,
  secretBytes,
} from "../../../src/jwt/keys.ts";
import { parseServiceKeys, type ServiceKey } from "../../../src/jwt/service-keys.ts";
import { TokenSigner } from "../../../src/jwt/signer.ts";
import { SigningPool } from "../../../src/jwt/signing-pool.ts";
import { testConfig } from "../../support/config.ts";
import { jwkSet, privateJwk } from "../../support/service-keys.ts";

const NOW = 1_800_000_000;
const WEBCRYPTO_HASH = { HS256: "SHA-256", HS384: "SHA-384", HS512: "SHA-512" } as const;
const SECRET = "Zx8f3k9dmvR2K1nP5mX7Q9Z3yL4wB6aa";

function credentialFor(algorithm: SigningAlgorithm, secret = SECRET, base64 = false) {
  const bytes = secretBytes(secret, base64);
  if (!bytes) throw new Error("unusable secret");
  return { key: "consumer-key-123", algorithm, signingKey: importSigningKey(bytes) };
}

function decodeSegment(segment: string): Record<string, unknown> {
  const bytes = decodeBase64UrlStrict(segment);
  if (!bytes) throw new Error(`not base64url: ${segment}`);
  return JSON.parse(new TextDecoder().decode(bytes));
}

async function verifies(token: string, algorithm: SigningAlgorithm, keyBytes: Uint8Array<ArrayBuffer>) {
  const [header, payload, signature] = token.split(".") as [string, string, string];
  const key = await crypto.subtle.importKey(
    "raw",
    keyBytes,
    { name: "HMAC", hash: WEBCRYPTO_HASH[algorithm] },
    false,
    ["verify"],
  );
  const signatureBytes = decodeBase64UrlStrict(signature);
  if (!signatureBytes) return false;
  return crypto.subtle.verify("HMAC", key, signatureBytes, new TextEncoder().encode(`${header}.${payload}`));
}

describe("TokenSigner", () => {
  const config = testConfig({ JWT_UNIQUE_NAME_DOMAIN: "corp.example" });
  const signer = new TokenSigner(config.jwt, () => NOW);

  test("carries exactly the specified claims", async () => {
    const { token, expiresIn } = signer.sign("alice", credentialFor("HS256"));
    const [header, payload] = token.split(".") as [string, string];
    expect(decodeSegment(header)).toEqual({ alg: "HS256", typ: "JWT" });
    const claims = decodeSegment(payload);
    expect(Object.keys(claims).sort()).toEqual(
      ["aud", "exp", "iat", "iss", "jti", "key", "name", "nbf", "sub", "unique_name"].sort(),
    );
    expect(claims).toMatchObject({
      sub: "alice",
      key: "consumer-key-123",
      iat: NOW,
      nbf: NOW - config.jwt.clockSkewSeconds,
      exp: NOW + 900,
      iss: "https://sts.example.com/",
      aud: "http://api.example.com/",
      name: "alice",
      unique_name: "corp.example#alice",
    });
    expect(claims.jti).toMatch(/^[0-9a-f]{8}-[0-9a-f]{4}-4[0-9a-f]{3}-[89ab][0-9a-f]{3}-[0-9a-f]{12}$/);
    expect(expiresIn).toBe(900);
  });

  test("every token has its own jti", async () => {
    const credential = credentialFor("HS256");
    const a = decodeSegment(signer.sign("alice", credential).token.split(".")[1] as string);
    const b = decodeSegment(signer.sign("alice", credential).token.split(".")[1] as string);
    expect(a.jti).not.toBe(b.jti);
  });

  test("segments are strict base64url without padding", async () => {
    const { token } = signer.sign("ü/+?~ name with unicode ✓", credentialFor("HS512"));
    expect(token).toMatch(/^[A-Za-z0-9_-]+\.[A-Za-z0-9_-]+\.[A-Za-z0-9_-]+$/);
  });

  test.each(Object.keys(SIGNING_ALGORITHMS) as SigningAlgorithm[])(
    "%s tokens verify with the raw secret",
    async (alg) => {
      const { token } = signer.sign("alice", credentialFor(alg));
      expect(decodeSegment(token.split(".")[0] as string).alg).toBe(alg);
      expect(await verifies(token, alg, new TextEncoder().encode(SECRET))).toBe(true);
      expect(await verifies(token, alg, new TextEncoder().encode(`${SECRET}x`))).toBe(false);
    },
  );

  test("with secret_is_base64 the decoded secret is the key", async () => {
    const raw = crypto.getRandomValues(new Uint8Array(32));
    const secret = Buffer.from(raw).toString("base64url");
    const { token } = signer.sign("alice", credentialFor("HS256", secret, true));
    expect(await verifies(token, "HS256", raw)).toBe(true);
    expect(await verifies(token, "HS256", new TextEncoder().encode(secret))).toBe(false);
  });

  test("a secret Kong could not base64url-decode is unusable", () => {
    expect(secretBytes("abc+def/", true)).toBeUndefined();
    expect(secretBytes("a", true)).toBeUndefined();
    expect(secretBytes("", false)).toBeUndefined();
    expect(secretBytes("YWJj", true)).toEqual(new TextEncoder().encode("abc"));
    expect(secretBytes("YWJj==", true)).toEqual(new TextEncoder().encode("abc"));
  });

  test("a base64 secret one character too long is unusable, not quietly truncated", () => {
    // Node's decoder would drop the dangling character and sign with "abc"; Kong refuses the secret.
    expect(Buffer.from("YWJjZ", "base64url").toString()).toBe("abc");
    expect(secretBytes("YWJjZ", true)).toBeUndefined();
    expect(secretBytes("YWJjZ=", true)).toBeUndefined();
    expect(secretBytes("YWJjZGU", true)).toEqual(new TextEncoder().encode("abcde"));
  });

  test("a base64 secret that decodes to nothing is unusable", () => {
    expect(secretBytes("==", true)).toBeUndefined();
    expect(secretBytes("=", true)).toBeUndefined();
  });

  test("without an injected clock, tokens are stamped with the current time in seconds", () => {
    const realSigner = new TokenSigner(config.jwt);
    const before = Math.floor(Date.now() / 1000);
    const { token } = realSigner.sign("alice", credentialFor("HS256"));
    const after = Math.floor(Date.now() / 1000);
    const claims = decodeSegment(token.split(".")[1] as string);
    expect(claims.iat).toBeGreaterThanOrEqual(before);
    expect(claims.iat).toBeLessThanOrEqual(after);
    expect(claims.exp).toBe((claims.iat as number) + 900);
  });

  test("when the key claim is iss, iss carries the key and the authority is left out", async () => {
    const issSigner = new TokenSigner(testConfig({ KONG_JWT_KEY_CLAIM_NAME: "iss" }).jwt, () => NOW);
    const claims = decodeSegment(issSigner.sign("bob", credentialFor("HS256")).token.split(".")[1] as string);
    expect(claims.iss).toBe("consumer-key-123");
    expect(claims.key).toBeUndefined();
  });

  test("a custom key claim name and the first configured issuer are used", async () => {
    const custom = new TokenSigner(
      testConfig({
        KONG_JWT_KEY_CLAIM_NAME: "kid",
        KONG_JWT_ISSUER: "https://i1/,https://i2/",
        JWT_EXPIRATION_MINUTES: "1",
      }).jwt,
      () => NOW,
    );
    const { token, expiresIn } = custom.sign("bob", credentialFor("HS256"));
    const claims = decodeSegment(token.split(".")[1] as string);
    expect(claims.kid).toBe("consumer-key-123");
    expect(claims.iss).toBe("https://i1/");
    expect(claims.exp).toBe(NOW + 60);
    expect(expiresIn).toBe(60);
  });
});

describe("TokenSigner with a service key", () => {
  const signer = new TokenSigner(testConfig().jwt, () => NOW);
  const keys = parseServiceKeys(
    jwkSet(privateJwk("EdDSA", "ed-1"), privateJwk("ES256", "es-1"), privateJwk("RS256", "rsa-1")),
  );
  if ("problem" in keys) throw new Error(keys.problem);
  const credentialOf = (key: ServiceKey) => ({
    key: "service-credential",
    algorithm: key.alg,
    signingKey: key.privateKey,
    kid: key.kid,
  });
  const digests = { EdDSA: null, ES256: "sha256", RS256: "sha256" } as const;

  test.each(keys.keys.map((key) => [key.alg, key] as const))(
    "%s tokens name the kid and verify with the public key as JWS encodes the signature",
    (alg, key) => {
      const { token } = signer.sign("alice", credentialOf(key));
      const [header, payload, signature] = token.split(".") as [string, string, string];
      expect(decodeSegment(header)).toEqual({ alg, typ: "JWT", kid: key.kid });
      const valid = verify(
        digests[alg],
        Buffer.from(`${header}.${payload}`),
        {
          key: key.publicKey,
          dsaEncoding: "ieee-p1363",
        },
        Buffer.from(signature, "base64url"),
      );
      expect(valid).toBe(true);
    },
  );

  test("an ES256 signature is r‖s, 64 bytes, not DER", () => {
    const es = keys.keys.find((key) => key.alg === "ES256") as ServiceKey;
    const signature = signer.sign("alice", credentialOf(es)).token.split(".")[2] as string;
    expect(Buffer.from(signature, "base64url").length).toBe(64);
  });

  test("one signer keeps each key's header apart, and HMAC headers without a kid", () => {
    const [ed, es] = keys.keys as [ServiceKey, ServiceKey];
    const headerOf = (credential: Parameters<TokenSigner["sign"]>[1]) =>
      decodeSegment(signer.sign("alice", credential).token.split(".")[0] as string);
    const sameAlgOtherKid = { ...credentialOf(ed), kid: "ed-2" };
    for (let round = 0; round < 2; round++) {
      expect(headerOf(credentialOf(ed))).toEqual({ alg: "EdDSA", typ: "JWT", kid: "ed-1" });
      expect(headerOf(sameAlgOtherKid)).toEqual({ alg: "EdDSA", typ: "JWT", kid: "ed-2" });
      expect(headerOf(credentialOf(es))).toEqual({ alg: "ES256", typ: "JWT", kid: "es-1" });
      expect(headerOf(credentialFor("HS256"))).toEqual({ alg: "HS256", typ: "JWT" });
    }
  });
});

describe("TokenSigner's prepared keys", () => {
  const signer = new TokenSigner(testConfig().jwt, () => NOW);

  test("one key object signed with another HMAC algorithm gets that algorithm's header and signature", async () => {
    const credential = credentialFor("HS256");
    for (const alg of ["HS256", "HS512", "HS384", "HS256"] as SigningAlgorithm[]) {
      const { token } = signer.sign("alice", { ...credential, algorithm: alg });
      expect(decodeSegment(token.split(".")[0] as string)).toEqual({ alg, typ: "JWT" });
      expect(await verifies(token, alg, new TextEncoder().encode(SECRET))).toBe(true);
    }
  });

  test("tokens are only ever base64url segments joined by dots, whatever the username (the body needs no escaping)", () => {
    const credential = credentialFor("HS256");
    fc.assert(
      fc.property(fc.string({ unit: "binary" }), (username) => {
        expect(signer.token(username, credential)).toMatch(
          /^[A-Za-z0-9_-]+\.[A-Za-z0-9_-]+\.[A-Za-z0-9_-]+$/,
        );
      }),
      { numRuns: 200 },
    );
  });

  test("one key signing for another consumer, or under another credential key, carries that one's claims", () => {
    const credential = credentialFor("HS256");
    const claimsOf = (username: string, key: string) =>
      decodeSegment(signer.token(username, { ...credential, key }).split(".")[1] as string);
    for (const [username, key] of [
      ["alice", "k1"],
      ["alice", "k1"],
      ["bob", "k1"],
      ["bob", "k2"],
      ["alice", "k2"],
    ] as const) {
      expect(claimsOf(username, key)).toMatchObject({ sub: username, name: username, key });
    }
  });

  test("the lifetime is the configured one, and sign's expiresIn says it", () => {
    expect(signer.lifetimeSeconds).toBe(900);
    expect(signer.sign("alice", credentialFor("HS256")).expiresIn).toBe(900);
  });
});

describe("TokenSigner with a signing pool", () => {
  const keys = parseServiceKeys(jwkSet(privateJwk("EdDSA", "ed-pool")));
  if ("problem" in keys) throw new Error(keys.problem);
  const [ed] = keys.keys as [ServiceKey];
  const credential = { key: "service-credential", algorithm: ed.alg, signingKey: ed.privateKey, kid: ed.kid };

  test("a service key's token comes from the pool, an HMAC token at once without it", async () => {
    const pool = new SigningPool({ size: 1 });
    try {
      const signer = new TokenSigner(testConfig().jwt, () => NOW, pool);
      const hmac = signer.issue("alice", credentialFor("HS256"));
      expect(typeof hmac).toBe("string");
      expect(await verifies(hmac as string, "HS256", new TextEncoder().encode(SECRET))).toBe(true);

      const pending = signer.issue("alice", credential);
      expect(pending).toBeInstanceOf(Promise);
      const token = await pending;
      const [header, payload, signature] = token.split(".") as [string, string, string];
      expect(decodeSegment(header)).toEqual({ alg: "EdDSA", typ: "JWT", kid: "ed-pool" });
      expect(decodeSegment(payload)).toMatchObject({ sub: "alice", key: "service-credential", iat: NOW });
      expect(
        verify(null, Buffer.from(`${header}.${payload}`), ed.publicKey, Buffer.from(signature, "base64url")),
      ).toBe(true);
      // One EdDSA token alone is this thread's share of its turn.
      expect(pool.stats).toMatchObject({ offThread: 0, shared: 1, inline: 0 });
    } finally {
      pool.close();
    }
  });

  test("RS256 tokens are always signed by a worker, however few; EdDSA and ES256 take a share here", async () => {
    const set = parseServiceKeys(
      jwkSet(privateJwk("RS256", "rsa-pool"), privateJwk("ES256", "es-pool"), privateJwk("EdDSA", "ed-2")),
    );
    if ("problem" in set) throw new Error(set.problem);
    const pool = new SigningPool({ size: 1 });
    try {
      const signer = new TokenSigner(testConfig().jwt, () => NOW, pool);
      for (const key of set.keys) {
        const token = await signer.issue("alice", {
          key: "k",
          algorithm: key.alg,
          signingKey: key.privateKey,
          kid: key.kid,
        });
        const [header, payload, signature] = token.split(".") as [string, string, string];
        const valid = verify(
          key.alg === "EdDSA" ? null : "sha256",
          Buffer.from(`${header}.${payload}`),
          { key: key.publicKey, dsaEncoding: "ieee-p1363" },
          Buffer.from(signature, "base64url"),
        );
        expect(valid).toBe(true);
      }
      expect(pool.stats).toMatchObject({ offThread: 1, shared: 2, inline: 0 });
    } finally {
      pool.close();
    }
  });

  test("without a pool a service key's token is signed on the request thread", () => {
    const token = new TokenSigner(testConfig().jwt, () => NOW).issue("alice", credential);
    expect(typeof token).toBe("string");
  });
});

describe("HmacKey: an HMAC secret as the signer holds it", () => {
  const bytes = () => new TextEncoder().encode(SECRET);

  test("shows nothing of the secret to JSON (a Redis record) or to inspection (a log line)", () => {
    const key = importSigningKey(bytes());
    expect(key).toBeInstanceOf(HmacKey);
    expect(JSON.stringify({ signingKey: key })).toBe('{"signingKey":{}}');
    for (const text of [Bun.inspect(key), Bun.inspect({ credential: { signingKey: key } }), String(key)])
      expect(text).not.toContain(SECRET);
  });

  test("gives its bytes as a copy, and keeps its own copy of the bytes it was made from", () => {
    const source = bytes();
    const key = importSigningKey(source);
    source.fill(0);
    const exported = key.export();
    expect(exported.toString()).toBe(SECRET);
    exported.fill(0);
    expect(key.export().toString()).toBe(SECRET);
  });

  test("signs only HMAC algorithms, and a private key signs none of them", () => {
    const signer = new TokenSigner(testConfig().jwt, () => NOW);
    const set = parseServiceKeys(jwkSet(privateJwk("EdDSA", "ed")));
    if (!("keys" in set)) throw new Error(set.problem);
    const [ed] = set.keys;
    const hmac = importSigningKey(bytes());
    expect(() => signer.sign("alice", { key: "k", algorithm: "EdDSA", signingKey: hmac })).toThrow(TypeError);
    expect(() =>
      signer.sign("alice", { key: "k", algorithm: "HS256", signingKey: (ed as ServiceKey).privateKey }),
    ).toThrow(TypeError);
  });
});
