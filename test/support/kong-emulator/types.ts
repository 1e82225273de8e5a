export type KongMode = "API_GATEWAY" | "KONNECT";

export interface EmulatedConsumer {
  id: string;
  username: string | null;
  custom_id: string | null;
  created_at: number;
  tags: string[] | null;
}

export interface EmulatedCredential {
  id: string;
  consumer: { id: string };
  key: string;
  secret: string;
  algorithm: string;
  rsa_public_key: string | null;
  tags: string[] | null;
  created_at: number;
}

export interface RecordedCall {
  method: string;
  /** Raw pathname as received, still percent-encoded. */
  path: string;
  search: string;
  headers: Headers;
  /** 0 when no response was sent (hang, reset, or released by stop()). */
  status: number;
  /** Arrival time, epoch milliseconds. */
  at: number;
}

export interface Fault {
  status?: number;
  body?: unknown;
  headers?: Record<string, string>;
  delayMs?: number;
  hang?: boolean;
  reset?: boolean;
  /** Answers as usual, padded to a huge or slowly streamed body (see PaddedBody). */
  pad?: PaddedBody;
  /** How many matching requests this fault applies to; forever when omitted. */
  times?: number;
  match?: (call: { method: string; path: string }) => boolean;
}

/**
 * The normal JSON answer with one extra field (`padding`) that fills it up to `bytes`: still a valid
 * Kong entity, as one with enormous tags or custom_id would be, just far bigger than any real one.
 */
export interface PaddedBody {
  bytes: number;
  /** Sent as chunks without Content-Length (chunked transfer) instead of one sized body. */
  streamed?: boolean;
  /** Size of each streamed chunk; 64 KiB when omitted. */
  chunkBytes?: number;
  /** Pause before each streamed chunk after the first: a body that trickles in. */
  chunkDelayMs?: number;
}

export interface KongEmulatorOptions {
  mode?: KongMode;
  /** API_GATEWAY: enables RBAC (`Kong-Admin-Token`). KONNECT: the expected bearer token. */
  adminToken?: string;
  controlPlaneId?: string;
  pageSize?: number;
  hostname?: string;
  port?: number;
  /** Serve https (PEM strings), e.g. for a production-mode service that refuses http Admin URLs. */
  tls?: { cert: string; key: string };
}

export type CredentialLookup = (
  key: string,
) => { credential: EmulatedCredential; consumer: EmulatedConsumer } | undefined;

export const KONG_VERSION = "3.10.0";

export const JWT_ALGORITHMS = [
  "HS256",
  "HS384",
  "HS512",
  "RS256",
  "RS384",
  "RS512",
  "ES256",
  "ES384",
  "ES512",
  "PS256",
  "PS384",
  "PS512",
  "EdDSA",
] as const;

const UUID_PATTERN = /^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$/i;

/** Kong's `utils.is_valid_uuid`: canonical 8-4-4-4-12 hex, any case. */
export function isUuid(value: string): boolean {
  return UUID_PATTERN.test(value);
}

export function uuid(): string {
  return crypto.randomUUID();
}

const ALPHANUMERIC = "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789";

/** Same alphabet and length as Kong's auto-generated `key`/`secret`. */
export function randomAlphanumeric(length = 32): string {
  let out = "";
  while (out.length < length) {
    for (const byte of crypto.getRandomValues(new Uint8Array(length))) {
      // 248 = 4 * 62: rejecting the tail keeps every character equally likely.
      if (byte < 248 && out.length < length) out += ALPHANUMERIC[byte % 62];
    }
  }
  return out;
}

export function nowSeconds(): number {
  return Math.floor(Date.now() / 1000);
}
