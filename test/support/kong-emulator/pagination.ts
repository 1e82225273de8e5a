import { isUuid } from "./types.ts";

export const MAX_PAGE_SIZE = 1000;

export type PageError = { kind: "size"; message: string } | { kind: "offset"; message: string };

export type Page<T> = { ok: true; data: T[]; offset: string | null } | { ok: false; error: PageError };

/**
 * Kong's offsets are opaque base64 over the last primary key of the page (keyset pagination), so
 * they survive deletions between pages and usually contain `+`, `/` or `=`: a client that does
 * not escape the offset it copies by hand breaks, which is exactly what real Kong does too.
 */
function encodeOffset(lastId: string): string {
  return Buffer.from(JSON.stringify([lastId])).toString("base64");
}

function decodeOffset(offset: string): string | undefined {
  if (!/^[A-Za-z0-9+/]+={0,2}$/.test(offset) || offset.length % 4 !== 0) return undefined;
  try {
    const parsed: unknown = JSON.parse(Buffer.from(offset, "base64").toString("utf8"));
    if (Array.isArray(parsed) && parsed.length === 1 && typeof parsed[0] === "string" && isUuid(parsed[0])) {
      return parsed[0];
    }
  } catch {
    // Falls through to "not a valid offset", like any other undecodable token.
  }
  return undefined;
}

export function pageOf<T extends { id: string }>(
  sortedById: T[],
  query: URLSearchParams,
  defaultSize: number,
): Page<T> {
  let size = defaultSize;
  const rawSize = query.get("size");
  if (rawSize !== null) {
    size = Number(rawSize);
    if (rawSize.trim() === "" || Number.isNaN(size)) {
      return { ok: false, error: { kind: "size", message: "size must be a number" } };
    }
    if (!Number.isInteger(size) || size < 1 || size > MAX_PAGE_SIZE) {
      return {
        ok: false,
        error: { kind: "size", message: `size must be an integer between 1 and ${MAX_PAGE_SIZE}` },
      };
    }
  }
  let rows = sortedById;
  const offset = query.get("offset");
  if (offset !== null) {
    const lastId = decodeOffset(offset);
    if (lastId === undefined) {
      return {
        ok: false,
        error: { kind: "offset", message: `'${offset}' is not a valid offset: bad base64 encoding` },
      };
    }
    rows = rows.filter((row) => row.id > lastId);
  }
  const data = rows.slice(0, size);
  const last = data[data.length - 1];
  return { ok: true, data, offset: rows.length > size && last ? encodeOffset(last.id) : null };
}
