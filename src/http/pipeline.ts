import type { Server } from "bun";
import type { Logger } from "../telemetry/logger.ts";
import type { ServiceMetrics } from "../telemetry/metrics.ts";
import type { Tracing } from "../telemetry/tracing.ts";
import type { Cors } from "./cors.ts";
import { bodyTooLarge, problem, type Refuse } from "./problem.ts";
import { CommonHeaders, type RequestContext, requestIdOf, setAll, urlOf } from "./request-context.ts";

/** Answers one request; `C` is what the steps in front of it (src/http/steps.ts) add to the context. */
export type Handler<C extends RequestContext = RequestContext> = (
  request: Request,
  ctx: C,
) => Response | Promise<Response>;

export interface PipelineOptions {
  readonly cors: Cors;
  readonly logger: Logger;
  readonly tracing: Tracing;
  readonly metrics: ServiceMetrics;
  /** Largest request body accepted by any endpoint, in bytes. */
  readonly maxBodyBytes: number;
  /** True once shutdown has begun: every answer then asks the client to close its connection. */
  readonly isDraining: () => boolean;
  /** Told when the pipeline answers instead of the route's handler (413, or 500 when it threw). */
  readonly onUnserved: (route: string, reason: UnservedReason) => void;
  /**
   * Told once, when the first answer has been built and counted, just before Bun writes it: work
   * deferred from start-up (loading winston) can follow that answer instead of delaying it.
   */
  readonly onFirstAnswer?: () => void;
}

export type UnservedReason = "body_too_large" | "internal_error";

/**
 * What every request goes through whatever its route: a request id, a server span, the body limit,
 * a problem answer instead of a crash, the HTTP metrics, and the headers every response carries
 * (`Connection: close` too while the service drains).
 */
export function createPipeline(options: PipelineOptions) {
  const { cors } = options;
  const common = new CommonHeaders({ "x-content-type-options": "nosniff", ...cors.common });
  const run = createRunner(options);
  const finish = createFinisher(options, common);

  /** One object per request, of one shape, that the steps and the handler add to. */
  function context(request: Request, server: Server<unknown>): RequestContext {
    const requestId = requestIdOf(request);
    const headers: Record<string, string> = { "x-request-id": requestId };
    cors.fill(request, headers);
    return { requestId, startedAt: performance.now(), server, headers, common, headersGiven: false };
  }

  let firstAnswer = options.onFirstAnswer;
  /** The finished answer, after telling onFirstAnswer about it the first time. */
  function answered(response: Response): Response {
    if (firstAnswer) {
      const tell = firstAnswer;
      firstAnswer = undefined;
      tell();
    }
    return response;
  }

  /** `route` is the route template (bounded), never the raw path; `refuse` words the route's errors. */
  return function wrap(handler: Handler, route: string, refuse: Refuse = problem) {
    return (request: Request, server: Server<unknown>): Response | Promise<Response> => {
      const ctx = context(request, server);
      const result = options.tracing.enabled
        ? options.tracing.server(request, route, ctx.requestId, () =>
            run(handler, request, ctx, route, refuse),
          )
        : run(handler, request, ctx, route, refuse);
      return result instanceof Promise
        ? result.then((response) => answered(finish(request, response, ctx, route)))
        : answered(finish(request, result, ctx, route));
    };
  };
}

export type Pipeline = ReturnType<typeof createPipeline>;

/** The handler's answer, synchronously when the handler gives one synchronously. */
function createRunner({ logger, maxBodyBytes, onUnserved }: PipelineOptions) {
  /** By the declared length; without one, Number(null) is 0. */
  function tooLarge(request: Request): boolean {
    return Number(request.headers.get("content-length")) > maxBodyBytes;
  }

  function failed(
    error: unknown,
    request: Request,
    ctx: RequestContext,
    route: string,
    refuse: Refuse,
  ): Response {
    onUnserved(route, "internal_error");
    logger.error("Unhandled error while serving a request", {
      err: error,
      http: { request: { id: ctx.requestId, method: request.method } },
    });
    return refuse(500, { detail: "The request could not be served." });
  }

  return function run(
    handler: Handler,
    request: Request,
    ctx: RequestContext,
    route: string,
    refuse: Refuse,
  ): Response | Promise<Response> {
    try {
      if (tooLarge(request)) {
        onUnserved(route, "body_too_large");
        return bodyTooLarge(maxBodyBytes, refuse);
      }
      const result = handler(request, ctx);
      return result instanceof Promise
        ? result.catch((error: unknown) => failed(error, request, ctx, route, refuse))
        : result;
    } catch (error) {
      return failed(error, request, ctx, route, refuse);
    }
  };
}

/**
 * The headers every answer carries (unless the handler gave them at construction), the request
 * counted and, at debug, logged.
 */
function createFinisher({ logger, metrics, isDraining }: PipelineOptions, common: CommonHeaders) {
  const logRequests = logger.isLevelEnabled("debug");
  return function finish(request: Request, response: Response, ctx: RequestContext, route: string): Response {
    if (!ctx.headersGiven) {
      setAll(response.headers, common.record);
      setAll(response.headers, ctx.headers);
    }
    // A keep-alive client then sends its next request elsewhere instead of on a socket about to close.
    if (isDraining()) response.headers.set("connection", "close");
    const seconds = (performance.now() - ctx.startedAt) / 1000;
    metrics.request(request.method, route, response.status, seconds);
    // Stryker disable next-line ConditionalExpression: only spares building the record; the logger drops debug lines anyway.
    if (logRequests) {
      logger.debug(`${request.method} ${route} ${response.status}`, {
        http: {
          request: { id: ctx.requestId, method: request.method },
          response: { status_code: response.status },
        },
        url: { path: urlOf(request).pathname },
        event: { duration: Math.round(seconds * 1e9) },
      });
    }
    return response;
  };
}
