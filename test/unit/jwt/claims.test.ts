import { describe, expect, test } from "bun:test";
import fc from "fast-check";
import { createClaimsBuilder } from "../../../src/jwt/claims.ts";
import { testConfig } from "../../support/config.ts";

const NOW = 1_800_000_000;

/** The claim set as the specification orders it, serialised the general-purpose way. */
function reference(
  jwt: ReturnType<typeof testConfig>["jwt"],
  username: string,
  key: string,
  jti: string,
): string {
  const claims: Record<string, string | number> = {
    sub: username,
    [jwt.keyClaimName]: key,
    jti,
    iat: NOW,
    nbf: NOW - jwt.clockSkewSeconds,
    exp: NOW + jwt.expirationMinutes * 60,
  };
  if (jwt.keyClaimName !== "iss") claims.iss = jwt.issuers?.[0] ?? jwt.authority;
  claims.aud = jwt.audience;
  claims.name = username;
  claims.unique_name = `${jwt.uniqueNameDomain}#${username}`;
  return JSON.stringify(claims);
}

describe("the claims builder's fixed-shape JSON", () => {
  const configs = {
    default: testConfig({ JWT_UNIQUE_NAME_DOMAIN: "corp.example" }),
    "key claim iss": testConfig({ KONG_JWT_KEY_CLAIM_NAME: "iss" }),
    "custom claim, several issuers, odd domain": testConfig({
      KONG_JWT_KEY_CLAIM_NAME: "kid",
      KONG_JWT_ISSUER: 'https://i1/"q"\\,https://i2/',
      JWT_UNIQUE_NAME_DOMAIN: 'd"o\\main',
    }),
  };

  test.each(Object.entries(configs))(
    "%s: byte for byte what JSON.stringify makes of the claim object, for any username and key",
    (_name, config) => {
      const builder = createClaimsBuilder(config.jwt);
      fc.assert(
        fc.property(
          fc.string({ unit: "binary" }),
          fc.string({ unit: "binary" }),
          fc.uuid(),
          (username, key, jti) => {
            const text = builder.json(username, key, NOW, jti);
            expect(text).toBe(reference(config.jwt, username, key, jti));
            expect(JSON.parse(text).sub).toBe(username);
          },
        ),
        { numRuns: 300 },
      );
    },
  );

  test("quotes, backslashes, controls and lone surrogates in a username are escaped, not injected", () => {
    const builder = createClaimsBuilder(configs.default.jwt);
    const username = 'a","admin":true,"x":"\\\n\u0000\ud800';
    const claims = JSON.parse(builder.json(username, "k", NOW, "j"));
    expect(claims.sub).toBe(username);
    expect(claims.admin).toBeUndefined();
    expect(Object.keys(claims)).toEqual([
      "sub",
      "key",
      "jti",
      "iat",
      "nbf",
      "exp",
      "iss",
      "aud",
      "name",
      "unique_name",
    ]);
  });

  test("each token gets its own jti unless one is given", () => {
    const builder = createClaimsBuilder(configs.default.jwt);
    const a = JSON.parse(builder.json("alice", "k", NOW));
    const b = JSON.parse(builder.json("alice", "k", NOW));
    expect(a.jti).toMatch(/^[0-9a-f]{8}-[0-9a-f]{4}-4[0-9a-f]{3}-[89ab][0-9a-f]{3}-[0-9a-f]{12}$/);
    expect(a.jti).not.toBe(b.jti);
  });
});
