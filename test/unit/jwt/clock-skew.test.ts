import { describe, expect, test } from "bun:test";
import type { Config } from "../../../src/config/index.ts";
import { importSigningKey, secretBytes } from "../../../src/jwt/keys.ts";
import { TokenSigner } from "../../../src/jwt/signer.ts";
import { testConfig } from "../../support/config.ts";
import { type JwtPluginConfig, verifyToken } from "../../support/kong-jwt-verifier.ts";
import { Credentials } from "../support/jwt-tokens.ts";

/**
 * A Kong node's clock is never exactly the service's. Kong checks `nbf` and `exp` with no leeway
 * (docs/kong-facts.md#jwt-claims), so the service backdates `nbf` by KONG_JWT_CLOCK_SKEW_SECONDS and Kong's
 * `maximum_expiration` must allow for it. Each test signs at the service's NOW and verifies with
 * Kong's clock at NOW + offset.
 */
const NOW = 1_800_000_000;
const SECRET = "clock-skew-test-secret-0123456789";
const KEY = "skew-key";
const kong = new Credentials();
kong.add(KEY, SECRET);

/** The jwt plugin as docs/kong-setup.md says to configure it for this service configuration. */
function documentedPlugin(jwt: Config["jwt"]): JwtPluginConfig {
  return {
    key_claim_name: jwt.keyClaimName,
    claims_to_verify: ["exp", "nbf"],
    maximum_expiration: jwt.expirationMinutes * 60 + jwt.clockSkewSeconds,
  };
}

function freshToken(jwt: Config["jwt"]) {
  const signer = new TokenSigner(jwt, () => NOW);
  const signingKey = importSigningKey(secretBytes(SECRET, jwt.secretIsBase64) as Uint8Array<ArrayBuffer>);
  return signer.sign("alice", { key: KEY, algorithm: "HS256", signingKey });
}

async function kongAt(offset: number, jwt: Config["jwt"], plugin = documentedPlugin(jwt)) {
  const { token } = freshToken(jwt);
  const verdict = await verifyToken(token, plugin, { credentialByKey: kong.lookup }, NOW + offset);
  return verdict.ok ? "accepted" : verdict.body;
}

const configs = [
  ["the defaults", testConfig().jwt],
  [
    "a 1-minute lifetime and a 5 s tolerance",
    testConfig({ JWT_EXPIRATION_MINUTES: "1", KONG_JWT_CLOCK_SKEW_SECONDS: "5" }).jwt,
  ],
  ["no tolerance", testConfig({ KONG_JWT_CLOCK_SKEW_SECONDS: "0" }).jwt],
] as const;

describe("clock skew between the service and a Kong node", () => {
  test("a Kong node one second behind the service accepts a fresh token", async () => {
    const jwt = testConfig().jwt;
    const plugin: JwtPluginConfig = { key_claim_name: jwt.keyClaimName, claims_to_verify: ["exp", "nbf"] };
    expect(await kongAt(-1, jwt, plugin)).toBe("accepted");
  });

  test.each(configs)(
    "%s: a node up to the tolerance behind accepts; one second further it is not valid yet",
    async (_, jwt) => {
      const skew = jwt.clockSkewSeconds;
      expect(await kongAt(-skew, jwt)).toBe("accepted");
      expect(await kongAt(-skew - 1, jwt)).toEqual({ nbf: "token not valid yet" });
    },
  );

  test.each(configs)(
    "%s: a node up to the tolerance ahead accepts; it sees the token expire at exp, its lifetime after issue",
    async (_, jwt) => {
      const skew = jwt.clockSkewSeconds;
      const lifetime = jwt.expirationMinutes * 60;
      expect(await kongAt(skew, jwt)).toBe("accepted");
      // Ahead, the limit is the token's own expiry, not the tolerance.
      expect(await kongAt(lifetime - 1, jwt)).toBe("accepted");
      expect(await kongAt(lifetime, jwt)).toEqual({ exp: "token expired" });
    },
  );

  test.each(configs)(
    "%s: maximum_expiration below lifetime + tolerance refuses at a node the full tolerance behind",
    async (_, jwt) => {
      const skew = jwt.clockSkewSeconds;
      const plugin = documentedPlugin(jwt);
      const tooLow = { ...plugin, maximum_expiration: (plugin.maximum_expiration as number) - 1 };
      expect(await kongAt(-skew, jwt, tooLow)).toEqual({ exp: "exceeds maximum allowed expiration" });
      // With no tolerance, the rule is Kong's plain one: maximum_expiration at least the lifetime.
      const inSync = skew === 0 ? { exp: "exceeds maximum allowed expiration" } : "accepted";
      expect(await kongAt(0, jwt, tooLow)).toEqual(inSync);
    },
  );

  test("clients still see the configured lifetime: expires_in and exp - iat; only nbf is backdated", () => {
    const jwt = testConfig().jwt;
    const { token, expiresIn } = freshToken(jwt);
    const claims = JSON.parse(Buffer.from(token.split(".")[1] as string, "base64url").toString());
    expect(expiresIn).toBe(jwt.expirationMinutes * 60);
    expect(claims.iat).toBe(NOW);
    expect(claims.exp).toBe(NOW + expiresIn);
    expect(claims.nbf).toBe(NOW - jwt.clockSkewSeconds);
  });
});
