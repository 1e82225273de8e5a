import type { CachedCredential, StoredCredential } from "../cache/types.ts";
import {
  importSigningKey,
  isSigningAlgorithm,
  type SigningKey,
  secretBytes,
  type TokenAlgorithm,
} from "../jwt/keys.ts";
import type { ServiceKey, ServiceKeySet } from "../jwt/service-keys.ts";
import type { CredentialDraft } from "./adapter.ts";
import type { KongCredential } from "./types.ts";

/** A credential the service can sign with, and Kong verify. */
export interface UsableCredential {
  readonly id: string;
  readonly key: string;
  readonly algorithm: TokenAlgorithm;
  /** What the cache stores as `secret` (see StoredCredential). */
  readonly secret: string;
  readonly signingKey: SigningKey;
  readonly kid?: string;
}

/**
 * What a signing mode accepts of Kong's credentials and of the cache's entries, and what it creates
 * when a consumer has no credential it can use.
 */
export interface SigningPolicy {
  usable(credential: KongCredential): UsableCredential | undefined;
  /** A cached entry signed for by this mode, with its key; undefined when this mode cannot use it. */
  materialize(stored: StoredCredential): CachedCredential | undefined;
  /**
   * Whether new tokens may be signed with a cached entry: false for an entry of another key of the
   * set than the active one, which is then only a stale fallback until the active key's credential
   * exists. A kid comparison, nothing more.
   */
  isCurrent(entry: CachedCredential): boolean;
  /** Whether a credential is of this mode's kind (HMAC, or asymmetric), so one the mode can retire. */
  ownsKind(credential: KongCredential): boolean;
  /** Whether a rotation creates a credential every time (HMAC) or only when the active key has none. */
  readonly renewsOnRotate: boolean;
  readonly draft: CredentialDraft;
}

/**
 * The credential a token is signed with: the newest (created_at, then id) that the policy accepts.
 */
export function pickCredential(
  credentials: readonly KongCredential[],
  policy: SigningPolicy,
): UsableCredential | undefined {
  let best: UsableCredential | undefined;
  let bestCreatedAt = 0;
  for (const credential of credentials) {
    const usable = policy.usable(credential);
    if (!usable) continue;
    const newer =
      !best ||
      credential.created_at > bestCreatedAt ||
      (credential.created_at === bestCreatedAt && credential.id > best.id);
    if (newer) {
      best = usable;
      bestCreatedAt = credential.created_at;
    }
  }
  return best;
}

/**
 * Tags on every credential the service creates (HMAC secrets and credentials of its keys), so it can
 * tell its own from ones made by hand (Kong's entity tags, docs/kong-facts.md#credential-entity): only
 * a tagged credential is ever deleted by the service.
 */
export const SERVICE_KEY_TAG = "kong-auth-service";

/** Whether the service created the credential (see SERVICE_KEY_TAG). */
export function createdByService(credential: KongCredential): boolean {
  return credential.tags?.includes(SERVICE_KEY_TAG) === true;
}

/**
 * Per-consumer secrets: an HMAC algorithm, a non-empty key, and a secret Kong can decode
 * (docs/kong-facts.md#jwt-signature).
 */
export function consumerSecrets(secretIsBase64: boolean): SigningPolicy {
  return {
    usable({ id, key, algorithm, secret }) {
      if (!key || !secret || !isSigningAlgorithm(algorithm)) return undefined;
      const bytes = secretBytes(secret, secretIsBase64);
      return bytes ? { id, key, algorithm, secret, signingKey: importSigningKey(bytes) } : undefined;
    },
    materialize(stored) {
      if (!isSigningAlgorithm(stored.algorithm)) return undefined;
      const bytes = secretBytes(stored.secret, secretIsBase64);
      return bytes ? { ...stored, signingKey: importSigningKey(bytes) } : undefined;
    },
    isCurrent: () => true,
    ownsKind: ({ algorithm }) => isSigningAlgorithm(algorithm),
    renewsOnRotate: true,
    draft: { algorithm: "HS256", tags: [SERVICE_KEY_TAG] },
  };
}

/**
 * The service's own keys: a credential is usable only with the active key's algorithm and public key
 * (docs/kong-facts.md#jwt-asymmetric); a cached entry only when it names a key of the set whose
 * algorithm it has, so entries of HMAC mode are never signed with here.
 */
export function serviceKeys(set: ServiceKeySet): SigningPolicy {
  const { active } = set;
  const activePem = normalisePem(active.publicPem);
  const entry = (key: ServiceKey) => ({ signingKey: key.privateKey, kid: key.kid });
  return {
    usable({ id, key, algorithm, rsa_public_key }) {
      if (!key || algorithm !== active.alg || !rsa_public_key) return undefined;
      if (normalisePem(rsa_public_key) !== activePem) return undefined;
      return { id, key, algorithm: active.alg, secret: active.kid, ...entry(active) };
    },
    materialize(stored) {
      const key = set.keys.find((candidate) => candidate.kid === stored.secret);
      return key && key.alg === stored.algorithm ? { ...stored, ...entry(key) } : undefined;
    },
    isCurrent: (cached) => cached.kid === active.kid,
    ownsKind: ({ algorithm }) => !isSigningAlgorithm(algorithm),
    renewsOnRotate: false,
    draft: {
      algorithm: active.alg,
      rsa_public_key: active.publicPem,
      tags: [SERVICE_KEY_TAG],
    },
  };
}

/** Kong stores the PEM as sent; line endings and surrounding blanks may differ from ours. */
function normalisePem(pem: string): string {
  return pem.replace(/\s/g, "");
}
