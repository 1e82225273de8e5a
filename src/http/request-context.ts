import type { Server } from "bun";

export interface RequestContext {
  readonly requestId: string;
  readonly startedAt: number;
  readonly server: Server<unknown>;
}

const SANE_REQUEST_ID = /^[\x21-\x7e]{1,128}$/;

/** Echoes a caller's X-Request-Id when it is short printable ASCII, else mints one. */
export function requestIdOf(request: Request): string {
  const incoming = request.headers.get("x-request-id");
  return incoming !== null && SANE_REQUEST_ID.test(incoming) ? incoming : crypto.randomUUID();
}

/** Stands in for the origin when Bun could not build one; only the path and query are ever read. */
const PLACEHOLDER_ORIGIN = "http://host.invalid";

/**
 * The request's URL, for its path and query. Without a usable Host header Bun leaves `request.url`
 * relative ("/health") or not a URL at all ("http://[::1/health"); such a request is still answered.
 */
export function urlOf(request: Request): URL {
  const url = request.url;
  return URL.parse(url) ?? URL.parse(PLACEHOLDER_ORIGIN + pathPart(url)) ?? new URL(PLACEHOLDER_ORIGIN);
}

function pathPart(url: string): string {
  if (url.startsWith("/")) return url;
  const scheme = url.indexOf("://");
  const start = url.indexOf("/", scheme < 0 ? 0 : scheme + 3);
  return start < 0 ? "/" : url.slice(start);
}
