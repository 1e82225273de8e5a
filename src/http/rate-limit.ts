import type { RateLimitDecision, RateLimiter } from "../security/rate-limiter.ts";
import type { WithConsumer } from "./consumer-identity.ts";
import { problem, type Refuse } from "./problem.ts";
import type { RequestContext } from "./request-context.ts";
import type { Step } from "./steps.ts";

/**
 * The per-consumer rate limit as a step after the identity step: over the limit, 429 with
 * `Retry-After` (and `refused` is told); every answer from here on, refusal or not, carries the
 * `RateLimit-*` headers of the decision.
 */
export function rateLimit<C extends WithConsumer<RequestContext>>(
  limiter: Pick<RateLimiter, "take">,
  refused: () => void,
  refuse: Refuse = problem,
): Step<C, C> {
  return (request, ctx, next) => {
    const decision = limiter.take(ctx.consumer.consumerId);
    const headers = rateLimitHeaders(decision);
    if (!decision.allowed) {
      refused();
      return refuse(429, {
        type: "rate-limited",
        detail: `At most ${decision.limit} token requests per window; try again in ${decision.resetSeconds} s.`,
        headers: { ...headers, "retry-after": String(decision.resetSeconds) },
      });
    }
    const answer = next(request, ctx);
    return answer instanceof Promise
      ? answer.then((response) => withHeaders(response, headers))
      : withHeaders(answer, headers);
  };
}

function rateLimitHeaders(decision: RateLimitDecision): Record<string, string> {
  return {
    "ratelimit-limit": String(decision.limit),
    "ratelimit-remaining": String(decision.remaining),
    "ratelimit-reset": String(decision.resetSeconds),
  };
}

function withHeaders(response: Response, headers: Record<string, string>): Response {
  for (const [name, value] of Object.entries(headers)) response.headers.set(name, value);
  return response;
}
