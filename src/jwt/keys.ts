import { createSecretKey, type KeyObject } from "node:crypto";
import { decodeBase64UrlStrict } from "./base64url.ts";

/** JWS algorithm → HMAC digest (RFC 7518 §3.2). */
export const SIGNING_ALGORITHMS = { HS256: "sha256", HS384: "sha384", HS512: "sha512" } as const;
export type SigningAlgorithm = keyof typeof SIGNING_ALGORITHMS;

/** What the service signs with its own keys; Kong 3.10 verifies each (docs/kong-facts.md#jwt-asymmetric). */
export type ServiceKeyAlgorithm = "EdDSA" | "ES256" | "RS256";
/** Every `alg` a token of this service may carry. */
export type TokenAlgorithm = SigningAlgorithm | ServiceKeyAlgorithm;

export function isSigningAlgorithm(algorithm: string): algorithm is SigningAlgorithm {
  return Object.hasOwn(SIGNING_ALGORITHMS, algorithm);
}

/**
 * The bytes Kong verifies with: the secret string as-is, or its base64url decoding when the jwt plugin
 * runs with `secret_is_base64` (docs/kong-facts.md#jwt-signature). Undefined when Kong itself could not
 * use the secret.
 */
export function secretBytes(secret: string, secretIsBase64: boolean): Uint8Array<ArrayBuffer> | undefined {
  if (secret.length === 0) return undefined;
  if (!secretIsBase64) return new TextEncoder().encode(secret);
  const decoded = decodeBase64UrlStrict(secret);
  return decoded && decoded.length > 0 ? decoded : undefined;
}

/**
 * Imported once per credential and kept with it, so a cached request does no key work. A node:crypto
 * KeyObject rather than a WebCrypto CryptoKey: in Bun, crypto.subtle.sign runs on a worker thread and
 * cost ~45 µs per token against ~1 µs for the synchronous HMAC (see docs/architecture.md).
 */
export function importSigningKey(secret: Uint8Array<ArrayBuffer>): KeyObject {
  return createSecretKey(secret);
}
