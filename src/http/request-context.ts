import type { Server } from "bun";

export interface RequestContext {
  readonly requestId: string;
  readonly startedAt: number;
  readonly server: Server<unknown>;
  /**
   * The headers every answer to this request carries, decided as it goes through: the pipeline's
   * (request id, nosniff, CORS), then the steps' (the rate limit's). A handler may build its answer
   * with them (see answerHeaders); the pipeline sets them on any other answer.
   */
  readonly headers: Record<string, string>;
  /** True once a handler built its answer with `headers`: the pipeline then adds none of them again. */
  headersGiven: boolean;
}

/**
 * The request's headers for an answer the handler builds itself, with `own` (its content type and the
 * like) added: given at construction, where setting them on the built Response costs a call each.
 */
export function answerHeaders(
  ctx: RequestContext,
  own: Readonly<Record<string, string>>,
): Record<string, string> {
  const headers = ctx.headers;
  for (const name in own) headers[name] = own[name] as string;
  ctx.headersGiven = true;
  return headers;
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
  // Any path (or none) after the placeholder origin is a valid URL.
  return URL.parse(url) ?? new URL(PLACEHOLDER_ORIGIN + pathPart(url));
}

/** From the first "/" after the host on; empty when there is none (the root). */
function pathPart(url: string): string {
  const start = url.startsWith("/") ? 0 : url.indexOf("/", url.indexOf("//") + 2);
  return start < 0 ? "" : url.slice(start);
}
