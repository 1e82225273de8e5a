import type { Config } from "../config/index.ts";

const ALLOWED_HEADERS = [
  "Content-Type",
  "Authorization",
  "X-Request-Id",
  "X-Consumer-ID",
  "X-Consumer-Username",
  "X-Anonymous-Consumer",
  "apikey",
].join(", ");

const EXPOSED_HEADERS = [
  "X-Request-Id",
  "Retry-After",
  "RateLimit-Limit",
  "RateLimit-Remaining",
  "RateLimit-Reset",
].join(", ");

/** CORS from API_CORS: `*` for any origin, or an allow-list echoed back one origin at a time. */
export function createCors(cors: Config["api"]["cors"]) {
  // A short list, compared one by one: a missing Origin (null) matches none.
  const allowList = cors === "*" ? undefined : cors;

  /** The CORS headers of an answer to `request`, added to `headers` (an answer's, not yet built). */
  function fill(request: Request, headers: Record<string, string>): void {
    headers["access-control-expose-headers"] = EXPOSED_HEADERS;
    if (!allowList) {
      headers["access-control-allow-origin"] = "*";
      return;
    }
    headers.vary = "Origin";
    const origin = request.headers.get("origin");
    const allowed = allowList.find((listed) => listed === origin);
    if (allowed !== undefined) headers["access-control-allow-origin"] = allowed;
  }

  /** The same on an answer already built; Vary: Origin is added to what it varies on already. */
  function apply(request: Request, headers: Headers): void {
    const record: Record<string, string> = {};
    fill(request, record);
    setAll(headers, record);
  }

  function preflight(request: Request, allow: readonly string[]): Response {
    const response = new Response(null, {
      status: 204,
      headers: {
        "access-control-allow-methods": allow.join(", "),
        "access-control-allow-headers": ALLOWED_HEADERS,
        "access-control-max-age": "86400",
      },
    });
    apply(request, response.headers);
    return response;
  }

  return { fill, apply, preflight };
}

/** Every header of `record` set on `headers`, except Vary, which is added to what is there. */
export function setAll(headers: Headers, record: Readonly<Record<string, string>>): void {
  for (const name in record) {
    const value = record[name] as string;
    if (name === "vary") headers.append(name, value);
    else headers.set(name, value);
  }
}

export type Cors = ReturnType<typeof createCors>;
