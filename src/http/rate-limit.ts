import type { RateLimitDecision, RateLimiter } from "../security/rate-limiter.ts";
import type { WithConsumer } from "./consumer-identity.ts";
import { problem, type Refuse } from "./problem.ts";
import type { RequestContext } from "./request-context.ts";
import type { Step } from "./steps.ts";

/**
 * The per-consumer rate limit as a step after the identity step: over the limit, 429 with
 * `Retry-After` (and `refused` is told); every answer from here on, refusal or not, carries the
 * `RateLimit-*` headers of the decision: they join the request's headers (RequestContext.headers).
 */
export function rateLimit<C extends WithConsumer<RequestContext>>(
  limiter: Pick<RateLimiter, "take">,
  refused: () => void,
  refuse: Refuse = problem,
): Step<C, C> {
  return (request, ctx, next) => {
    const decision = limiter.take(ctx.consumer.consumerId);
    addHeaders(ctx.headers, decision);
    if (decision.allowed) return next(request, ctx);
    refused();
    return refuse(429, {
      type: "rate-limited",
      detail: `At most ${decision.limit} token requests per window; try again in ${decision.resetSeconds} s.`,
      headers: { "retry-after": String(decision.resetSeconds) },
    });
  };
}

function addHeaders(headers: Record<string, string>, decision: RateLimitDecision): void {
  headers["ratelimit-limit"] = String(decision.limit);
  headers["ratelimit-remaining"] = String(decision.remaining);
  headers["ratelimit-reset"] = String(decision.resetSeconds);
}
