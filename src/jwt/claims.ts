import type { Config } from "../config/index.ts";

export type Claims = Record<string, string | number>;

/**
 * Builds the claim set of one token. When the key claim is `iss`, the key takes the issuer's place,
 * because Kong reads the credential key from that claim.
 */
export function createClaimsBuilder(jwt: Config["jwt"]) {
  const lifetimeSeconds = jwt.expirationMinutes * 60;
  // Kong checks nbf with no leeway: backdating it lets a Kong node whose clock is behind accept at once.
  const clockSkewSeconds = jwt.clockSkewSeconds;
  const issuer = jwt.issuers?.[0] ?? jwt.authority;
  const keyClaim = jwt.keyClaimName;
  const uniqueNamePrefix = `${jwt.uniqueNameDomain}#`;

  return {
    lifetimeSeconds,
    /** `username` is Kong's name for the consumer; `key` the credential key Kong looks the secret up by. */
    build(username: string, key: string, nowSeconds: number): Claims {
      const claims: Claims = {
        sub: username,
        [keyClaim]: key,
        jti: crypto.randomUUID(),
        iat: nowSeconds,
        nbf: nowSeconds - clockSkewSeconds,
        exp: nowSeconds + lifetimeSeconds,
      };
      if (keyClaim !== "iss") claims.iss = issuer;
      claims.aud = jwt.audience;
      claims.name = username;
      claims.unique_name = uniqueNamePrefix + username;
      return claims;
    },
  };
}
