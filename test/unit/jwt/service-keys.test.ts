import { afterAll, describe, expect, test } from "bun:test";
import { createPublicKey, generateKeyPairSync } from "node:crypto";
import { mkdtempSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import {
  activeKey,
  loadServiceKeySet,
  parseServiceKeys,
  publicJwk,
  readServiceKeys,
  type ServiceKey,
} from "../../../src/jwt/service-keys.ts";
import { jwkSet, privateJwk } from "../../support/service-keys.ts";

const ed = privateJwk("EdDSA", "ed-1");
const es = privateJwk("ES256", "es-1");
const rsa = privateJwk("RS256", "rsa-1");

const dir = mkdtempSync(join(tmpdir(), "service-keys-unit-"));
afterAll(() => rmSync(dir, { recursive: true, force: true }));

function keysOf(text: string): readonly ServiceKey[] {
  const parsed = parseServiceKeys(text);
  if ("problem" in parsed) throw new Error(parsed.problem);
  return parsed.keys;
}

describe("parseServiceKeys", () => {
  test("reads each supported key type with the algorithm it signs with, in the order given", () => {
    expect(keysOf(jwkSet(ed, es, rsa)).map((key) => [key.kid, key.alg])).toEqual([
      ["ed-1", "EdDSA"],
      ["es-1", "ES256"],
      ["rsa-1", "RS256"],
    ]);
  });

  test("the PEM given to Kong is the SPKI public half of the private key", () => {
    const [key] = keysOf(jwkSet(es));
    const expected = createPublicKey({ key: es, format: "jwk" } as never);
    expect(key?.publicPem).toBe(expected.export({ type: "spki", format: "pem" }).toString());
    expect(key?.publicPem).toStartWith("-----BEGIN PUBLIC KEY-----");
    expect(key?.publicKey.type).toBe("public");
    expect(key?.privateKey.type).toBe("private");
  });

  test("accepts a key whose own alg agrees with its type", () => {
    expect(keysOf(jwkSet({ ...ed, alg: "EdDSA" }, { ...rsa, alg: "RS256" })).map((key) => key.alg)).toEqual([
      "EdDSA",
      "RS256",
    ]);
  });

  test("refuses a JSON document that is not a set", () => {
    for (const text of ["null", "[]", '{"keys": {}}', '"keys"']) {
      expect(parseServiceKeys(text)).toEqual({ problem: 'must be a JWK set: {"keys": [ ... ]}' });
    }
  });

  test("names an entry that is not a JWK object by its position", () => {
    for (const entry of [null, [ed], "ed-1", 7]) {
      expect(parseServiceKeys(JSON.stringify({ keys: [ed, entry] }))).toEqual({
        problem: "key 1 is not a JWK object",
      });
    }
  });

  test("an empty or non-string kid is no kid", () => {
    expect(parseServiceKeys(jwkSet({ ...ed, kid: "" }))).toEqual({ problem: "key 0 has no kid" });
    expect(parseServiceKeys(jwkSet({ ...ed, kid: 1 }))).toEqual({ problem: "key 0 has no kid" });
  });

  test("refuses key types that are not signing keys Kong verifies", () => {
    const x25519 = { ...generateKeyPairSync("x25519").privateKey.export({ format: "jwk" }), kid: "x" };
    expect(parseServiceKeys(jwkSet(x25519))).toEqual({
      problem: 'key "x" has an unsupported kty/crv (OKP/X25519); use OKP/Ed25519, EC/P-256 or RSA',
    });
    expect(parseServiceKeys(jwkSet({ ...ed, kty: "EC" }))).toEqual({
      problem: 'key "ed-1" has an unsupported kty/crv (EC/Ed25519); use OKP/Ed25519, EC/P-256 or RSA',
    });
    expect(parseServiceKeys(jwkSet({ ...es, kty: "OKP" }))).toEqual({
      problem: 'key "es-1" has an unsupported kty/crv (OKP/P-256); use OKP/Ed25519, EC/P-256 or RSA',
    });
    expect(parseServiceKeys(jwkSet({ kty: "oct", k: "c2VjcmV0", kid: "hmac" }))).toEqual({
      problem: 'key "hmac" has an unsupported kty/crv (oct/undefined); use OKP/Ed25519, EC/P-256 or RSA',
    });
  });

  test("a kid may repeat only across sets, not within one", () => {
    expect(parseServiceKeys(jwkSet(ed, es, { ...rsa, kid: "es-1" }))).toEqual({
      problem: 'kid "es-1" appears twice',
    });
  });
});

describe("activeKey", () => {
  const keys = keysOf(jwkSet(ed, es));

  test("is the only key when none is named", () => {
    const [only] = keysOf(jwkSet(es));
    expect(activeKey(only ? [only] : [], undefined)).toBe(only as ServiceKey);
  });

  test("is the named key", () => {
    expect(activeKey(keys, "es-1")).toBe(keys[1] as ServiceKey);
    expect(activeKey(keys, "ed-1")).toBe(keys[0] as ServiceKey);
  });

  test("must be named among several keys", () => {
    expect(activeKey(keys, undefined)).toBe("is required when the key set holds more than one key");
  });
});

describe("publicJwk", () => {
  test("holds exactly the public members of each key type, with kid, alg and use", () => {
    const [edKey, esKey, rsaKey] = keysOf(jwkSet(ed, es, rsa));
    const members = (key: ServiceKey | undefined) => Object.keys(publicJwk(key as ServiceKey)).sort();
    expect(members(edKey)).toEqual(["alg", "crv", "kid", "kty", "use", "x"]);
    expect(members(esKey)).toEqual(["alg", "crv", "kid", "kty", "use", "x", "y"]);
    expect(members(rsaKey)).toEqual(["alg", "e", "kid", "kty", "n", "use"]);
    expect(publicJwk(edKey as ServiceKey)).toEqual({
      kty: "OKP",
      crv: "Ed25519",
      x: String(ed.x),
      kid: "ed-1",
      alg: "EdDSA",
      use: "sig",
    });
  });
});

describe("readServiceKeys", () => {
  test("is nothing when neither the set nor a file is configured", () => {
    expect(readServiceKeys(undefined, undefined)).toBeUndefined();
  });

  test("prefers the inline set", () => {
    const parsed = readServiceKeys(jwkSet(ed), join(dir, "missing.json"));
    expect(parsed && "keys" in parsed ? parsed.keys.map((key) => key.kid) : parsed).toEqual(["ed-1"]);
  });

  test("reads a file, and names why it cannot", () => {
    const file = join(dir, "set.json");
    writeFileSync(file, jwkSet(es));
    const parsed = readServiceKeys(undefined, file);
    expect(parsed && "keys" in parsed ? parsed.keys.map((key) => key.kid) : parsed).toEqual(["es-1"]);
    expect(readServiceKeys(undefined, dir)).toEqual({ problem: "cannot be read (EISDIR)" });
  });
});

describe("loadServiceKeySet", () => {
  test("is nothing with per-consumer secrets, whatever keys are mounted", () => {
    expect(loadServiceKeySet({ mode: "consumer-secrets", jwks: jwkSet(ed) })).toBeUndefined();
  });

  test("holds every key and the active one", () => {
    const set = loadServiceKeySet({ mode: "service-keys", jwks: jwkSet(ed, es), activeKid: "es-1" });
    expect(set?.keys.map((key) => key.kid)).toEqual(["ed-1", "es-1"]);
    expect(set?.active.kid).toBe("es-1");
  });

  test("refuses to start from a set the configuration did not validate", () => {
    expect(() => loadServiceKeySet({ mode: "service-keys" })).toThrow(
      "the service key set was not validated",
    );
    expect(() => loadServiceKeySet({ mode: "service-keys", jwks: "{" })).toThrow(
      "the service key set was not validated",
    );
    expect(() => loadServiceKeySet({ mode: "service-keys", jwks: jwkSet(ed, es) })).toThrow(
      "the active service key was not validated",
    );
  });
});
