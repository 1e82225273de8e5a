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

  function apply(request: Request, headers: Headers): void {
    headers.set("access-control-expose-headers", EXPOSED_HEADERS);
    if (!allowList) {
      headers.set("access-control-allow-origin", "*");
      return;
    }
    headers.append("vary", "Origin");
    const origin = request.headers.get("origin");
    const allowed = allowList.find((listed) => listed === origin);
    if (allowed !== undefined) headers.set("access-control-allow-origin", allowed);
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

  return { apply, preflight };
}

export type Cors = ReturnType<typeof createCors>;
