import type { CachedCredential } from "../cache/types.ts";
import type { CredentialLookup, CredentialService } from "../credentials/service.ts";
import { readConsumerIdentity } from "../http/consumer-identity.ts";
import { problem } from "../http/problem.ts";
import type { RequestContext } from "../http/request-context.ts";
import type { TokenSigner } from "../jwt/signer.ts";
import type { AnonymousConsumers } from "../kong/anonymous.ts";
import type { KongHealth } from "../kong/health.ts";
import type { TokenResponse } from "../openapi/schemas.ts";
import type { RateLimitDecision, RateLimiter } from "../security/rate-limiter.ts";
import type { Logger } from "../telemetry/logger.ts";
import type { ServiceMetrics } from "../telemetry/metrics.ts";
import type { Tracing } from "../telemetry/tracing.ts";

export interface TokensDeps {
  readonly credentials: CredentialService;
  /** Refused by id and by name before anything else (KONG_ANONYMOUS_CONSUMERS). */
  readonly anonymous: AnonymousConsumers;
  readonly signer: TokenSigner;
  readonly logger: Logger;
  readonly metrics: ServiceMetrics;
  readonly tracing: Tracing;
  readonly rateLimiter: RateLimiter;
  /** Told when a stale copy stands in for Kong, so /health can say so. */
  readonly kongHealth: Pick<KongHealth, "recordStaleServed">;
  /** The trust boundary with Kong: an answer when the request did not come through it. */
  readonly checkGateway: (request: Request, ctx: RequestContext) => Response | undefined;
}

const TOKEN_HEADERS = {
  "content-type": "application/json",
  "cache-control": "no-store",
  pragma: "no-cache",
};

/** What a memory hit adds to the request's span (one object for every request). */
const MEMORY_HIT = { "credential.cache_tier": "memory", "credential.cache_hit": true } as const;

const unauthorized = (detail: string) =>
  problem(401, { type: "unauthorized", detail, headers: { "www-authenticate": 'Key realm="kong"' } });

/** GET /tokens: the Kong-authenticated consumer in, a JWT Kong's jwt plugin accepts out. */
function rateLimitHeaders(decision: RateLimitDecision): Record<string, string> {
  return {
    "ratelimit-limit": String(decision.limit),
    "ratelimit-remaining": String(decision.remaining),
    "ratelimit-reset": String(decision.resetSeconds),
  };
}

export function createTokensHandler(deps: TokensDeps) {
  const { credentials, anonymous, signer, logger, metrics, tracing, rateLimiter, kongHealth, checkGateway } =
    deps;
  function answer(
    result: CredentialLookup,
    consumerId: string,
    ctx: RequestContext,
  ): CachedCredential | Response {
    const log = { consumer: { id: consumerId }, http: { request: { id: ctx.requestId } } };
    switch (result.kind) {
      case "found":
        if (result.source === "stale-memory" || result.source === "stale-redis") {
          metrics.staleFallback(result.source === "stale-memory" ? "in-memory" : "redis-stale");
          kongHealth.recordStaleServed();
          logger.warn(`Kong unavailable (${result.reason}); signing with a stale credential`, log);
        }
        return result.credential;
      case "unknown-consumer":
        metrics.tokenFailed("unknown_consumer");
        return unauthorized("Kong does not know this consumer.");
      case "unavailable":
        metrics.tokenFailed("kong_unavailable");
        // While the breaker is open every lookup fails the same way; the transition was the news.
        logger.log(
          result.error.circuitOpen ? "debug" : "error",
          `Kong unavailable: ${result.error.message}`,
          log,
        );
        return problem(503, {
          type: "kong-unavailable",
          detail: "The credential store is unreachable; try again shortly.",
          headers: { "retry-after": String(result.retryAfterSeconds) },
        });
      case "misconfigured":
        metrics.tokenFailed("misconfigured");
        logger.error(`Kong integration misconfigured: ${result.error.message}`, log);
        return problem(500, { type: "misconfigured", detail: "The service cannot use Kong's Admin API." });
    }
  }

  async function lookup(consumerId: string, username: string, ctx: RequestContext) {
    metrics.cacheRead("memory", "miss");
    const result = await tracing.internal(
      "credential.lookup",
      { "credential.cache_hit": false },
      async (span) => {
        const found = await credentials.lookup(consumerId, username);
        span?.setAttribute("credential.outcome", found.kind === "found" ? found.source : found.kind);
        return found;
      },
    );
    return answer(result, consumerId, ctx);
  }

  /** Synchronous on a memory hit (no promise at all without tracing): the common case stays cheap. */
  return function tokens(request: Request, ctx: RequestContext): Response | Promise<Response> {
    const refused = checkGateway(request, ctx);
    if (refused) {
      metrics.tokenFailed("untrusted");
      return refused;
    }
    const read = readConsumerIdentity(request.headers, anonymous);
    if (!read.ok) {
      metrics.tokenFailed("invalid_headers");
      return unauthorized(read.detail);
    }
    const { consumerId, username } = read.identity;

    const decision = rateLimiter.take(consumerId);
    const limitHeaders = rateLimitHeaders(decision);
    if (!decision.allowed) {
      metrics.tokenFailed("rate_limited");
      return problem(429, {
        type: "rate-limited",
        detail: `At most ${decision.limit} token requests per window; try again in ${decision.resetSeconds} s.`,
        headers: { ...limitHeaders, "retry-after": String(decision.resetSeconds) },
      });
    }

    const cached = credentials.cached(consumerId);
    if (cached) {
      metrics.cacheRead("memory", "hit");
      // A memory hit costs no I/O; it is recorded on the request's span rather than as a span.
      tracing.annotate(MEMORY_HIT);
      return issue(ctx, cached, username, limitHeaders);
    }
    return lookup(consumerId, username, ctx).then((found) =>
      found instanceof Response
        ? withHeaders(found, limitHeaders)
        : issue(ctx, found, username, limitHeaders),
    );
  };

  function issue(
    ctx: RequestContext,
    credential: CachedCredential,
    username: string,
    limitHeaders: Record<string, string>,
  ): Response {
    // Kong's record for this id is the authority on who the consumer is; a different name is forged.
    if (credential.username !== username) {
      metrics.tokenFailed("username_mismatch");
      return withHeaders(unauthorized("X-Consumer-Username does not match Kong's consumer."), limitHeaders);
    }
    const respond = () => {
      const { token, expiresIn } = signer.sign(username, credential);
      metrics.tokenIssued(credential.algorithm, (performance.now() - ctx.startedAt) / 1000);
      const body: TokenResponse = { access_token: token, expires_in: expiresIn, token_type: "Bearer" };
      return new Response(JSON.stringify(body), { headers: { ...TOKEN_HEADERS, ...limitHeaders } });
    };
    return tracing.leaf("jwt.sign", { "jwt.algorithm": credential.algorithm }, respond);
  }
}

function withHeaders(response: Response, headers: Record<string, string>): Response {
  for (const [name, value] of Object.entries(headers)) response.headers.set(name, value);
  return response;
}
