const JWT_LIKE = /eyJ[A-Za-z0-9_-]{2,}\.[A-Za-z0-9_-]{2,}\.[A-Za-z0-9_-]*/g;
/** Anything URL-shaped in free text: a scheme, `://`, then everything up to a space or a quote. */
const URL_IN_TEXT = /\b[a-z][a-z0-9+.-]*:\/\/[^\s"'<>`]+/gi;
const SENSITIVE_KEY =
  /authorization|token|secret|password|apikey|api-key|api_key|cookie|credential|encryption/i;
const MAX_DEPTH = 6;

/**
 * A URL as it may be shown (health, logs, errors): without user, password, query or fragment, any of
 * which may carry a credential. Something that does not parse loses everything after `://`.
 */
export function publicUrl(url: string): string {
  try {
    const parsed = new URL(url);
    parsed.username = "";
    parsed.password = "";
    parsed.search = "";
    parsed.hash = "";
    return parsed.href;
  } catch {
    return url.replace(/:\/\/.*$/s, "://[REDACTED]");
  }
}

/** Every URL in `text` made public; URLs with nothing to hide are left exactly as written. */
export function withPublicUrls(text: string): string {
  if (!text.includes("://")) return text;
  return text.replace(URL_IN_TEXT, (url) => (/[@?#]/.test(url) ? publicUrl(url) : url));
}

/**
 * Scrubs values that must never leave the process: the configured secrets wherever they appear,
 * anything shaped like a JWT, credentials and queries of URLs, and every value under a key that
 * names a secret.
 */
export function createRedactor(secrets: readonly (string | undefined)[]) {
  const known = secrets.filter(
    (secret): secret is string => typeof secret === "string" && secret.length >= 4,
  );

  function scrubString(value: string): string {
    let out = withPublicUrls(value).replace(JWT_LIKE, "[REDACTED_JWT]");
    for (const secret of known) if (out.includes(secret)) out = out.split(secret).join("[REDACTED]");
    return out;
  }

  function scrub(value: unknown, depth = 0): unknown {
    if (typeof value === "string") return scrubString(value);
    if (depth >= MAX_DEPTH || value === null || typeof value !== "object") return value;
    if (value instanceof Error) {
      const copy = new Error(scrubString(value.message));
      copy.name = value.name;
      copy.stack = value.stack ? scrubString(value.stack) : undefined;
      return copy;
    }
    if (Array.isArray(value)) return value.map((item) => scrub(item, depth + 1));
    // Raw bytes are key material more often than not; their content never belongs in a log.
    if (ArrayBuffer.isView(value) || value instanceof ArrayBuffer) return "[REDACTED_BYTES]";
    const out: Record<string, unknown> = {};
    for (const [key, child] of Object.entries(value)) {
      out[key] =
        SENSITIVE_KEY.test(key) && typeof child === "string" ? "[REDACTED]" : scrub(child, depth + 1);
    }
    return out;
  }

  return { scrub, scrubString };
}
