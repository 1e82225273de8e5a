/**
 * The oracle against docs/kong-facts.md#jwt-asymmetric: which asymmetric tokens Kong 3.10 accepts,
 * which it refuses with 401, and which make one of jwt_parser's asserts raise (500).
 */
import { describe, expect, test } from "bun:test";
import { createPublicKey } from "node:crypto";
import { type JwtPluginConfig, type VerifyResult, verifyKongJwt } from "../../support/kong-jwt-verifier.ts";
import { ecKey, ed25519Key, type KeyPair, rsaKey, signAsymmetricToken } from "./asymmetric-tokens.ts";
import { Credentials, NOW } from "./jwt-tokens.ts";

const rsa = rsaKey();
const otherRsa = rsaKey();
const p256 = ecKey("P-256");
const p384 = ecKey("P-384");
const p521 = ecKey("P-521");
const ed25519 = ed25519Key();

/** Each algorithm with the key it verifies with and another key of the same kind. */
const CASES: [alg: string, key: KeyPair, other: KeyPair][] = [
  ["RS256", rsa, otherRsa],
  ["RS384", rsa, otherRsa],
  ["RS512", rsa, otherRsa],
  ["PS256", rsa, otherRsa],
  ["PS384", rsa, otherRsa],
  ["PS512", rsa, otherRsa],
  ["ES256", p256, ecKey("P-256")],
  ["ES384", p384, ecKey("P-384")],
  ["ES512", p521, ecKey("P-521")],
  ["EdDSA", ed25519, ed25519Key()],
];

const store = new Credentials();
for (const [alg, key] of CASES) store.add(`${alg}-key`, "unused-secret", alg, key.publicPem);

const claims = (key: string) => ({ iss: key, iat: NOW, exp: NOW + 300 });
const bearer = (token: string) => ({ headers: { authorization: `Bearer ${token}` } });
const verify = (token: string, config: JwtPluginConfig = {}) =>
  verifyKongJwt(bearer(token), config, store.lookup, NOW);

function refusal(message: string): VerifyResult {
  return {
    ok: false,
    status: 401,
    message,
    wwwAuthenticate: 'Bearer error="invalid_token"',
    body: { message },
  };
}
function raised(error: string): VerifyResult {
  const message = "An unexpected error occurred" as const;
  return { ok: false, status: 500, message, body: { message }, error };
}

describe("Kong jwt plugin oracle: asymmetric credentials", () => {
  test.each(CASES)("accepts a %s token signed with the credential's private key", async (alg, key) => {
    const token = signAsymmetricToken({ alg, privateKey: key.privateKey, claims: claims(`${alg}-key`) });
    expect(await verify(token)).toMatchObject({ ok: true, credential: { algorithm: alg }, header: { alg } });
  });

  test.each(CASES)("refuses a %s token signed with another key: Invalid signature", async (alg, _, other) => {
    const token = signAsymmetricToken({ alg, privateKey: other.privateKey, claims: claims(`${alg}-key`) });
    expect(await verify(token)).toEqual(refusal("Invalid signature"));
  });

  test("refuses a token whose alg is not the credential's, even when its signature is good", async () => {
    const rs256AsRs512 = signAsymmetricToken({
      alg: "RS256",
      privateKey: rsa.privateKey,
      claims: claims("RS512-key"),
    });
    expect(await verify(rs256AsRs512)).toEqual(refusal("Invalid algorithm"));
    const psForRs = signAsymmetricToken({
      alg: "PS256",
      privateKey: rsa.privateKey,
      claims: claims("RS256-key"),
    });
    expect(await verify(psForRs)).toEqual(refusal("Invalid algorithm"));
    const hsHeaderForEs = signAsymmetricToken({
      alg: "ES256",
      headerAlg: "HS256",
      privateKey: p256.privateKey,
      claims: claims("ES256-key"),
    });
    expect(await verify(hsHeaderForEs)).toEqual(refusal("Invalid algorithm"));
  });

  test("answers 500 for a DER-encoded ES signature: the length assert raises before any conversion", async () => {
    for (const [alg, key, bytes] of [
      ["ES256", p256, 64],
      ["ES384", p384, 96],
      ["ES512", p521, 132],
    ] as const) {
      const der = signAsymmetricToken({
        alg,
        privateKey: key.privateKey,
        claims: claims(`${alg}-key`),
        ecdsaEncoding: "der",
      });
      expect(await verify(der)).toEqual(raised(`Signature must be ${bytes} bytes`));
    }
  });

  test("answers 500 for an ES or PS signature one byte short or long", async () => {
    const short = signAsymmetricToken({
      alg: "ES256",
      privateKey: p256.privateKey,
      claims: claims("ES256-key"),
      tamper: (signature) => signature.subarray(1),
    });
    expect(await verify(short)).toEqual(raised("Signature must be 64 bytes"));
    const long = signAsymmetricToken({
      alg: "PS256",
      privateKey: rsa.privateKey,
      claims: claims("PS256-key"),
      tamper: (signature) => Buffer.concat([signature, Buffer.from([0])]),
    });
    expect(await verify(long)).toEqual(raised("Signature must be 256 bytes"));
  });

  test("PS works with 2048-bit RSA keys only; RS takes any size", async () => {
    const big = rsaKey(3072);
    const local = new Credentials();
    local.add("ps-3072", "unused", "PS256", big.publicPem);
    local.add("rs-3072", "unused", "RS256", big.publicPem);
    const check = (alg: string, key: string) =>
      verifyKongJwt(
        bearer(signAsymmetricToken({ alg, privateKey: big.privateKey, claims: claims(key) })),
        {},
        local.lookup,
        NOW,
      );
    expect(await check("PS256", "ps-3072")).toEqual(raised("Signature must be 256 bytes"));
    expect((await check("RS256", "rs-3072")).ok).toBe(true);
  });

  test("refuses r||s of the credential curve's width only: a P-384 key with a 64-byte ES256 signature", async () => {
    const local = new Credentials();
    local.add("es256-on-p384", "unused", "ES256", p384.publicPem);
    const token = signAsymmetricToken({
      alg: "ES256",
      privateKey: p256.privateKey,
      claims: claims("es256-on-p384"),
    });
    expect(await verifyKongJwt(bearer(token), {}, local.lookup, NOW)).toEqual(refusal("Invalid signature"));
  });

  test("rsa_public_key may be SPKI or PKCS#1 PEM, and is used as stored even with secret_is_base64", async () => {
    const pkcs1 = createPublicKey(rsa.publicPem).export({ type: "pkcs1", format: "pem" }).toString();
    const local = new Credentials();
    local.add("pkcs1", "unused", "RS256", pkcs1);
    const token = signAsymmetricToken({ alg: "RS256", privateKey: rsa.privateKey, claims: claims("pkcs1") });
    expect((await verifyKongJwt(bearer(token), {}, local.lookup, NOW)).ok).toBe(true);
    const spki = signAsymmetricToken({
      alg: "RS256",
      privateKey: rsa.privateKey,
      claims: claims("RS256-key"),
    });
    expect((await verify(spki, { secret_is_base64: true })).ok).toBe(true);
  });

  test("an ES credential without a key refuses with Invalid key/secret; one with a key OpenSSL cannot load answers 500", async () => {
    const local = new Credentials();
    local.add("es-no-key", "unused", "ES256", null);
    local.add("es-bad-key", "unused", "ES256", "-----BEGIN PUBLIC KEY-----\nx\n-----END PUBLIC KEY-----");
    for (const [key, expected] of [
      ["es-no-key", refusal("Invalid key/secret")],
      ["es-bad-key", raised("Consumer Public Key is Invalid")],
    ] as const) {
      const token = signAsymmetricToken({ alg: "ES256", privateKey: p256.privateKey, claims: claims(key) });
      expect(await verifyKongJwt(bearer(token), {}, local.lookup, NOW)).toEqual(expected);
    }
  });
});
