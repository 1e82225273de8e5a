/**
 * Test-token builder, deliberately independent of the verifier under test: its own base64url
 * (Buffer's) and crypto.subtle signing.
 */
import type { EmulatedConsumer, EmulatedCredential } from "../../support/kong-emulator.ts";

export const NOW = 1_750_000_000;

const HASHES = { HS256: "SHA-256", HS384: "SHA-384", HS512: "SHA-512" } as const;
export type HmacAlg = keyof typeof HASHES;

export function b64url(input: string | Uint8Array): string {
  return Buffer.from(input).toString("base64url");
}

export interface TokenSpec {
  claims: Record<string, unknown> | string;
  header?: Record<string, unknown> | string;
  secret: string | Uint8Array;
  /** Signing algorithm; the header's `alg` defaults to it but may say otherwise. */
  alg?: HmacAlg;
  /** How each JSON segment is encoded; a correct encoder is unpadded base64url. */
  encode?: (json: string) => string;
}

export async function signToken(spec: TokenSpec): Promise<string> {
  const alg = spec.alg ?? "HS256";
  const header = spec.header ?? { typ: "JWT", alg };
  const encode = spec.encode ?? b64url;
  const json = (value: Record<string, unknown> | string) =>
    typeof value === "string" ? value : JSON.stringify(value);
  const signingInput = `${encode(json(header))}.${encode(json(spec.claims))}`;
  const keyBytes = typeof spec.secret === "string" ? new TextEncoder().encode(spec.secret) : spec.secret;
  const key = await crypto.subtle.importKey(
    "raw",
    new Uint8Array(keyBytes),
    { name: "HMAC", hash: HASHES[alg] },
    false,
    ["sign"],
  );
  const signature = await crypto.subtle.sign("HMAC", key, new TextEncoder().encode(signingInput));
  return `${signingInput}.${b64url(new Uint8Array(signature))}`;
}

type Entry = { credential: EmulatedCredential; consumer: EmulatedConsumer };

/** A fixed set of credentials and a lookup by key, standing in for Kong's database. */
export class Credentials {
  private readonly entries: Entry[] = [];

  add(key: string, secret: string, algorithm = "HS256", rsaPublicKey: string | null = null): Entry {
    const consumer: EmulatedConsumer = {
      id: crypto.randomUUID(),
      username: `owner-of-${key}`,
      custom_id: null,
      created_at: NOW - 100,
      tags: null,
    };
    const credential: EmulatedCredential = {
      id: crypto.randomUUID(),
      consumer: { id: consumer.id },
      key,
      secret,
      algorithm,
      rsa_public_key: rsaPublicKey,
      tags: null,
      created_at: NOW - 100,
    };
    const entry = { credential, consumer };
    this.entries.push(entry);
    return entry;
  }

  readonly lookup = (key: string): Entry | undefined => this.entries.find((e) => e.credential.key === key);
}
