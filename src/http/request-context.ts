import type { Server } from "bun";

export interface RequestContext {
  readonly requestId: string;
  readonly startedAt: number;
  readonly server: Server<unknown>;
  /**
   * The headers every answer to this request carries that change from request to request, decided as
   * it goes through: the pipeline's (request id, an allow-listed origin), then the steps' (the rate
   * limit's). The pipeline sets them, and `common`'s, on any answer not built with answerHeaders.
   */
  readonly headers: Record<string, string>;
  /** The pipeline's headers that are the same on every answer (nosniff, CORS's fixed part). */
  readonly common: CommonHeaders;
  /** True once a handler built its answer with answerHeaders: the pipeline then adds none again. */
  headersGiven: boolean;
}

/**
 * Headers every answer carries, and for a handler's own fixed headers (a content type and the like)
 * one Headers object holding both, made on first use. Copying it and setting the few headers of the
 * request costs about half of building the same Headers from a record (scripts/bench-hot-path.ts).
 */
export class CommonHeaders {
  private readonly templates = new Map<object, Headers>();

  constructor(readonly record: Readonly<Record<string, string>>) {}

  template(own: Readonly<Record<string, string>>): Headers {
    return this.templates.get(own) ?? this.make(own);
  }

  private make(own: Readonly<Record<string, string>>): Headers {
    const template = new Headers(own);
    setAll(template, this.record);
    // Stryker disable next-line CallExpression: making the template again gives the same headers; the map only spares the work.
    this.templates.set(own, template);
    return template;
  }
}

/**
 * The headers of an answer the handler builds itself: `own` (one object, kept by the handler), the
 * common ones and the request's, given at construction where setting each on the built Response
 * costs a call. The pipeline then adds none of them again.
 */
export function answerHeaders(ctx: RequestContext, own: Readonly<Record<string, string>>): Headers {
  const headers = new Headers(ctx.common.template(own));
  const varying = ctx.headers;
  for (const name in varying) headers.set(name, varying[name] as string);
  ctx.headersGiven = true;
  return headers;
}

/** Every header of `record` set on `headers`, except Vary, which is added to what is there. */
export function setAll(headers: Headers, record: Readonly<Record<string, string>>): void {
  for (const name in record) {
    const value = record[name] as string;
    if (name === "vary") headers.append(name, value);
    else headers.set(name, value);
  }
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
