import type { TokenResponse } from "../api/schemas.ts";
import type { CachedCredential } from "../cache/types.ts";
import type { CredentialLookup, CredentialService } from "../credentials/service.ts";
import { unauthorized, type WithConsumer } from "../http/consumer-identity.ts";
import { problem } from "../http/problem.ts";
import type { RequestContext } from "../http/request-context.ts";
import type { TokenSigner } from "../jwt/signer.ts";
import type { KongHealth } from "../kong/health.ts";
import type { Logger } from "../telemetry/logger.ts";
import type { ServiceMetrics } from "../telemetry/metrics.ts";
import type { Tracing } from "../telemetry/tracing.ts";

export interface TokensDeps {
  readonly credentials: CredentialService;
  readonly signer: TokenSigner;
  readonly logger: Logger;
  readonly metrics: ServiceMetrics;
  readonly tracing: Tracing;
  /** Told when a stale copy stands in for Kong, so /health can say so. */
  readonly kongHealth: Pick<KongHealth, "recordStaleServed">;
}

const TOKEN_HEADERS = {
  "content-type": "application/json",
  "cache-control": "no-store",
  pragma: "no-cache",
};

/** What a memory hit adds to the request's span (one object for every request). */
const MEMORY_HIT = { "credential.cache_tier": "memory", "credential.cache_hit": true } as const;

/**
 * GET /tokens: the Kong-authenticated consumer in, a JWT Kong's jwt plugin accepts out. Gateway trust,
 * the consumer headers and the rate limit are steps in front of it (src/api/routes.ts).
 */
export function createTokensHandler(deps: TokensDeps) {
  const { credentials, logger, metrics, tracing, kongHealth } = deps;
  const issue = createIssuer(deps);
  const lookup = createLookup(deps);
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

  /** Synchronous on a memory hit (no promise at all without tracing): the common case stays cheap. */
  return function tokens(_request: Request, ctx: WithConsumer): Response | Promise<Response> {
    const { consumerId, username } = ctx.consumer;
    const cached = credentials.cached(consumerId);
    if (cached) {
      metrics.cacheRead("memory", "hit");
      // A memory hit costs no I/O; it is recorded on the request's span rather than as a span.
      tracing.annotate(MEMORY_HIT);
      return issue(ctx, cached, username);
    }
    return lookup(consumerId, username).then((result) => {
      const found = answer(result, consumerId, ctx);
      return found instanceof Response ? found : issue(ctx, found, username);
    });
  };
}

/** A memory miss: the credential service's answer, traced. */
function createLookup({ credentials, metrics, tracing }: TokensDeps) {
  return function lookup(consumerId: string, username: string): Promise<CredentialLookup> {
    metrics.cacheRead("memory", "miss");
    return tracing.internal("credential.lookup", { "credential.cache_hit": false }, async (span) => {
      const found = await credentials.lookup(consumerId, username);
      span?.setAttribute("credential.outcome", found.kind === "found" ? found.source : found.kind);
      return found;
    });
  };
}

/** Signs for the consumer once Kong's record confirms the name the headers gave. */
function createIssuer({ signer, metrics, tracing }: TokensDeps) {
  return function issue(ctx: RequestContext, credential: CachedCredential, username: string): Response {
    // Kong's record for this id is the authority on who the consumer is; a different name is forged.
    if (credential.username !== username) {
      metrics.tokenFailed("username_mismatch");
      return unauthorized("X-Consumer-Username does not match Kong's consumer.");
    }
    const respond = () => {
      const { token, expiresIn } = signer.sign(username, credential);
      metrics.tokenIssued(credential.algorithm, (performance.now() - ctx.startedAt) / 1000);
      const body: TokenResponse = { access_token: token, expires_in: expiresIn, token_type: "Bearer" };
      return new Response(JSON.stringify(body), { headers: TOKEN_HEADERS });
    };
    return tracing.leaf("jwt.sign", { "jwt.algorithm": credential.algorithm }, respond);
  };
}
