import { AsyncLocalStorage } from "node:async_hooks";
import { type Span as ApiSpan, TraceFlags, trace } from "@opentelemetry/api";
import { type ActiveStore, LiveSpan, type SpanSink } from "./live-span.ts";
import { createOtelBridge, type OtelBridge } from "./otel-bridge.ts";
import { type SpanAttributes, SpanKindCode, StatusCode } from "./span-encoding.ts";
import { SpanStarter } from "./span-starter.ts";
import { injectTraceContext, parseTraceparent, type Sampler } from "./trace-context.ts";

export type { SpanAttributes } from "./span-encoding.ts";

/** What code running inside a span may do to it. */
export interface SpanHandle {
  setAttribute(key: string, value: string | number | boolean): void;
  /** Marks the span failed for a failure that comes back as a value rather than as an exception. */
  fail(error: unknown): void;
}

/** The ids logs are correlated with (ECS trace.id / span.id, OTLP log records). */
export interface ActiveIds {
  readonly traceId: string;
  readonly spanId: string;
  readonly sampled: boolean;
}

/**
 * The spans this service creates by hand (Bun.serve is invisible to Node auto-instrumentation).
 * `disabledTracing` makes every call a plain function call, so console mode pays nothing.
 */
export interface Tracing {
  readonly enabled: boolean;
  /** Runs a request handler inside a server span continuing the caller's W3C trace context. */
  server(
    request: Request,
    route: string,
    requestId: string,
    handle: () => Response | Promise<Response>,
  ): Response | Promise<Response>;
  /** An internal child span of whatever is active. */
  internal<T>(
    name: string,
    attributes: SpanAttributes,
    run: (span: SpanHandle | undefined) => Promise<T> | T,
  ): Promise<T>;
  /** A client span whose context is injected into `headers` (the Kong Admin API call). */
  client<T>(
    name: string,
    attributes: SpanAttributes,
    headers: Record<string, string>,
    run: (span: SpanHandle | undefined) => Promise<T>,
  ): Promise<T>;
  /**
   * A leaf span around work that starts nothing traced, without switching context: synchronous, or a
   * promise the span waits for (a signature from the signing pool).
   */
  leaf<T>(name: string, attributes: SpanAttributes, run: () => T): T;
  /** Adds attributes to the active span (e.g. a cache hit, which is not worth a span of its own). */
  annotate(attributes: SpanAttributes): void;
  /** The active trace and span ids, for log correlation. */
  activeIds(): ActiveIds | undefined;
}

export const disabledTracing: Tracing = {
  enabled: false,
  server: (_request, _route, _requestId, handle) => handle(),
  internal: async (_name, _attributes, run) => run(undefined),
  leaf: (_name, _attributes, run) => run(),
  client: (_name, _attributes, _headers, run) => run(undefined),
  annotate: () => {},
  activeIds: () => undefined,
};

/**
 * The request's path. A literal route (no parameter, no wildcard) is the path itself: Bun.serve
 * matches a static route only on that exact path, the query aside, and reading request.url makes Bun
 * build the URL string, about 0.45 µs a request. Other routes (parameters, the fallback's
 * "unmatched") take the path of the absolute URL, without the cost of a URL parse.
 */
function pathOf(request: Request, route: string): string {
  if (route.startsWith("/") && !route.includes(":") && !route.includes("*")) return route;
  const url = request.url;
  // Without a usable Host header Bun leaves request.url relative ("/a/b"): the path starts at 0.
  const start = url.startsWith("/") ? 0 : url.indexOf("/", url.indexOf("//") + 2);
  if (start < 0) return "/";
  const query = url.indexOf("?", start);
  // Stryker disable next-line EqualityOperator: a "?" is never at 0, where a relative URL has its "/".
  const end = query < 0 ? url.length : query;
  return url.slice(start, end);
}

/** "METHOD /route" built once per pair (both are bounded), not once per request. */
class SpanNames {
  private readonly byMethod = new Map<string, Map<string, string>>();

  of(method: string, route: string): string {
    let byRoute = this.byMethod.get(method);
    // Stryker disable next-line ConditionalExpression: a name built again is the same text; the cache only spares the work.
    if (!byRoute) {
      // Stryker disable next-line ConditionalExpression,EqualityOperator: the bound only keeps the cache small; the name is the same text.
      if (this.byMethod.size >= 32) return `${method} ${route}`;
      byRoute = new Map();
      // Stryker disable next-line CallExpression: a name built again is the same text; the cache only spares the work.
      this.byMethod.set(method, byRoute);
    }
    let name = byRoute.get(route);
    // Stryker disable next-line ConditionalExpression: a name built again is the same text; the cache only spares the work.
    if (name === undefined) {
      name = `${method} ${route}`;
      // Stryker disable next-line CallExpression: a name built again is the same text; the cache only spares the work.
      byRoute.set(route, name);
    }
    return name;
  }
}

function serverAnswered(span: LiveSpan, response: Response): Response {
  span.setAttribute("http.response.status_code", response.status);
  if (response.status >= 500) span.statusCode = StatusCode.ERROR;
  span.end();
  return response;
}

function serverFailed(span: LiveSpan, error: unknown): never {
  span.fail(error);
  span.end();
  throw error;
}

/**
 * The span code runs in. Usually the service's own, held as it is; inside a context a library made
 * through the OpenTelemetry API (src/telemetry/otel-bridge.ts), the span that context holds.
 */
export function activeSpan(active: AsyncLocalStorage<ActiveStore>): ApiSpan | undefined {
  const store = active.getStore();
  return store === undefined || store instanceof LiveSpan ? store : trace.getSpan(store);
}

async function inSpan<T>(
  active: AsyncLocalStorage<ActiveStore>,
  span: LiveSpan,
  run: () => Promise<T> | T,
): Promise<T> {
  try {
    return await active.run(span, run);
  } catch (error) {
    span.fail(error);
    throw error;
  } finally {
    span.end();
  }
}

/** The server span of one request, continuing the caller's W3C trace context. */
function serverSpan(
  starter: SpanStarter,
  names: SpanNames,
  request: Request,
  route: string,
  requestId: string,
) {
  const headers = request.headers;
  const traceparent = headers.get("traceparent");
  // Stryker disable next-line ConditionalExpression: parseTraceparent answers undefined to null too; the check spares reading tracestate.
  const parent = traceparent === null ? undefined : parseTraceparent(traceparent, headers.get("tracestate"));
  return starter.continuing(parent, true, names.of(request.method, route), SpanKindCode.SERVER, {
    "http.request.method": request.method,
    "http.route": route,
    "url.path": pathOf(request, route),
    "http.request.id": requestId,
  });
}

/** Runs a request's handler in its server span, which ends with the answer (or the failure). */
function runServer(
  active: AsyncLocalStorage<ActiveStore>,
  span: LiveSpan,
  handle: () => Response | Promise<Response>,
): Response | Promise<Response> {
  let result: Response | Promise<Response>;
  try {
    result = active.run(span, handle);
  } catch (error) {
    return serverFailed(span, error);
  }
  // Stays synchronous when the handler answers synchronously (a cached token).
  return result instanceof Promise
    ? result.then(
        (response) => serverAnswered(span, response),
        (error: unknown) => serverFailed(span, error),
      )
    : serverAnswered(span, result);
}

function idsOf(span: ApiSpan | undefined): ActiveIds | undefined {
  if (!span) return undefined;
  // Stryker disable next-line ConditionalExpression: a LiveSpan's spanContext() holds the same ids and flag; its fields spare the object.
  if (span instanceof LiveSpan) return { traceId: span.traceId, spanId: span.spanId, sampled: span.sampled };
  const { traceId, spanId, traceFlags } = span.spanContext();
  return { traceId, spanId, sampled: (traceFlags & TraceFlags.SAMPLED) === TraceFlags.SAMPLED };
}

/**
 * The service's tracer: W3C context in and out, the configured sampler, and spans handed to `sink`
 * as they end. The active span follows async work through an AsyncLocalStorage, the same one the
 * OpenTelemetry API's context manager reads: `provider` and `contextManager` are what telemetry
 * registers with the API (src/telemetry/otel-bridge.ts).
 */
export function createTracing(sink: SpanSink, sampler: Sampler): Tracing & OtelBridge {
  const active = new AsyncLocalStorage<ActiveStore>();
  const starter = new SpanStarter(sink, sampler);
  const names = new SpanNames();
  const childOf = (name: string, kind: number, attributes: SpanAttributes) =>
    starter.under(activeSpan(active), name, kind, attributes);

  return {
    ...createOtelBridge(starter, active),
    enabled: true,

    server(request, route, requestId, handle) {
      return runServer(active, serverSpan(starter, names, request, route, requestId), handle);
    },

    internal(name, attributes, run) {
      const span = childOf(name, SpanKindCode.INTERNAL, { ...attributes });
      return inSpan(active, span, () => run(span));
    },

    client(name, attributes, headers, run) {
      const span = childOf(name, SpanKindCode.CLIENT, { ...attributes });
      injectTraceContext(span, headers);
      return inSpan(active, span, () => run(span));
    },

    leaf(name, attributes, run) {
      // Nothing can reach a leaf span to change its attributes, so the caller's object is kept as is.
      return endingWith(childOf(name, SpanKindCode.INTERNAL, attributes), run);
    },

    annotate(attributes) {
      const span = activeSpan(active);
      if (span) for (const key in attributes) span.setAttribute(key, attributes[key]);
    },

    activeIds() {
      return idsOf(activeSpan(active));
    },
  };
}

/** Runs `run` in a leaf span ended when it returns, or when the promise it returns settles. */
function endingWith<T>(span: { fail(error: unknown): void; end(): void }, run: () => T): T {
  let result: T;
  try {
    result = run();
  } catch (error) {
    span.fail(error);
    span.end();
    throw error;
  }
  if (!(result instanceof Promise)) {
    span.end();
    return result;
  }
  // A signature from the signing pool: the span lasts until it arrives.
  return result.then(
    (value) => {
      span.end();
      return value;
    },
    (error: unknown) => {
      span.fail(error);
      span.end();
      throw error;
    },
  ) as T;
}
