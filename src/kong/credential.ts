import { isSigningAlgorithm, type SigningAlgorithm, secretBytes } from "../jwt/keys.ts";
import type { KongCredential } from "./types.ts";

export interface UsableCredential {
  readonly id: string;
  readonly key: string;
  readonly algorithm: SigningAlgorithm;
  readonly secret: string;
  readonly secretBytes: Uint8Array<ArrayBuffer>;
}

/**
 * The credential a token is signed with: the newest (created_at, then id) that the service can sign
 * with and Kong can verify: an HMAC algorithm, a non-empty key, and a secret Kong can decode.
 */
export function pickCredential(
  credentials: readonly KongCredential[],
  secretIsBase64: boolean,
): UsableCredential | undefined {
  let best: UsableCredential | undefined;
  let bestCreatedAt = 0;
  for (const credential of credentials) {
    const usable = toUsable(credential, secretIsBase64);
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

export function toUsable(credential: KongCredential, secretIsBase64: boolean): UsableCredential | undefined {
  const { id, key, algorithm, secret } = credential;
  if (!key || !secret || !isSigningAlgorithm(algorithm)) return undefined;
  const bytes = secretBytes(secret, secretIsBase64);
  return bytes ? { id, key, algorithm, secret, secretBytes: bytes } : undefined;
}
