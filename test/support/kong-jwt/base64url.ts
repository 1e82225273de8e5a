const BASE64URL_BODY = /^[A-Za-z0-9_-]*$/;

/**
 * Strict base64url as Kong's jwt parser decodes it: only `A-Z a-z 0-9 - _`, trailing `=` padding
 * tolerated, `+`, `/`, `.` or anything else refused. Returns undefined when Kong's decoder fails.
 */
export function decodeBase64Url(input: string): Uint8Array<ArrayBuffer> | undefined {
  const body = input.replace(/={1,2}$/, "");
  if (!BASE64URL_BODY.test(body) || body.length % 4 === 1) return undefined;
  // Padding, when present, must complete the last quantum exactly.
  if (body.length !== input.length && input.length % 4 !== 0) return undefined;
  const standard = body.replaceAll("-", "+").replaceAll("_", "/");
  return new Uint8Array(Buffer.from(standard, "base64"));
}

/** Unpadded base64url, what a correct JWT encoder emits. */
export function encodeBase64Url(bytes: Uint8Array | string): string {
  const buffer = typeof bytes === "string" ? Buffer.from(bytes, "utf8") : Buffer.from(bytes);
  return buffer.toString("base64url");
}
