/**
 * Request decoding the way Kong's Admin API does it: path segments through `ngx.unescape_uri`,
 * bodies through Kong's argument parser.
 */

const PERCENT_BYTE = /^[0-9A-Fa-f]{2}$/;

/**
 * `ngx.unescape_uri`: decodes `%XX` once, turns `+` into a space, and leaves malformed escapes as
 * they are instead of failing. A client that does not percent-encode a `+` in a username is
 * therefore looking up a different consumer, on real Kong as here.
 */
export function unescapeSegment(raw: string): string {
  const bytes: number[] = [];
  const encoder = new TextEncoder();
  for (let i = 0; i < raw.length; ) {
    const hex = raw.slice(i + 1, i + 3);
    if (raw[i] === "%" && PERCENT_BYTE.test(hex)) {
      bytes.push(Number.parseInt(hex, 16));
      i += 3;
    } else if (raw[i] === "+") {
      bytes.push(0x20);
      i += 1;
    } else {
      const codePoint = raw.codePointAt(i) ?? 0;
      const char = String.fromCodePoint(codePoint);
      bytes.push(...encoder.encode(char));
      i += char.length;
    }
  }
  return new TextDecoder().decode(new Uint8Array(bytes));
}

/** Raw (still-encoded) path segments, ignoring one trailing slash as Kong's router does. */
export function rawSegments(pathname: string): string[] {
  const trimmed = pathname.length > 1 && pathname.endsWith("/") ? pathname.slice(0, -1) : pathname;
  return trimmed === "/" ? [] : trimmed.slice(1).split("/");
}

export type ParsedBody = { ok: true; body: Record<string, unknown> } | { ok: false };

function isPlainObject(value: unknown): value is Record<string, unknown> {
  return typeof value === "object" && value !== null && !Array.isArray(value);
}

/** Form fields arrive as strings; Kong infers integers and arrays from the entity schema. */
function fromForm(entries: Iterable<[string, string]>): Record<string, unknown> {
  const body: Record<string, unknown> = {};
  for (const [rawName, value] of entries) {
    const isArray = rawName.endsWith("[]") || rawName === "tags";
    const name = rawName.endsWith("[]") ? rawName.slice(0, -2) : rawName;
    const current = body[name];
    if (isArray) body[name] = [...(Array.isArray(current) ? current : []), value];
    else if (current !== undefined) body[name] = [...(Array.isArray(current) ? current : [current]), value];
    else body[name] = name === "created_at" && /^-?\d+$/.test(value) ? Number(value) : value;
  }
  return body;
}

/**
 * JSON, urlencoded and multipart bodies are read; any other content type is ignored, so a client
 * that sends JSON without `Content-Type: application/json` silently gets defaults, like on Kong.
 */
export async function readBody(req: Request): Promise<ParsedBody> {
  const type = (req.headers.get("content-type") ?? "").toLowerCase();
  if (type.includes("application/json")) {
    const text = await req.text();
    if (text.trim() === "") return { ok: true, body: {} };
    try {
      const parsed: unknown = JSON.parse(text);
      return isPlainObject(parsed) ? { ok: true, body: parsed } : { ok: false };
    } catch {
      return { ok: false };
    }
  }
  if (type.includes("application/x-www-form-urlencoded")) {
    return { ok: true, body: fromForm(new URLSearchParams(await req.text())) };
  }
  if (type.includes("multipart/form-data")) {
    const form = await req.formData();
    const entries: [string, string][] = [];
    form.forEach((value, name) => {
      if (typeof value === "string") entries.push([name, value]);
    });
    return { ok: true, body: fromForm(entries) };
  }
  return { ok: true, body: {} };
}
