/**
 * Kong 3.10's asymmetric `alg_verify` functions (jwt_parser.lua) and the credential check of
 * daos.lua, on node:crypto. docs/kong-facts.md#jwt-asymmetric says what each does and why.
 */
import { constants, createPublicKey, verify as cryptoVerify, type KeyObject } from "node:crypto";

type Scheme = "pkcs1" | "pss" | "ecdsa" | "eddsa";

interface AlgorithmRule {
  scheme: Scheme;
  /** null for EdDSA, which hashes inside the signature scheme. */
  hash: string | null;
  /** The exact byte length the verify function asserts, when it asserts one. */
  signatureBytes?: number;
  /** daos.lua's conditional: the credential must hold a key OpenSSL loads. */
  keyRequired: boolean;
}

const RULES: Readonly<Record<string, AlgorithmRule>> = {
  RS256: { scheme: "pkcs1", hash: "sha256", keyRequired: true },
  RS384: { scheme: "pkcs1", hash: "sha384", keyRequired: true },
  RS512: { scheme: "pkcs1", hash: "sha512", keyRequired: true },
  // JWS r||s: 32, 48 and 66 bytes per integer for P-256, P-384 and P-521.
  ES256: { scheme: "ecdsa", hash: "sha256", signatureBytes: 64, keyRequired: false },
  ES384: { scheme: "ecdsa", hash: "sha384", signatureBytes: 96, keyRequired: false },
  ES512: { scheme: "ecdsa", hash: "sha512", signatureBytes: 132, keyRequired: false },
  // Kong asserts 256 bytes for all three: only a 2048-bit RSA key can ever verify.
  PS256: { scheme: "pss", hash: "sha256", signatureBytes: 256, keyRequired: true },
  PS384: { scheme: "pss", hash: "sha384", signatureBytes: 256, keyRequired: true },
  PS512: { scheme: "pss", hash: "sha512", signatureBytes: 256, keyRequired: true },
  EdDSA: { scheme: "eddsa", hash: null, keyRequired: true },
};

export const ASYMMETRIC_ALGORITHMS: readonly string[] = Object.keys(RULES);

/**
 * What `openssl_pkey.new` makes of a credential's `rsa_public_key`: a PEM public key (SPKI or
 * PKCS#1) or a PEM private key, whose public half then verifies. Anything else is no key.
 */
export function loadKongKey(material: string): KeyObject | undefined {
  try {
    return createPublicKey(material);
  } catch {
    return undefined;
  }
}

/**
 * `valid` and `invalid` are verify_signature's true and false (or nil); `raised` is a Lua error
 * from one of its asserts, which the handler does not catch, so Kong answers 500.
 */
export type AsymmetricOutcome = { kind: "valid" } | { kind: "invalid" } | { kind: "raised"; error: string };

function verifies(rule: AlgorithmRule, key: KeyObject, signature: Uint8Array, data: Buffer): boolean {
  switch (rule.scheme) {
    case "pkcs1":
      return cryptoVerify(rule.hash, data, key, signature);
    case "pss":
      return cryptoVerify(
        rule.hash,
        data,
        { key, padding: constants.RSA_PKCS1_PSS_PADDING, saltLength: constants.RSA_PSS_SALTLEN_AUTO },
        signature,
      );
    case "ecdsa":
      // lua-resty-openssl's `ecdsa_use_raw` turns r||s into DER for OpenSSL; P1363 is that r||s.
      return cryptoVerify(rule.hash, data, { key, dsaEncoding: "ieee-p1363" }, signature);
    case "eddsa":
      return cryptoVerify(null, data, key, signature);
  }
}

export function verifyAsymmetric(
  algorithm: string,
  keyMaterial: string,
  signature: Uint8Array,
  signingInput: string,
): AsymmetricOutcome {
  const rule = RULES[algorithm];
  if (!rule) throw new Error(`${algorithm} is not an asymmetric algorithm`);
  const key = loadKongKey(keyMaterial);
  if (!key) return { kind: "raised", error: "Consumer Public Key is Invalid" };
  if (rule.signatureBytes !== undefined && signature.length !== rule.signatureBytes) {
    return { kind: "raised", error: `Signature must be ${rule.signatureBytes} bytes` };
  }
  try {
    return verifies(rule, key, signature, Buffer.from(signingInput))
      ? { kind: "valid" }
      : { kind: "invalid" };
  } catch {
    // OpenSSL refusing the pair (a key of another type, r||s of another curve's width) makes
    // lua-resty-openssl return nil and an error, which verify_signature passes on as falsy.
    return { kind: "invalid" };
  }
}

/**
 * daos.lua's entity check for a credential being created: for RS*, PS* and EdDSA the key is
 * required and must load; ES* and HS* keys are neither required nor checked.
 */
export function credentialKeyProblem(
  algorithm: string,
  rsaPublicKey: string | null | undefined,
): string | undefined {
  if (!RULES[algorithm]?.keyRequired) return undefined;
  if (rsaPublicKey === undefined || rsaPublicKey === null) return "required field missing";
  return loadKongKey(rsaPublicKey) ? undefined : "invalid key";
}
