import { z } from "zod";

/**
 * The kinds of value the settings are made of. Environment values arrive as strings, so numbers and
 * booleans are coerced here, and each kind says in its own words what is wrong with a bad value.
 */

/** The schema-level `error` answers for a non-number and a fraction; the range checks keep their own. */
/*
 * Checks are added in one `.check()`: each chained `.int()`, `.min()`, `.max()` would build another
 * copy of the schema, and the settings' schemas are built at every start-up (docs/testing.md).
 */
export const int = (min: number, max: number) =>
  z.coerce
    .number({ error: "must be a whole number" })
    .check(z.int(), z.gte(min, `must be at least ${min}`), z.lte(max, `must be at most ${max}`));
export const bool = z.union([z.boolean(), z.stringbool()], { error: "must be true or false" });
export const text = (max = 512) => z.string().check(z.trim(), z.minLength(1), z.maxLength(max));
export const httpUrl = z.url({ protocol: /^https?$/, error: "must be an http:// or https:// URL" });

/** "a, b,c" → ["a", "b", "c"]: every list variable is comma-separated, blanks ignored. */
export const splitList = (value: string) =>
  value
    .split(",")
    .map((item) => item.trim())
    .filter(Boolean);

/** A comma-separated list of at least one item, each checked by `item`. */
export const list = (item: z.ZodType<string, string>, none: string) =>
  z.string().transform(splitList).pipe(z.array(item).min(1, none));

export function percentDecoded(value: string): string {
  try {
    return decodeURIComponent(value);
  } catch {
    return value;
  }
}

/** An IPv4 or IPv6 CIDR; a bare address means just that host. */
export function isCidr(value: string): boolean {
  // split() always returns at least one part.
  const [address, prefix, ...rest] = value.split("/") as [string, ...string[]];
  // Required, not imported: only CIDR settings need node:net, whose load costs about 6 ms (docs/testing.md).
  const family = (require("node:net") as typeof import("node:net")).isIP(address);
  if (family === 0 || rest.length > 0) return false;
  if (prefix === undefined) return true;
  if (!/^\d{1,3}$/.test(prefix)) return false;
  return Number(prefix) <= (family === 4 ? 32 : 128);
}

/**
 * For the rules, which also see values that failed their own check: `undefined` (a variable not
 * set) reads as the text "undefined", which is no URL either.
 */
export function parseUrl(value: string | undefined): URL | null {
  return URL.parse(String(value));
}

/** The production rule of every URL that may carry secrets or tokens. */
export function httpsOnly(url: string | undefined): string | undefined {
  return parseUrl(url)?.protocol === "http:" ? "must use https in production" : undefined;
}
