import { createHmac, type KeyObject, sign } from "node:crypto";
import type { Config } from "../config/index.ts";
import { encodeBase64Url } from "./base64url.ts";
import { createClaimsBuilder } from "./claims.ts";
import { SIGNING_ALGORITHMS, type TokenAlgorithm } from "./keys.ts";

export interface SigningCredential {
  /**
   * The credential key, written to the key claim so Kong can find the secret or public key
   * (docs/kong-facts.md#jwt-finding-the-credential).
   */
  readonly key: string;
  readonly algorithm: TokenAlgorithm;
  /** The HMAC secret, or the service's private key. */
  readonly signingKey: KeyObject;
  /** The service key's kid, for verifiers that pick the key from the JWKS; HMAC tokens carry none. */
  readonly kid?: string;
}

export interface IssuedToken {
  readonly token: string;
  readonly expiresIn: number;
}

/** The digest node:crypto's sign takes per asymmetric `alg`; Ed25519 hashes internally. */
const ASYMMETRIC_DIGESTS = { EdDSA: null, ES256: "sha256", RS256: "sha256" } as const;

/** Signs compact JWS tokens with the consumer's credential (docs/kong-facts.md#jwt-signature). */
export class TokenSigner {
  private readonly claims;
  /** The header never changes for an algorithm and kid, so each is encoded once. */
  private readonly encodedHeaders = new Map<string, string>();

  constructor(
    jwt: Config["jwt"],
    private readonly nowSeconds: () => number = () => Math.floor(Date.now() / 1000),
  ) {
    this.claims = createClaimsBuilder(jwt);
  }

  sign(username: string, credential: SigningCredential): IssuedToken {
    const claims = this.claims.build(username, credential.key, this.nowSeconds());
    const payload = encodeBase64Url(JSON.stringify(claims));
    const signingInput = `${this.header(credential.algorithm, credential.kid)}.${payload}`;
    return {
      token: `${signingInput}.${signature(signingInput, credential)}`,
      expiresIn: this.claims.lifetimeSeconds,
    };
  }

  private header(alg: TokenAlgorithm, kid: string | undefined): string {
    // Only HMAC credentials lack a kid, and no service key signs HMAC, so "HS256 undefined" is no one's.
    const id = `${alg} ${kid}`;
    return this.encodedHeaders.get(id) ?? this.encodeHeader(id, alg, kid);
  }

  private encodeHeader(id: string, alg: TokenAlgorithm, kid: string | undefined): string {
    // JSON.stringify leaves out a kid that is undefined: HMAC headers stay {alg, typ}.
    const encoded = encodeBase64Url(JSON.stringify({ alg, typ: "JWT", kid }));
    // Stryker disable next-line CallExpression: encoding again gives the same header; the map only spares the work.
    this.encodedHeaders.set(id, encoded);
    return encoded;
  }
}

function signature(signingInput: string, { algorithm, signingKey }: SigningCredential): string {
  if (algorithm === "HS256" || algorithm === "HS384" || algorithm === "HS512") {
    return createHmac(SIGNING_ALGORITHMS[algorithm], signingKey).update(signingInput).digest("base64url");
  }
  // Kong reads ES signatures as JWS r‖s and answers 500 to DER, node's default
  // (docs/kong-facts.md#jwt-asymmetric).
  return sign(ASYMMETRIC_DIGESTS[algorithm], Buffer.from(signingInput), {
    key: signingKey,
    dsaEncoding: "ieee-p1363",
  }).toString("base64url");
}
