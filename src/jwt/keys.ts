import type { KeyObject } from "node:crypto";
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
 * An HMAC secret as the signer holds it: the bytes in a private field, so that JSON (a Redis record)
 * and inspection (a log line) see `{}`, as they would a node:crypto KeyObject. Not a KeyObject: that
 * means importing node:crypto, which brings Node's stream modules with it, about 8 ms of every start
 * (docs/testing.md); the signer keys a Bun.CryptoHasher with the bytes anyway.
 */
export class HmacKey {
  readonly #bytes: Uint8Array<ArrayBuffer>;

  constructor(bytes: Uint8Array<ArrayBuffer>) {
    this.#bytes = bytes.slice();
  }

  /** A copy of the secret's bytes, as KeyObject.export() gives a secret key's. */
  export(): Buffer {
    return Buffer.from(this.#bytes);
  }
}

/** What a credential signs with: an HMAC secret, or the service's private key (a KeyObject). */
export type SigningKey = HmacKey | KeyObject;

/**
 * Imported once per credential and kept with it, so a cached request does no key work. Not a WebCrypto
 * CryptoKey: in Bun, crypto.subtle.sign runs on a worker thread and cost ~45 µs per token against
 * ~1 µs for the synchronous HMAC (see docs/architecture.md).
 */
export function importSigningKey(secret: Uint8Array<ArrayBuffer>): HmacKey {
  return new HmacKey(secret);
}
