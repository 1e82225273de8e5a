import { afterAll, describe, expect, test } from "bun:test";
import { generateKeyPairSync } from "node:crypto";
import { mkdtempSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { signingWorkers } from "../../../src/composition/credentials.ts";
import { secretValues } from "../../../src/config/secrets.ts";
import { baseEnv, problemsOf, testConfig } from "../../support/config.ts";
import { jwkSet, privateJwk } from "../../support/service-keys.ts";

const ed = privateJwk("EdDSA", "ed-1");
const es = privateJwk("ES256", "es-1");
const serviceKeys = (env: Record<string, string>) =>
  problemsOf({ ...baseEnv, SIGNING_MODE: "service-keys", ...env });

const dir = mkdtempSync(join(tmpdir(), "service-keys-"));
afterAll(() => rmSync(dir, { recursive: true, force: true }));

describe("SIGNING_MODE", () => {
  test("defaults to today's per-consumer secrets, which need no keys", () => {
    expect(testConfig().signing.mode).toBe("consumer-secrets");
  });

  test("service keys need a key set", () => {
    expect(serviceKeys({})).toEqual([
      "SERVICE_KEYS_JWKS: or SERVICE_KEYS_JWKS_FILE is required with SIGNING_MODE=service-keys",
    ]);
  });

  test("the inline set is a secret: the log redactor scrubs it", () => {
    const jwks = jwkSet(ed);
    const config = testConfig({ SIGNING_MODE: "service-keys", SERVICE_KEYS_JWKS: jwks });
    expect(secretValues(config)).toContain(jwks);
  });

  test("a set of one key needs no active kid", () => {
    expect(serviceKeys({ SERVICE_KEYS_JWKS: jwkSet(ed) })).toEqual([]);
  });
});

describe("SERVICE_KEYS_JWKS", () => {
  const cases: [string, string, string][] = [
    ["bad JSON", "{keys", "SERVICE_KEYS_JWKS: is not valid JSON"],
    ["not a set", JSON.stringify(ed), 'SERVICE_KEYS_JWKS: must be a JWK set: {"keys": [ ... ]}'],
    ["an empty set", jwkSet(), 'SERVICE_KEYS_JWKS: must be a JWK set: {"keys": [ ... ]}'],
    ["a key without kid", jwkSet({ ...ed, kid: undefined }), "SERVICE_KEYS_JWKS: key 0 has no kid"],
    [
      "a public key only",
      jwkSet({ ...ed, d: undefined }),
      'SERVICE_KEYS_JWKS: key "ed-1" has no private part (d)',
    ],
    [
      "an unsupported curve",
      jwkSet({ ...es, crv: "P-384" }),
      'SERVICE_KEYS_JWKS: key "es-1" has an unsupported kty/crv (EC/P-384); use OKP/Ed25519, EC/P-256 or RSA',
    ],
    [
      "an alg that does not fit the key",
      jwkSet({ ...es, alg: "ES512" }),
      'SERVICE_KEYS_JWKS: key "es-1" has alg ES512, which is not supported for its key type (expected ES256)',
    ],
    ["a duplicate kid", jwkSet(ed, { ...es, kid: "ed-1" }), 'SERVICE_KEYS_JWKS: kid "ed-1" appears twice'],
    [
      "a damaged key",
      jwkSet({ ...ed, d: "AAAA" }),
      'SERVICE_KEYS_JWKS: key "ed-1" is not a valid EdDSA private key',
    ],
  ];
  for (const [what, value, problem] of cases) {
    test(`names ${what} without quoting the keys`, () => {
      const problems = serviceKeys({ SERVICE_KEYS_JWKS: value });
      expect(problems).toEqual([problem]);
      expect(problems.join()).not.toContain(String(ed.d));
    });
  }

  test("refuses an RSA key under 2048 bits", () => {
    const small = generateKeyPairSync("rsa", { modulusLength: 1024 }).privateKey.export({ format: "jwk" });
    expect(serviceKeys({ SERVICE_KEYS_JWKS: jwkSet({ ...small, kid: "rsa-small" }) })).toEqual([
      'SERVICE_KEYS_JWKS: key "rsa-small" is an RSA key under 2048 bits',
    ]);
  });

  test("and the file are exclusive", () => {
    const file = join(dir, "both.json");
    writeFileSync(file, jwkSet(ed));
    expect(serviceKeys({ SERVICE_KEYS_JWKS: jwkSet(ed), SERVICE_KEYS_JWKS_FILE: file })).toEqual([
      "SERVICE_KEYS_JWKS: and SERVICE_KEYS_JWKS_FILE are both set; set one",
    ]);
  });
});

describe("with per-consumer secrets", () => {
  test("a set can be mounted, inline or as a file, before the mode is switched: it is not checked yet", () => {
    const env = { ...baseEnv, SIGNING_MODE: "consumer-secrets" };
    expect(problemsOf({ ...env, SERVICE_KEYS_JWKS: "{keys", SERVICE_KEYS_ACTIVE_KID: "gone" })).toEqual([]);
    expect(problemsOf({ ...env, SERVICE_KEYS_JWKS_FILE: join(dir, "not-there-yet.json") })).toEqual([]);
    expect(problemsOf({ ...env, SERVICE_KEYS_JWKS: jwkSet(ed, es) })).toEqual([]);
  });
});

describe("SERVICE_KEYS_JWKS_FILE", () => {
  test("set with the inline set, only the conflict is reported, not what is wrong inside either", () => {
    const file = join(dir, "broken.json");
    writeFileSync(file, "{keys");
    expect(serviceKeys({ SERVICE_KEYS_JWKS: "{keys", SERVICE_KEYS_JWKS_FILE: file })).toEqual([
      "SERVICE_KEYS_JWKS: and SERVICE_KEYS_JWKS_FILE are both set; set one",
    ]);
  });

  test("reads the set from a mounted file", () => {
    const file = join(dir, "jwks.json");
    writeFileSync(file, jwkSet(ed, es));
    expect(serviceKeys({ SERVICE_KEYS_JWKS_FILE: file, SERVICE_KEYS_ACTIVE_KID: "es-1" })).toEqual([]);
  });

  test("names a file it cannot read", () => {
    expect(serviceKeys({ SERVICE_KEYS_JWKS_FILE: join(dir, "missing.json") })).toEqual([
      "SERVICE_KEYS_JWKS_FILE: cannot be read (ENOENT)",
    ]);
  });

  test("names what is wrong inside the file", () => {
    const file = join(dir, "public.json");
    writeFileSync(file, jwkSet({ ...es, d: undefined }));
    expect(serviceKeys({ SERVICE_KEYS_JWKS_FILE: file })).toEqual([
      'SERVICE_KEYS_JWKS_FILE: key "es-1" has no private part (d)',
    ]);
  });
});

describe("SERVICE_KEYS_ACTIVE_KID", () => {
  test("is required when the set holds several keys", () => {
    expect(serviceKeys({ SERVICE_KEYS_JWKS: jwkSet(ed, es) })).toEqual([
      "SERVICE_KEYS_ACTIVE_KID: is required when the key set holds more than one key",
    ]);
  });

  test("is not checked against a set that is itself refused", () => {
    expect(serviceKeys({ SERVICE_KEYS_JWKS: "{keys", SERVICE_KEYS_ACTIVE_KID: "ed-1" })).toEqual([
      "SERVICE_KEYS_JWKS: is not valid JSON",
    ]);
  });

  test("names the key new tokens are signed with", () => {
    expect(serviceKeys({ SERVICE_KEYS_JWKS: jwkSet(ed, es), SERVICE_KEYS_ACTIVE_KID: "ed-1" })).toEqual([]);
  });

  test("must name a key of the set", () => {
    expect(serviceKeys({ SERVICE_KEYS_JWKS: jwkSet(ed, es), SERVICE_KEYS_ACTIVE_KID: "gone" })).toEqual([
      "SERVICE_KEYS_ACTIVE_KID: names no key of the set (kids: ed-1, es-1)",
    ]);
  });
});

describe("SIGNING_WORKERS", () => {
  const keyed = (env: Record<string, string> = {}) =>
    testConfig({ SIGNING_MODE: "service-keys", SERVICE_KEYS_JWKS: jwkSet(ed), ...env });

  /** The cores, and whether they were asked for (reading them means reading cgroup files). */
  const counted = (cores: number) => {
    const asked = { times: 0 };
    const count = () => {
      asked.times++;
      return cores;
    };
    return { asked, cores: count };
  };

  test("by default one signing thread per core, at most 4", () => {
    expect([1, 2, 4, 5, 64].map((cores) => signingWorkers(keyed(), counted(cores).cores))).toEqual([
      1, 2, 4, 4, 4,
    ]);
  });

  test("as set, 0 signing on the request thread, without counting the cores", () => {
    const eight = counted(8);
    expect(signingWorkers(keyed({ SIGNING_WORKERS: "0" }), eight.cores)).toBe(0);
    expect(signingWorkers(keyed({ SIGNING_WORKERS: "6" }), eight.cores)).toBe(6);
    expect(eight.asked.times).toBe(0);
  });

  test("none with per-consumer HMAC secrets, whatever is set, without counting the cores", () => {
    const eight = counted(8);
    expect(signingWorkers(testConfig({ SIGNING_WORKERS: "3" }), eight.cores)).toBe(0);
    expect(signingWorkers(testConfig(), eight.cores)).toBe(0);
    expect(eight.asked.times).toBe(0);
  });
});
