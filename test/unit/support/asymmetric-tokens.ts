/**
 * Key pairs and tokens for asymmetric credentials, built with node:crypto's signing side only,
 * so the verifier under test never checks its own output.
 */
import { constants, generateKeyPairSync, type KeyObject, sign } from "node:crypto";
import { b64url } from "./jwt-tokens.ts";

export interface KeyPair {
  privateKey: KeyObject;
  /** SPKI PEM, what a JWKS-minded issuer would put in `rsa_public_key`. */
  publicPem: string;
}

function pair(generated: { privateKey: KeyObject; publicKey: KeyObject }): KeyPair {
  return {
    privateKey: generated.privateKey,
    publicPem: generated.publicKey.export({ type: "spki", format: "pem" }).toString(),
  };
}

export const rsaKey = (modulusLength = 2048) => pair(generateKeyPairSync("rsa", { modulusLength }));
export const ecKey = (namedCurve: "P-256" | "P-384" | "P-521") =>
  pair(generateKeyPairSync("ec", { namedCurve }));
export const ed25519Key = () => pair(generateKeyPairSync("ed25519"));

const HASH_OF: Record<string, string> = { "256": "sha256", "384": "sha384", "512": "sha512" };

/** A JWS signature as RFC 7518 defines it for `alg`: ES as r||s, PS with a salt of the hash's size. */
export function jwsSignature(
  alg: string,
  privateKey: KeyObject,
  signingInput: string,
  ecdsaEncoding: "ieee-p1363" | "der" = "ieee-p1363",
): Buffer {
  const data = Buffer.from(signingInput);
  if (alg === "EdDSA") return sign(null, data, privateKey);
  const hash = HASH_OF[alg.slice(2)];
  if (!hash) throw new Error(`no hash for ${alg}`);
  if (alg.startsWith("ES")) return sign(hash, data, { key: privateKey, dsaEncoding: ecdsaEncoding });
  if (alg.startsWith("PS")) {
    return sign(hash, data, {
      key: privateKey,
      padding: constants.RSA_PKCS1_PSS_PADDING,
      saltLength: constants.RSA_PSS_SALTLEN_DIGEST,
    });
  }
  return sign(hash, data, privateKey);
}

export interface AsymmetricTokenSpec {
  alg: string;
  privateKey: KeyObject;
  claims: Record<string, unknown>;
  /** The header's `alg`, when it should say something else than the signing algorithm. */
  headerAlg?: string;
  ecdsaEncoding?: "ieee-p1363" | "der";
  /** Replaces the signature bytes, for signatures of the wrong length. */
  tamper?: (signature: Buffer) => Uint8Array;
}

export function signAsymmetricToken(spec: AsymmetricTokenSpec): string {
  const header = { typ: "JWT", alg: spec.headerAlg ?? spec.alg };
  const signingInput = `${b64url(JSON.stringify(header))}.${b64url(JSON.stringify(spec.claims))}`;
  const signature = jwsSignature(spec.alg, spec.privateKey, signingInput, spec.ecdsaEncoding);
  return `${signingInput}.${b64url(spec.tamper ? spec.tamper(signature) : signature)}`;
}
