import { AsyncLocalStorage } from "node:async_hooks";
import {
  type FinishedSpan,
  type SpanAttributes,
  type SpanEvent,
  SpanKindCode,
  StatusCode,
} from "./span-encoding.ts";
import {
  hexWord,
  injectTraceContext,
  parseTraceparent,
  randomWord,
  type Sampler,
  type SpanContext,
  traceRandomness,
  wordsToHex,
} from "./trace-context.ts";

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
  /** A leaf span around synchronous work (nothing runs inside it), without switching context. */
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

/** Where sampled spans go when they end (the OTLP batcher). */
export interface SpanSink {
  add(span: FinishedSpan, end: number): void;
}

/**
 * The path of an absolute request URL, without the cost of a URL parse on every request. When it is
 * the route itself (every static route), the route's string is returned rather than a new one.
 */
function pathOf(url: string, route: string): string {
  // Without a usable Host header Bun leaves request.url relative ("/a/b"): the path starts at 0.
  const start = url.startsWith("/") ? 0 : url.indexOf("/", url.indexOf("//") + 2);
  if (start < 0) return "/";
  const query = url.indexOf("?", start);
  const end = query < 0 ? url.length : query;
  if (end - start === route.length && url.startsWith(route, start)) return route;
  return url.slice(start, end);
}

/** The trace a span belongs to: its id as words, the caller's tracestate, the sampling decision. */
interface TraceOf {
  readonly t0: number;
  readonly t1: number;
  readonly t2: number;
  readonly t3: number;
  readonly traceState: string | undefined;
  readonly sampled: boolean;
}

/**
 * One span. A span that is not sampled still has ids (they travel to Kong and into logs) but
 * records nothing. Ids are 32-bit words; their hex form is built only when asked for.
 */
class LiveSpan implements FinishedSpan, SpanHandle, SpanContext, TraceOf {
  readonly t0: number;
  readonly t1: number;
  readonly t2: number;
  readonly t3: number;
  readonly s0 = randomWord();
  readonly s1 = randomWord() || 1;
  readonly traceState: string | undefined;
  readonly sampled: boolean;
  readonly start = performance.now();
  events: SpanEvent[] | undefined;
  statusCode: number = StatusCode.UNSET;
  statusMessage: string | undefined;
  private ended = false;

  constructor(
    private readonly sink: SpanSink,
    trace: TraceOf,
    readonly hasParent: boolean,
    readonly p0: number,
    readonly p1: number,
    readonly parentIsRemote: boolean,
    readonly name: string,
    readonly kind: number,
    readonly attributes: SpanAttributes,
  ) {
    this.t0 = trace.t0;
    this.t1 = trace.t1;
    this.t2 = trace.t2;
    this.t3 = trace.t3;
    this.traceState = trace.traceState;
    this.sampled = trace.sampled;
  }

  get traceId(): string {
    return wordsToHex(this.t0, this.t1, this.t2, this.t3);
  }

  get spanId(): string {
    return wordsToHex(this.s0, this.s1);
  }

  get parentSpanId(): string | undefined {
    return this.hasParent ? wordsToHex(this.p0, this.p1) : undefined;
  }

  child(name: string, kind: number, attributes: SpanAttributes): LiveSpan {
    return new LiveSpan(this.sink, this, true, this.s0, this.s1, false, name, kind, attributes);
  }

  setAttribute(key: string, value: string | number | boolean): void {
    if (this.sampled && !this.ended) this.attributes[key] = value;
  }

  /** An `exception` event (OpenTelemetry semantic conventions) and an error status. */
  fail(error: unknown): void {
    if (!this.sampled || this.ended) return;
    const err = error instanceof Error ? error : new Error(String(error));
    const attributes: SpanAttributes = { "exception.type": err.name, "exception.message": err.message };
    if (err.stack) attributes["exception.stacktrace"] = err.stack;
    const event = { name: "exception", time: performance.now(), attributes };
    if (this.events) this.events.push(event);
    else this.events = [event];
    this.statusCode = StatusCode.ERROR;
    this.statusMessage = err.message;
  }

  end(): void {
    if (this.ended) return;
    this.ended = true;
    if (this.sampled) this.sink.add(this, performance.now());
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
 * The service's tracer: W3C context in and out, the configured sampler, and spans handed to `sink`
 * as they end. The active span follows async work through an AsyncLocalStorage.
 */
export function createTracing(sink: SpanSink, sampler: Sampler): Tracing {
  const active = new AsyncLocalStorage<LiveSpan>();

  async function inSpan<T>(span: LiveSpan, run: () => Promise<T> | T): Promise<T> {
    try {
      return await active.run(span, run);
    } catch (error) {
      span.fail(error);
      throw error;
    } finally {
      span.end();
    }
  }

  /** "METHOD /route" built once per pair (both are bounded), not once per request. */
  const spanNames = new Map<string, Map<string, string>>();
  function spanName(method: string, route: string): string {
    let byRoute = spanNames.get(method);
    if (!byRoute) {
      if (spanNames.size >= 32) return `${method} ${route}`;
      byRoute = new Map();
      spanNames.set(method, byRoute);
    }
    let name = byRoute.get(route);
    if (name === undefined) {
      name = `${method} ${route}`;
      byRoute.set(route, name);
    }
    return name;
  }

  function childOf(name: string, kind: number, attributes: SpanAttributes): LiveSpan {
    const parent = active.getStore();
    if (parent) return parent.child(name, kind, attributes);
    return new LiveSpan(sink, newTrace(undefined), false, 0, 0, false, name, kind, attributes);
  }

  /**
   * A new trace (random id, the sampler's decision) or the caller's, in an object reused for every
   * root span (the span copies it at once).
   */
  const next = { t0: 0, t1: 0, t2: 0, t3: 0, traceState: undefined as string | undefined, sampled: false };
  function newTrace(parent: SpanContext | undefined): TraceOf {
    if (parent) {
      next.t0 = hexWord(parent.traceId, 0);
      next.t1 = hexWord(parent.traceId, 1);
      next.t2 = hexWord(parent.traceId, 2);
      next.t3 = hexWord(parent.traceId, 3);
      next.traceState = parent.traceState;
    } else {
      next.t0 = randomWord();
      next.t1 = randomWord();
      next.t2 = randomWord();
      next.t3 = randomWord() || 1;
      next.traceState = undefined;
    }
    next.sampled = sampler(traceRandomness(next.t2, next.t3), parent);
    return next;
  }

  return {
    enabled: true,

    server(request, route, requestId, handle) {
      const headers = request.headers;
      const traceparent = headers.get("traceparent");
      const parent =
        traceparent === null ? undefined : parseTraceparent(traceparent, headers.get("tracestate"));
      const span = new LiveSpan(
        sink,
        newTrace(parent),
        parent !== undefined,
        parent ? hexWord(parent.spanId, 0) : 0,
        parent ? hexWord(parent.spanId, 1) : 0,
        parent !== undefined,
        spanName(request.method, route),
        SpanKindCode.SERVER,
        {
          "http.request.method": request.method,
          "http.route": route,
          "url.path": pathOf(request.url, route),
          "http.request.id": requestId,
        },
      );
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
    },

    internal(name, attributes, run) {
      const span = childOf(name, SpanKindCode.INTERNAL, { ...attributes });
      return inSpan(span, () => run(span));
    },

    client(name, attributes, headers, run) {
      const span = childOf(name, SpanKindCode.CLIENT, { ...attributes });
      injectTraceContext(span, headers);
      return inSpan(span, () => run(span));
    },

    leaf(name, attributes, run) {
      // Nothing can reach a leaf span to change its attributes, so the caller's object is kept as is.
      const span = childOf(name, SpanKindCode.INTERNAL, attributes);
      try {
        return run();
      } catch (error) {
        span.fail(error);
        throw error;
      } finally {
        span.end();
      }
    },

    annotate(attributes) {
      const span = active.getStore();
      if (!span) return;
      for (const key in attributes) span.setAttribute(key, attributes[key] as string | number | boolean);
    },

    activeIds() {
      const span = active.getStore();
      return span ? { traceId: span.traceId, spanId: span.spanId, sampled: span.sampled } : undefined;
    },
  };
}
