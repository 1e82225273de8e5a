import type { KeyObject } from "node:crypto";
import type { Config } from "../config/index.ts";
import { encodeBase64Url } from "./base64url.ts";
import { type ClaimParts, createClaimsBuilder } from "./claims.ts";
import { type HmacKey, SIGNING_ALGORITHMS, type SigningKey, type TokenAlgorithm } from "./keys.ts";
import type { SigningPool } from "./signing-pool.ts";

export interface SigningCredential {
  /**
   * The credential key, written to the key claim so Kong can find the secret or public key
   * (docs/kong-facts.md#jwt-finding-the-credential).
   */
  readonly key: string;
  readonly algorithm: TokenAlgorithm;
  /** The HMAC secret, or the service's private key. */
  readonly signingKey: SigningKey;
  /** The service key's kid, for verifiers that pick the key from the JWKS; HMAC tokens carry none. */
  readonly kid?: string;
}

export interface IssuedToken {
  readonly token: string;
  readonly expiresIn: number;
}

/**
 * Signatures cheap enough (15–20 µs, about what the rest of an answer costs) for the request thread to
 * take its share of a turn's (src/jwt/signing-pool.ts); an RS256 one costs 450–700 µs.
 */
const SHARED_ALGORITHMS: ReadonlySet<TokenAlgorithm> = new Set(["EdDSA", "ES256"]);

/** The digest node:crypto's sign takes per asymmetric `alg`; Ed25519 hashes internally. */
const ASYMMETRIC_DIGESTS = { EdDSA: null, ES256: "sha256", RS256: "sha256" } as const;

/**
 * What a signing key needs on every token, made on its first token: the encoded header ("alg.kid" no
 * longer spelt out per token), and the signature function. An HMAC key becomes a keyed
 * Bun.CryptoHasher whose state is copied per token, the cheapest HMAC Bun offers (about 0.4 µs against
 * 0.7 µs for node:crypto's createHmac; scripts/bench-hot-path.ts); an asymmetric key is the KeyObject
 * parsed once at start-up, never parsed again.
 */
interface PreparedKey {
  readonly algorithm: TokenAlgorithm;
  readonly kid: string | undefined;
  /** base64url of the JOSE header, followed by ".". */
  readonly header: string;
  readonly signature: (signingInput: string) => string;
  /** The same signature made by the signing pool: asymmetric keys, when the service has one. */
  readonly offThread: ((signingInput: string) => Promise<string>) | undefined;
  /**
   * The claims of the last consumer signed for with this key: a consumer's own HMAC credential always
   * signs for that consumer, so its claims are encoded once, not per token.
   */
  claims: ClaimParts | undefined;
}

/** Signs compact JWS tokens with the consumer's credential (docs/kong-facts.md#jwt-signature). */
export class TokenSigner {
  private readonly claims;
  /** Per key object: a credential's key is imported once and kept while the credential is cached. */
  private readonly prepared = new WeakMap<SigningKey, PreparedKey>();

  constructor(
    jwt: Config["jwt"],
    private readonly nowSeconds: () => number = () => Math.floor(Date.now() / 1000),
    private readonly pool?: SigningPool,
  ) {
    this.claims = createClaimsBuilder(jwt);
  }

  get lifetimeSeconds(): number {
    return this.claims.lifetimeSeconds;
  }

  sign(username: string, credential: SigningCredential): IssuedToken {
    return { token: this.token(username, credential), expiresIn: this.claims.lifetimeSeconds };
  }

  /** The compact token, signed on this thread. */
  token(username: string, credential: SigningCredential): string {
    const prepared = this.prepare(credential);
    const signingInput = this.signingInput(prepared, username, credential);
    return `${signingInput}.${prepared.signature(signingInput)}`;
  }

  /**
   * What the hot path asks for: the compact token, at once for HMAC, or the promise of it when the
   * signing pool signs (asymmetric keys).
   */
  issue(username: string, credential: SigningCredential): string | Promise<string> {
    const prepared = this.prepare(credential);
    const signingInput = this.signingInput(prepared, username, credential);
    if (prepared.offThread === undefined) return `${signingInput}.${prepared.signature(signingInput)}`;
    return prepared.offThread(signingInput).then((signature) => `${signingInput}.${signature}`);
  }

  /** The encoded header and claims, the part the signature covers. */
  private signingInput(prepared: PreparedKey, username: string, credential: SigningCredential): string {
    let claims = prepared.claims;
    // Stryker disable next-line ConditionalExpression: encoding the claims again gives the same text; keeping them only spares the work.
    if (claims === undefined || claims.username !== username || claims.key !== credential.key) {
      claims = this.claims.around(username, credential.key);
      prepared.claims = claims;
    }
    return prepared.header + encodeBase64Url(this.claims.fill(claims, this.nowSeconds()));
  }

  private prepare({ algorithm, kid, signingKey }: SigningCredential): PreparedKey {
    const known = this.prepared.get(signingKey);
    // One key object signs with one alg and kid; a caller pairing it with others gets its own entry.
    // Stryker disable next-line ConditionalExpression: preparing again gives the same header and signer; the cache only spares the work.
    if (known !== undefined && known.algorithm === algorithm && known.kid === kid) return known;
    // JSON.stringify leaves out a kid that is undefined: HMAC headers stay {alg, typ}.
    const header = `${encodeBase64Url(JSON.stringify({ alg: algorithm, typ: "JWT", kid }))}.`;
    const signature = signatureOf(algorithm, signingKey);
    const digest = ASYMMETRIC_DIGESTS[algorithm as keyof typeof ASYMMETRIC_DIGESTS];
    const prepared = {
      algorithm,
      kid,
      header,
      signature,
      offThread:
        digest === undefined
          ? undefined
          : // An asymmetric alg: its credential holds the service's private KeyObject (src/kong/credential.ts).
            this.pool?.signer(signingKey as KeyObject, digest, signature, SHARED_ALGORITHMS.has(algorithm)),
      claims: undefined,
    };
    // Stryker disable next-line CallExpression: preparing again gives the same header and signer; the cache only spares the work.
    this.prepared.set(signingKey, prepared);
    return prepared;
  }
}

function signatureOf(algorithm: TokenAlgorithm, key: SigningKey): (signingInput: string) => string {
  if (algorithm === "HS256" || algorithm === "HS384" || algorithm === "HS512") {
    const keyed = new Bun.CryptoHasher(SIGNING_ALGORITHMS[algorithm], (key as HmacKey).export());
    return (signingInput) => keyed.copy().update(signingInput).digest("base64url");
  }
  // Required here, not imported: only service keys need node:crypto (see HmacKey).
  const { sign } = require("node:crypto") as typeof import("node:crypto");
  // Kong reads ES signatures as JWS r‖s and answers 500 to DER, node's default
  // (docs/kong-facts.md#jwt-asymmetric).
  const options = { key: key as KeyObject, dsaEncoding: "ieee-p1363" } as const;
  const digest = ASYMMETRIC_DIGESTS[algorithm];
  return (signingInput) => sign(digest, Buffer.from(signingInput), options).toString("base64url");
}
