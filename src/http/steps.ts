import type { Handler } from "./pipeline.ts";
import type { RequestContext } from "./request-context.ts";

/**
 * What runs in front of a handler (gateway trust, consumer identity, rate limit): it answers itself,
 * or hands the request on to `next` with what it learnt added to the context, and may adjust the
 * answer that comes back.
 */
export type Step<In extends RequestContext, Out extends In> = (
  request: Request,
  ctx: In,
  next: Handler<Out>,
) => Response | Promise<Response>;

/** The handler behind its steps, which run in the order given: the one place a route states it. */
export function behind<A extends RequestContext, B extends A>(
  first: Step<A, B>,
  handler: Handler<B>,
): Handler<A>;
export function behind<A extends RequestContext, B extends A, C extends B>(
  first: Step<A, B>,
  second: Step<B, C>,
  handler: Handler<C>,
): Handler<A>;
export function behind<A extends RequestContext, B extends A, C extends B, D extends C>(
  first: Step<A, B>,
  second: Step<B, C>,
  third: Step<C, D>,
  handler: Handler<D>,
): Handler<A>;
export function behind<A extends RequestContext, B extends A, C extends B, D extends C, E extends D>(
  first: Step<A, B>,
  second: Step<B, C>,
  third: Step<C, D>,
  fourth: Step<D, E>,
  handler: Handler<E>,
): Handler<A>;
export function behind(...parts: [...Step<RequestContext, RequestContext>[], Handler]): Handler {
  const handler = parts.at(-1) as Handler;
  const steps = parts.slice(0, -1) as Step<RequestContext, RequestContext>[];
  return steps.reduceRight<Handler>((next, step) => (request, ctx) => step(request, ctx, next), handler);
}

/**
 * A step that only checks: the request goes on unchanged, or the check's answer is sent and
 * `refused` is told (a route counts its refusals its own way).
 */
export function guard<C extends RequestContext>(
  check: (request: Request, ctx: C) => Response | undefined,
  refused: () => void,
): Step<C, C> {
  return (request, ctx, next) => {
    const answer = check(request, ctx);
    if (!answer) return next(request, ctx);
    refused();
    return answer;
  };
}
