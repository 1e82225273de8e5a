/** Kong's `retrieve_tokens`: every configured source, collected into a set of distinct tokens. */

export interface TokenSourceConfig {
  header_names: string[];
  uri_param_names: string[];
  cookie_names: string[];
}

export type RetrievedToken =
  | { kind: "none" }
  | { kind: "one"; token: string }
  | { kind: "multiple" }
  | { kind: "unrecognizable" };

// `?jwt` without `=` reaches Kong as the boolean `true`, which ends as "Unrecognizable token".
const VALUELESS = Symbol("valueless query argument");

const BEARER = /\s*[Bb]earer\s+(.+)/;

/** `ngx.req.get_uri_args` decoding: `+` is a space, then `%XX` escapes; valueless names are `true`. */
function queryArguments(url: string | undefined): Map<string, (string | typeof VALUELESS)[]> {
  const args = new Map<string, (string | typeof VALUELESS)[]>();
  const queryStart = url?.indexOf("?") ?? -1;
  if (url === undefined || queryStart < 0) return args;
  const query = url.slice(queryStart + 1).split("#")[0] ?? "";
  const decode = (part: string) => {
    const spaced = part.replaceAll("+", " ");
    try {
      return decodeURIComponent(spaced);
    } catch {
      return spaced;
    }
  };
  for (const pair of query.split("&")) {
    if (pair === "") continue;
    const equals = pair.indexOf("=");
    const name = decode(equals < 0 ? pair : pair.slice(0, equals));
    const value = equals < 0 ? VALUELESS : decode(pair.slice(equals + 1));
    args.set(name, [...(args.get(name) ?? []), value]);
  }
  return args;
}

/** nginx's `$cookie_<name>`: the first cookie of that name, name compared case-insensitively. */
function cookie(headers: Headers, name: string): string | undefined {
  for (const part of (headers.get("cookie") ?? "").split(";")) {
    const equals = part.indexOf("=");
    if (equals < 0) continue;
    if (part.slice(0, equals).trim().toLowerCase() === name.toLowerCase())
      return part.slice(equals + 1).trim();
  }
  return undefined;
}

export function retrieveToken(
  request: { headers?: Record<string, string> | Headers; url?: string },
  config: TokenSourceConfig,
): RetrievedToken {
  const headers = request.headers instanceof Headers ? request.headers : new Headers(request.headers ?? {});
  const found = new Set<string | typeof VALUELESS>();

  const args = queryArguments(request.url);
  for (const name of config.uri_param_names) {
    for (const value of args.get(name) ?? []) if (value !== "") found.add(value);
  }
  for (const name of config.cookie_names) {
    const value = cookie(headers, name);
    if (value) found.add(value);
  }
  for (const name of config.header_names) {
    const value = headers.get(name);
    const match = value === null ? null : BEARER.exec(value);
    if (match?.[1]) found.add(match[1]);
  }

  const [first, ...others] = [...found];
  if (first === undefined) return { kind: "none" };
  if (others.length > 0) return { kind: "multiple" };
  return first === VALUELESS ? { kind: "unrecognizable" } : { kind: "one", token: first };
}
