import type { Config } from "../config/index.ts";
import { setAll } from "./request-context.ts";

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
  /** What every answer carries, whatever the request. */
  const common: Readonly<Record<string, string>> = allowList
    ? { "access-control-expose-headers": EXPOSED_HEADERS, vary: "Origin" }
    : { "access-control-expose-headers": EXPOSED_HEADERS, "access-control-allow-origin": "*" };

  /** What an answer to `request` carries besides `common`: a listed origin, echoed. */
  function fill(request: Request, headers: Record<string, string>): void {
    if (!allowList) return;
    const origin = request.headers.get("origin");
    const allowed = allowList.find((listed) => listed === origin);
    if (allowed !== undefined) headers["access-control-allow-origin"] = allowed;
  }

  /** Both on an answer already built; Vary: Origin is added to what it varies on already. */
  function apply(request: Request, headers: Headers): void {
    const record: Record<string, string> = {};
    fill(request, record);
    setAll(headers, common);
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

  return { common, fill, apply, preflight };
}

export type Cors = ReturnType<typeof createCors>;
