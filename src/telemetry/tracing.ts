import {
  type Context,
  context,
  propagation,
  ROOT_CONTEXT,
  type Span,
  SpanKind,
  SpanStatusCode,
  type Tracer,
  trace,
} from "@opentelemetry/api";

export type SpanAttributes = Record<string, string | number | boolean>;

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
    run: (span: Span | undefined) => Promise<T> | T,
  ): Promise<T>;
  /** A client span whose context is injected into `headers` (the Kong Admin API call). */
  client<T>(
    name: string,
    attributes: SpanAttributes,
    headers: Record<string, string>,
    run: (span: Span | undefined) => Promise<T>,
  ): Promise<T>;
  /** A leaf span around synchronous work (nothing runs inside it), without switching context. */
  leaf<T>(name: string, attributes: SpanAttributes, run: () => T): T;
  /** Adds attributes to the active span (e.g. a cache hit, which is not worth a span of its own). */
  annotate(attributes: SpanAttributes): void;
  /** The active trace and span ids, for log correlation. */
  activeIds(): { traceId: string; spanId: string } | undefined;
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

const headerGetter = {
  get: (carrier: Headers, key: string) => carrier.get(key) ?? undefined,
  keys: (carrier: Headers) => [...carrier.keys()],
};

/** The path of an absolute request URL, without the cost of a URL parse on every request. */
function pathOf(url: string): string {
  const start = url.indexOf("/", url.indexOf("//") + 2);
  if (start < 0) return "/";
  const query = url.indexOf("?", start);
  return query < 0 ? url.slice(start) : url.slice(start, query);
}

function markFailed(span: Span, error: unknown): void {
  span.recordException(error as Error);
  span.setStatus({ code: SpanStatusCode.ERROR });
}

export function createTracing(tracer: Tracer): Tracing {
  async function inSpan<T>(span: Span, parent: Context, run: () => Promise<T> | T): Promise<T> {
    try {
      return await context.with(trace.setSpan(parent, span), run);
    } catch (error) {
      markFailed(span, error);
      throw error;
    } finally {
      span.end();
    }
  }

  return {
    enabled: true,

    server(request, route, requestId, handle) {
      const parent = propagation.extract(ROOT_CONTEXT, request.headers, headerGetter);
      const span = tracer.startSpan(
        `${request.method} ${route}`,
        {
          kind: SpanKind.SERVER,
          attributes: {
            "http.request.method": request.method,
            "http.route": route,
            "url.path": pathOf(request.url),
            "http.request.id": requestId,
          },
        },
        parent,
      );
      const done = (response: Response) => {
        span.setAttribute("http.response.status_code", response.status);
        if (response.status >= 500) span.setStatus({ code: SpanStatusCode.ERROR });
        span.end();
        return response;
      };
      const fail = (error: unknown): never => {
        markFailed(span, error);
        span.end();
        throw error;
      };
      // Stays synchronous when the handler answers synchronously (a cached token).
      try {
        const result = context.with(trace.setSpan(parent, span), handle);
        return result instanceof Promise ? result.then(done, fail) : done(result);
      } catch (error) {
        return fail(error);
      }
    },

    internal(name, attributes, run) {
      const parent = context.active();
      const span = tracer.startSpan(name, { kind: SpanKind.INTERNAL, attributes }, parent);
      return inSpan(span, parent, () => run(span));
    },

    client(name, attributes, headers, run) {
      const parent = context.active();
      const span = tracer.startSpan(name, { kind: SpanKind.CLIENT, attributes }, parent);
      const active = trace.setSpan(parent, span);
      propagation.inject(active, headers);
      return inSpan(span, parent, () => run(span));
    },

    leaf(name, attributes, run) {
      const span = tracer.startSpan(name, { kind: SpanKind.INTERNAL, attributes }, context.active());
      try {
        return run();
      } catch (error) {
        markFailed(span, error);
        throw error;
      } finally {
        span.end();
      }
    },

    annotate(attributes) {
      trace.getActiveSpan()?.setAttributes(attributes);
    },

    activeIds() {
      const spanContext = trace.getActiveSpan()?.spanContext();
      return spanContext ? { traceId: spanContext.traceId, spanId: spanContext.spanId } : undefined;
    },
  };
}
