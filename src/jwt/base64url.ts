/**
 * RFC 4648 §5 without padding, the only encoding Kong's jwt plugin decodes
 * (docs/kong-facts.md#jwt-decoding).
 */
export function encodeBase64Url(text: string): string {
  // About half the cost of Buffer.from(text).toString("base64url") (scripts/bench-hot-path.ts).
  return utf8.encode(text).toBase64(BASE64URL);
}

const utf8 = new TextEncoder();
const BASE64URL = { alphabet: "base64url", omitPadding: true } as const;

const STRICT_BASE64URL = /^[A-Za-z0-9_-]*={0,2}$/;

/** Decodes the way Kong does for `secret_is_base64`: `+`, `/` or any other stray byte is an error. */
export function decodeBase64UrlStrict(text: string): Uint8Array<ArrayBuffer> | undefined {
  if (!STRICT_BASE64URL.test(text)) return undefined;
  const unpadded = text.replaceAll("=", ""); // only ever at the end, per STRICT_BASE64URL
  if (unpadded.length % 4 === 1) return undefined;
  return new Uint8Array(Buffer.from(unpadded, "base64url"));
}
