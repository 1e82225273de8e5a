import type { CachedCredential } from "../cache/types.ts";
import type { CredentialLookup, CredentialService } from "../credentials/service.ts";
import { unauthorized, type WithConsumer } from "../http/consumer-identity.ts";
import { answerHeaders, type RequestContext } from "../http/request-context.ts";
import type { TokenSigner } from "../jwt/signer.ts";
import type { Tracing } from "../telemetry/tracing.ts";
import { failureAnswer, type LookupAnswerDeps, noteStaleCopy } from "./lookup-answers.ts";

export interface TokensDeps extends LookupAnswerDeps {
  readonly credentials: CredentialService;
  readonly signer: TokenSigner;
  readonly tracing: Tracing;
}

const TOKEN_HEADERS = {
  "content-type": "application/json",
  "cache-control": "no-store",
  pragma: "no-cache",
};

/**
 * The token response's JSON, built without a general-purpose serializer: the token is base64url
 * segments joined by dots and the lifetime an integer, so nothing in it needs escaping
 * (test/unit/handlers/token-body.test.ts checks it is what JSON.stringify makes of TokenResponse).
 */
export function tokenBody(token: string, expiresIn: number): string {
  return `{"access_token":"${token}","expires_in":${expiresIn},"token_type":"Bearer"}`;
}

/** What a memory hit adds to the request's span (one object for every request). */
const MEMORY_HIT = { "credential.cache_tier": "memory", "credential.cache_hit": true } as const;

/**
 * GET and POST /tokens: the Kong-authenticated consumer in, a JWT Kong's jwt plugin accepts out. Gateway
 * trust, the consumer headers and the rate limit are steps in front of it (src/api/routes.ts); the
 * route's `refuse` words its errors.
 */
export function createTokensHandler(deps: TokensDeps) {
  const { credentials, metrics, tracing } = deps;
  const issue = createIssuer(deps);
  const lookup = createLookup(deps);
  /** A token signed with the credential found, or the answer the lookup's failure calls for. */
  function answer(
    result: CredentialLookup,
    consumerId: string,
    username: string,
    ctx: RequestContext,
  ): Response | Promise<Response> {
    const log = { consumer: { id: consumerId }, http: { request: { id: ctx.requestId } } };
    if (!result.ok) return failureAnswer(result.error, deps, log);
    noteStaleCopy(result.value, deps, log);
    return issue(ctx, result.value.credential, username);
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
    return lookup(consumerId, username).then((result) => answer(result, consumerId, username, ctx));
  };
}

/** A memory miss: the credential service's answer, traced. */
function createLookup({ credentials, metrics, tracing }: TokensDeps) {
  return function lookup(consumerId: string, username: string): Promise<CredentialLookup> {
    metrics.cacheRead("memory", "miss");
    return tracing.internal("credential.lookup", { "credential.cache_hit": false }, async (span) => {
      const result = await credentials.lookup(consumerId, username);
      span?.setAttribute("credential.outcome", result.ok ? result.value.source : result.error.kind);
      return result;
    });
  };
}

/**
 * Signs for the consumer once Kong's record confirms the name the headers gave. The answer is built
 * once with every header it carries (the request's, decided by the pipeline and the steps, and the
 * token's own), and its body without JSON.stringify.
 */
function createIssuer({ signer, metrics, tracing, refuse }: TokensDeps) {
  const expiresIn = signer.lifetimeSeconds;
  function answerWith(token: string, ctx: RequestContext, credential: CachedCredential): Response {
    metrics.tokenIssued(credential.algorithm, (performance.now() - ctx.startedAt) / 1000);
    return new Response(tokenBody(token, expiresIn), { headers: answerHeaders(ctx, TOKEN_HEADERS) });
  }
  /** At once for HMAC; a service key's token arrives from the signing pool. */
  function respond(
    ctx: RequestContext,
    credential: CachedCredential,
    username: string,
  ): Response | Promise<Response> {
    const token = signer.issue(username, credential);
    if (typeof token === "string") return answerWith(token, ctx, credential);
    return token.then((signed) => answerWith(signed, ctx, credential));
  }
  return function issue(
    ctx: RequestContext,
    credential: CachedCredential,
    username: string,
  ): Response | Promise<Response> {
    // Kong's record for this id is the authority on who the consumer is; a different name is forged.
    if (credential.username !== username) {
      metrics.tokenFailed("username_mismatch");
      return unauthorized("X-Consumer-Username does not match Kong's consumer.", refuse);
    }
    // Stryker disable next-line ConditionalExpression: untraced, leaf() only runs the function; this spares the closure.
    if (!tracing.enabled) return respond(ctx, credential, username);
    // Traced: the span's attributes and the closure are allocated only on this path.
    return tracing.leaf("jwt.sign", { "jwt.algorithm": credential.algorithm }, () =>
      respond(ctx, credential, username),
    );
  };
}
