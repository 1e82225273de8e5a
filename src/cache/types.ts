import type { SigningKey, TokenAlgorithm } from "../jwt/keys.ts";

/** What is remembered about one consumer: enough to sign, and to check the username Kong holds. */
export interface StoredCredential {
  /** The X-Consumer-ID the entry is cached under. */
  readonly consumerId: string;
  /** The control-plane consumer holding the credential (differs for Konnect realm consumers). */
  readonly kongConsumerId: string;
  readonly username: string | null;
  readonly credentialId: string;
  readonly key: string;
  readonly algorithm: TokenAlgorithm;
  /**
   * The HMAC secret. For a credential of the service's own key (an asymmetric algorithm), the key's
   * kid: not secret, but it travels (and is sealed) as the secret does, so one record format serves both.
   */
  readonly secret: string;
  /** Epoch milliseconds of the Kong answer this entry came from. */
  readonly fetchedAt: number;
}

/** A stored credential with its imported key: the only thing the hot path touches. */
export interface CachedCredential extends StoredCredential {
  readonly signingKey: SigningKey;
  /** The service key's kid, for the token header; absent for HMAC credentials. */
  readonly kid?: string;
}
