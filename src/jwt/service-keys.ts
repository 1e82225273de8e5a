import type { JsonWebKeyInput, KeyObject } from "node:crypto";
import type { ServiceKeyAlgorithm } from "./keys.ts";

/** One key of the configured set: the private half signs, the public half goes to Kong and the JWKS. */
export interface ServiceKey {
  readonly kid: string;
  readonly alg: ServiceKeyAlgorithm;
  readonly privateKey: KeyObject;
  readonly publicKey: KeyObject;
  /** What a Kong credential for this key holds in `rsa_public_key` (docs/kong-facts.md#jwt-asymmetric). */
  readonly publicPem: string;
}

export interface ServiceKeySet {
  readonly keys: readonly ServiceKey[];
  readonly active: ServiceKey;
}

/** A key set, or what is wrong with it; messages never quote key material. */
export type ParsedKeys = { readonly keys: readonly ServiceKey[] } | { readonly problem: string };

/** Which algorithm each key type signs with; a JWK's own `alg`, when present, must agree. */
function algorithmOf(jwk: Record<string, unknown>): ServiceKeyAlgorithm | undefined {
  if (jwk.kty === "OKP" && jwk.crv === "Ed25519") return "EdDSA";
  if (jwk.kty === "EC" && jwk.crv === "P-256") return "ES256";
  if (jwk.kty === "RSA") return "RS256";
  return undefined;
}

// Kong's jwt plugin is happy with smaller RSA keys; 2048 bits is the floor of RFC 7518 §3.3.
const MIN_RSA_BITS = 2048;

function parseKey(jwk: unknown, index: number): ServiceKey | string {
  if (jwk === null || typeof jwk !== "object" || Array.isArray(jwk))
    return `key ${index} is not a JWK object`;
  const fields = jwk as Record<string, unknown>;
  if (typeof fields.kid !== "string" || fields.kid === "") return `key ${index} has no kid`;
  const name = `key "${fields.kid}"`;
  const alg = algorithmOf(fields);
  if (!alg) {
    return `${name} has an unsupported kty/crv (${String(fields.kty)}/${String(fields.crv)}); use OKP/Ed25519, EC/P-256 or RSA`;
  }
  if (fields.alg !== undefined && fields.alg !== alg) {
    return `${name} has alg ${String(fields.alg)}, which is not supported for its key type (expected ${alg})`;
  }
  if (fields.d === undefined) return `${name} has no private part (d)`;
  // Required here, not imported: start-up without service keys never loads node:crypto (see HmacKey).
  const { createPrivateKey, createPublicKey } = require("node:crypto") as typeof import("node:crypto");
  let privateKey: KeyObject;
  try {
    privateKey = createPrivateKey({ key: fields, format: "jwk" } as JsonWebKeyInput);
  } catch {
    return `${name} is not a valid ${alg} private key`;
  }
  // Stryker disable next-line OptionalChaining: a private KeyObject always has its details; the ?. is for the type.
  const bits = privateKey.asymmetricKeyDetails?.modulusLength;
  if (alg === "RS256" && (bits ?? 0) < MIN_RSA_BITS)
    return `${name} is an RSA key under ${MIN_RSA_BITS} bits`;
  const publicKey = createPublicKey(privateKey);
  const publicPem = publicKey.export({ type: "spki", format: "pem" }).toString();
  return { kid: fields.kid, alg, privateKey, publicKey, publicPem };
}

/** Reads a JWK set (RFC 7517 §5) of private keys, every key with a kid of its own. */
export function parseServiceKeys(text: string): ParsedKeys {
  let document: unknown;
  try {
    document = JSON.parse(text);
  } catch {
    return { problem: "is not valid JSON" };
  }
  const list = (document as { keys?: unknown } | null)?.keys;
  if (!Array.isArray(list) || list.length === 0) return { problem: 'must be a JWK set: {"keys": [ ... ]}' };
  const keys: ServiceKey[] = [];
  for (const [index, jwk] of list.entries()) {
    const key = parseKey(jwk, index);
    if (typeof key === "string") return { problem: key };
    if (keys.some((other) => other.kid === key.kid)) return { problem: `kid "${key.kid}" appears twice` };
    keys.push(key);
  }
  return { keys };
}

/** The active key: the one named, or the only one. A problem (for SERVICE_KEYS_ACTIVE_KID) otherwise. */
export function activeKey(keys: readonly ServiceKey[], kid: string | undefined): ServiceKey | string {
  if (kid === undefined) {
    const [only] = keys;
    return keys.length === 1 && only ? only : "is required when the key set holds more than one key";
  }
  const found = keys.find((key) => key.kid === kid);
  return found ?? `names no key of the set (kids: ${keys.map((key) => key.kid).join(", ")})`;
}

/** The public JWKS entry of a key (RFC 7517 §4): no private member ever leaves here. */
export function publicJwk(key: ServiceKey): Record<string, string> {
  const { kty, crv, x, y, n, e } = key.publicKey.export({ format: "jwk" });
  const members = { kty, crv, x, y, n, e, kid: key.kid, alg: key.alg, use: "sig" };
  return Object.fromEntries(Object.entries(members).filter(([, value]) => value !== undefined)) as Record<
    string,
    string
  >;
}

/** The set as configured: inline, or read from a mounted file (as Kubernetes mounts a secret). */
export function readServiceKeys(
  inline: string | undefined,
  file: string | undefined,
): ParsedKeys | undefined {
  if (inline !== undefined) return parseServiceKeys(inline);
  if (file === undefined) return undefined;
  let text: string;
  try {
    // Required, not imported, as node:crypto above: start-up without service keys never loads node:fs.
    const { readFileSync } = require("node:fs") as typeof import("node:fs");
    // Stryker disable next-line StringLiteral: without an encoding the Buffer reaches JSON.parse, which reads it as UTF-8 too.
    text = readFileSync(file, "utf8");
  } catch (error) {
    return { problem: `cannot be read (${(error as NodeJS.ErrnoException).code})` };
  }
  return parseServiceKeys(text);
}

/**
 * The set of a validated configuration in service-key mode, built once at start-up; undefined in
 * consumer-secret mode. The configuration's rules already refused every set this could not use.
 */
export function loadServiceKeySet(signing: {
  readonly mode: string;
  readonly jwks?: string | undefined;
  readonly jwksFile?: string | undefined;
  readonly activeKid?: string | undefined;
}): ServiceKeySet | undefined {
  if (signing.mode !== "service-keys") return undefined;
  const parsed = readServiceKeys(signing.jwks, signing.jwksFile);
  if (!parsed || "problem" in parsed) throw new Error("the service key set was not validated");
  const active = activeKey(parsed.keys, signing.activeKid);
  if (typeof active === "string") throw new Error("the active service key was not validated");
  return { keys: parsed.keys, active };
}
