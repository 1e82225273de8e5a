import type { KeyObject } from "node:crypto";
import type { SigningAlgorithm } from "../jwt/keys.ts";

/** What is remembered about one consumer: enough to sign, and to check the username Kong holds. */
export interface StoredCredential {
  /** The X-Consumer-ID the entry is cached under. */
  readonly consumerId: string;
  /** The control-plane consumer holding the credential (differs for Konnect realm consumers). */
  readonly kongConsumerId: string;
  readonly username: string | null;
  readonly credentialId: string;
  readonly key: string;
  readonly algorithm: SigningAlgorithm;
  readonly secret: string;
  /** Epoch milliseconds of the Kong answer this entry came from. */
  readonly fetchedAt: number;
}

/** A stored credential with its imported key: the only thing the hot path touches. */
export interface CachedCredential extends StoredCredential {
  readonly signingKey: KeyObject;
}
