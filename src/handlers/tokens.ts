import type { CachedCredential } from "../cache/types.ts";
import type { CredentialLookup, CredentialService } from "../credentials/service.ts";
import { type ConsumerIdentity, readConsumerIdentity } from "../http/consumer-identity.ts";
import { problem } from "../http/problem.ts";
import type { RequestContext } from "../http/request-context.ts";
import type { TokenSigner } from "../jwt/signer.ts";
import type { AnonymousConsumers } from "../kong/anonymous.ts";
import type { TokenResponse } from "../openapi/schemas.ts";
import type { RateLimitDecision, RateLimiter } from "../security/rate-limiter.ts";
import type { Tracing } from "../telemetry/tracing.ts";
import { failureAnswer, type LookupAnswerDeps, noteStaleCopy, unauthorized } from "./lookup-answers.ts";

export interface TokensDeps extends LookupAnswerDeps {
  readonly credentials: CredentialService;
  /** Refused by id and by name before anything else (KONG_ANONYMOUS_CONSUMERS). */
  readonly anonymous: AnonymousConsumers;
  readonly signer: TokenSigner;
  readonly tracing: Tracing;
  readonly rateLimiter: RateLimiter;
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

function rateLimitHeaders(decision: RateLimitDecision): Record<string, string> {
  return {
    "ratelimit-limit": String(decision.limit),
    "ratelimit-remaining": String(decision.remaining),
    "ratelimit-reset": String(decision.resetSeconds),
  };
}

function tooManyRequests(decision: RateLimitDecision, limitHeaders: Record<string, string>): Response {
  return problem(429, {
    type: "rate-limited",
    detail: `At most ${decision.limit} token requests per window; try again in ${decision.resetSeconds} s.`,
    headers: { ...limitHeaders, "retry-after": String(decision.resetSeconds) },
  });
}

/** GET /tokens: the Kong-authenticated consumer in, a JWT Kong's jwt plugin accepts out. */
export function createTokensHandler(deps: TokensDeps) {
  const { credentials, anonymous, metrics, tracing, rateLimiter, checkGateway } = deps;

  /** After a memory miss: Redis, Kong or a stale copy, as one span. */
  function lookup(consumerId: string, username: string): Promise<CredentialLookup> {
    metrics.cacheRead("memory", "miss");
    return tracing.internal("credential.lookup", { "credential.cache_hit": false }, async (span) => {
      const result = await credentials.lookup(consumerId, username);
      span?.setAttribute("credential.outcome", result.ok ? result.value.source : result.error.kind);
      return result;
    });
  }

  /** A token signed with the credential found, or the answer the lookup's failure calls for. */
  function answer(
    result: CredentialLookup,
    identity: ConsumerIdentity,
    ctx: RequestContext,
    limitHeaders: Record<string, string>,
  ): Response {
    const log = { consumer: { id: identity.consumerId }, http: { request: { id: ctx.requestId } } };
    if (!result.ok) return withHeaders(failureAnswer(result.error, deps, log), limitHeaders);
    noteStaleCopy(result.value, deps, log);
    return issue(deps, ctx, result.value.credential, identity.username, limitHeaders);
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
    const { identity } = read;

    const decision = rateLimiter.take(identity.consumerId);
    const limitHeaders = rateLimitHeaders(decision);
    if (!decision.allowed) {
      metrics.tokenFailed("rate_limited");
      return tooManyRequests(decision, limitHeaders);
    }

    const cached = credentials.cached(identity.consumerId);
    if (cached) {
      metrics.cacheRead("memory", "hit");
      // A memory hit costs no I/O; it is recorded on the request's span rather than as a span.
      tracing.annotate(MEMORY_HIT);
      return issue(deps, ctx, cached, identity.username, limitHeaders);
    }
    return lookup(identity.consumerId, identity.username).then((result) =>
      answer(result, identity, ctx, limitHeaders),
    );
  };
}

function issue(
  deps: Pick<TokensDeps, "signer" | "metrics" | "tracing">,
  ctx: RequestContext,
  credential: CachedCredential,
  username: string,
  limitHeaders: Record<string, string>,
): Response {
  const { signer, metrics, tracing } = deps;
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

function withHeaders(response: Response, headers: Record<string, string>): Response {
  for (const [name, value] of Object.entries(headers)) response.headers.set(name, value);
  return response;
}
