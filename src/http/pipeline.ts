import type { Server } from "bun";
import type { Logger } from "../telemetry/logger.ts";
import type { Cors } from "./cors.ts";
import { problem } from "./problem.ts";
import { type RequestContext, requestIdOf } from "./request-context.ts";

export type Handler = (request: Request, ctx: RequestContext) => Response | Promise<Response>;

export interface PipelineOptions {
  readonly cors: Cors;
  readonly logger: Logger;
  /** Largest request body accepted by any endpoint, in bytes. */
  readonly maxBodyBytes: number;
}

/**
 * What every request goes through whatever its route: a request id, the body limit, a problem
 * answer instead of a crash, and the headers every response carries.
 */
export function createPipeline({ cors, logger, maxBodyBytes }: PipelineOptions) {
  const logRequests = logger.isLevelEnabled("debug");

  function finish(request: Request, response: Response, ctx: RequestContext): Response {
    const headers = response.headers;
    headers.set("x-request-id", ctx.requestId);
    headers.set("x-content-type-options", "nosniff");
    cors.apply(request, headers);
    if (logRequests) {
      logger.debug("request", {
        http: {
          request: { id: ctx.requestId, method: request.method },
          response: { status_code: response.status },
        },
        url: { path: new URL(request.url).pathname },
        event: { duration: Math.round((performance.now() - ctx.startedAt) * 1e6) },
      });
    }
    return response;
  }

  function tooLarge(request: Request): boolean {
    const length = request.headers.get("content-length");
    return length !== null && Number(length) > maxBodyBytes;
  }

  return function wrap(handler: Handler) {
    return async (request: Request, server: Server<unknown>): Promise<Response> => {
      const ctx: RequestContext = { requestId: requestIdOf(request), startedAt: performance.now(), server };
      let response: Response;
      try {
        response = tooLarge(request)
          ? problem(413, { detail: `Request bodies are limited to ${maxBodyBytes} bytes.` })
          : await handler(request, ctx);
      } catch (error) {
        logger.error("Unhandled error while serving a request", {
          err: error,
          http: { request: { id: ctx.requestId, method: request.method } },
        });
        response = problem(500, { detail: "The request could not be served." });
      }
      if (response.status >= 500 && response.status !== 503) {
        logger.error("Server error answered", {
          http: { request: { id: ctx.requestId }, response: { status_code: response.status } },
        });
      }
      return finish(request, response, ctx);
    };
  };
}

export type Pipeline = ReturnType<typeof createPipeline>;
