import type { Config } from "../config/index.ts";

export type Claims = Record<string, string | number>;

/**
 * Builds the claim set of one token as the JSON text that is signed. When the key claim is `iss`, the
 * key takes the issuer's place, because Kong reads the credential key from that claim.
 *
 * The shape is fixed, so the text is assembled from parts encoded once, with JSON.stringify only for
 * the strings that change (the username and the credential key): byte for byte what JSON.stringify
 * makes of the object {sub, <key claim>, jti, iat, nbf, exp, iss, aud, name, unique_name}
 * (test/unit/jwt/claims.test.ts), at a fraction of its cost (scripts/bench-hot-path.ts).
 */
export function createClaimsBuilder(jwt: Config["jwt"]) {
  const lifetimeSeconds = jwt.expirationMinutes * 60;
  // Kong checks nbf with no leeway: backdating it lets a Kong node whose clock is behind accept at once.
  const clockSkewSeconds = jwt.clockSkewSeconds;
  const keyClaim = `,${JSON.stringify(jwt.keyClaimName)}:`;
  const issuer =
    jwt.keyClaimName === "iss" ? "" : `,"iss":${JSON.stringify(jwt.issuers?.[0] ?? jwt.authority)}`;
  const afterTimes = `${issuer},"aud":${JSON.stringify(jwt.audience)},"name":`;
  const uniqueNamePrefix = `${jwt.uniqueNameDomain}#`;

  /** What a token's claims hold for this consumer and credential key, before and after the times. */
  function around(username: string, key: string): ClaimParts {
    const name = JSON.stringify(username);
    return {
      username,
      key,
      head: `{"sub":${name}${keyClaim}${JSON.stringify(key)},"jti":"`,
      tail: `${afterTimes}${name},"unique_name":${JSON.stringify(uniqueNamePrefix + username)}}`,
    };
  }

  /** `parts` from around(); `jti` unguessable and unique (crypto.randomUUID by default). */
  function fill(parts: ClaimParts, nowSeconds: number, jti: string = crypto.randomUUID()): string {
    return (
      `${parts.head}${jti}","iat":${nowSeconds},"nbf":${nowSeconds - clockSkewSeconds},` +
      `"exp":${nowSeconds + lifetimeSeconds}${parts.tail}`
    );
  }

  return {
    lifetimeSeconds,
    around,
    fill,
    /**
     * `username` is Kong's name for the consumer; `key` the credential key Kong looks the secret up
     * by. A caller signing for the same consumer again keeps around()'s parts and calls fill().
     */
    json: (username: string, key: string, nowSeconds: number, jti?: string): string =>
      fill(around(username, key), nowSeconds, jti),
  };
}

/** The encoded claims of one consumer and key that do not change from token to token. */
export interface ClaimParts {
  readonly username: string;
  readonly key: string;
  readonly head: string;
  readonly tail: string;
}
