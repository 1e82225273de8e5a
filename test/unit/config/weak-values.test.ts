import { describe, expect, test } from "bun:test";
import { loadConfig } from "../../../src/config/index.ts";
import { isLowVariety } from "../../../src/config/weak-values.ts";
import { baseEnv, problemsOf } from "../../support/config.ts";

/**
 * Where production draws the line between a guessable value and a usable one: distinct characters
 * of the gateway secret, the period of a repeated pattern, distinct bytes of the encryption key.
 */
type Env = Record<string, string | undefined>;
const prodEnv: Env = {
  ...baseEnv,
  NODE_ENV: "production",
  KONG_ADMIN_URL: "https://kong-admin.internal.example.com:8444",
  KONG_ADMIN_TOKEN: "kpat_0123456789abcdef0123456789abcdef0123",
  ALLOW_UNVERIFIED_GATEWAY: "true",
};

const GUESSABLE =
  "TRUSTED_GATEWAY_SECRET: is easy to guess (few distinct characters or a repeated pattern); generate one: " +
  "openssl rand -base64 32";
const secretProblems = (secret: string) => problemsOf({ ...prodEnv, TRUSTED_GATEWAY_SECRET: secret });

/** `alphabet` spread over `length` characters with no period: each character once, then the first one repeated. */
function noPattern(alphabet: string, length: number): string {
  return alphabet + alphabet[0]?.repeat(length - alphabet.length);
}

describe("TRUSTED_GATEWAY_SECRET in production: how varied it must be", () => {
  test("8 distinct characters are enough; 7 are not", () => {
    expect(secretProblems(noPattern("abcdefgh", 40))).toEqual([]);
    expect(secretProblems(noPattern("abcdefg", 40))).toEqual([GUESSABLE]);
  });

  test("a pattern of up to 16 characters repeated is refused; a longer unit is not a short pattern", () => {
    const unit16 = "ABCDEFGHIJKLMNOP";
    const unit17 = "ABCDEFGHIJKLMNOPQ";
    expect(secretProblems(unit16.repeat(2))).toEqual([GUESSABLE]);
    expect(secretProblems(unit16.repeat(3).slice(0, 40))).toEqual([GUESSABLE]);
    expect(secretProblems(unit17.repeat(2))).toEqual([]);
    expect(secretProblems(`${"0123456789".repeat(4)}x`)).toEqual([]);
    // 20 characters twice: a long unit, not one of the short patterns the rule is about.
    expect(secretProblems("ABCDEFGHIJKLMNOPQRST".repeat(2))).toEqual([]);
  });

  test("a secret whose last characters merely repeat its first is not a pattern", () => {
    expect(isLowVariety("abcdefghijklmnopabcd")).toBe(false);
    expect(isLowVariety("abcdefghijabcdefghij")).toBe(true);
  });
});

describe("CACHE_ENCRYPTION_KEY in production: how varied its bytes must be", () => {
  const keyWith = (distinct: number) =>
    Buffer.from(Array.from({ length: 32 }, (_, i) => (i % distinct) * 7)).toString("base64");
  const message =
    "CACHE_ENCRYPTION_KEY: is not random (too few distinct bytes); generate one: openssl rand -base64 32";

  test("16 distinct bytes are accepted; 15 are refused", () => {
    expect(problemsOf({ ...prodEnv, CACHE_ENCRYPTION_KEY: keyWith(16) })).toEqual([]);
    expect(problemsOf({ ...prodEnv, CACHE_ENCRYPTION_KEY: keyWith(15) })).toEqual([message]);
  });

  test("only production refuses it; the key is still used elsewhere", () => {
    const key = keyWith(2);
    expect(loadConfig({ ...baseEnv, CACHE_ENCRYPTION_KEY: key }).cache.encryptionKey).toEqual(
      new Uint8Array(Buffer.from(key, "base64")),
    );
  });

  test.each([
    ["31 bytes", Buffer.alloc(31, 1).toString("base64")],
    ["33 bytes", Buffer.alloc(33, 1).toString("base64")],
    ["hex instead of base64", "00112233445566778899aabbccddeeff00112233445566778899aabbccddeeff"],
  ])("a key of %s is refused, saying what is expected", (_, key) => {
    expect(problemsOf({ ...baseEnv, CACHE_ENCRYPTION_KEY: key })).toEqual([
      "CACHE_ENCRYPTION_KEY: must be 32 bytes, base64-encoded (openssl rand -base64 32)",
    ]);
  });

  test("a base64url key (with - or _) is read as base64url, with surrounding spaces ignored", () => {
    const bytes = new Uint8Array(32).map((_, i) => 250 - i * 3);
    const url = Buffer.from(bytes).toString("base64url");
    expect(url).toMatch(/[-_]/);
    expect(loadConfig({ ...baseEnv, CACHE_ENCRYPTION_KEY: ` ${url} ` }).cache.encryptionKey).toEqual(bytes);
    const plain = Buffer.from(bytes).toString("base64");
    expect(plain).toMatch(/[+/]/);
    expect(loadConfig({ ...baseEnv, CACHE_ENCRYPTION_KEY: plain }).cache.encryptionKey).toEqual(bytes);
  });
});
