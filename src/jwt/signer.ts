import { createHmac, type KeyObject } from "node:crypto";
import type { Config } from "../config/index.ts";
import { encodeBase64Url } from "./base64url.ts";
import { createClaimsBuilder } from "./claims.ts";
import { SIGNING_ALGORITHMS, type SigningAlgorithm } from "./keys.ts";

export interface SigningCredential {
  /**
   * The credential key, written to the key claim so Kong can find the secret
   * (docs/kong-facts.md#jwt-finding-the-credential).
   */
  readonly key: string;
  readonly algorithm: SigningAlgorithm;
  readonly signingKey: KeyObject;
}

export interface IssuedToken {
  readonly token: string;
  readonly expiresIn: number;
}

/** Signs compact JWS tokens with the consumer's own credential (docs/kong-facts.md#jwt-signature). */
export class TokenSigner {
  private readonly claims;
  private readonly encodedHeaders: Record<SigningAlgorithm, string>;

  constructor(
    jwt: Config["jwt"],
    private readonly nowSeconds: () => number = () => Math.floor(Date.now() / 1000),
  ) {
    this.claims = createClaimsBuilder(jwt);
    // The header never changes for an algorithm, so it is encoded once.
    const header = (alg: SigningAlgorithm) => encodeBase64Url(JSON.stringify({ alg, typ: "JWT" }));
    this.encodedHeaders = Object.fromEntries(
      (Object.keys(SIGNING_ALGORITHMS) as SigningAlgorithm[]).map((alg) => [alg, header(alg)]),
    ) as Record<SigningAlgorithm, string>;
  }

  sign(username: string, credential: SigningCredential): IssuedToken {
    const claims = this.claims.build(username, credential.key, this.nowSeconds());
    const payload = encodeBase64Url(JSON.stringify(claims));
    const signingInput = `${this.encodedHeaders[credential.algorithm]}.${payload}`;
    const signature = createHmac(SIGNING_ALGORITHMS[credential.algorithm], credential.signingKey)
      .update(signingInput)
      .digest("base64url");
    return { token: `${signingInput}.${signature}`, expiresIn: this.claims.lifetimeSeconds };
  }
}
