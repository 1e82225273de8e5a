import type { CachedCredential } from "../cache/types.ts";
import type { CredentialService } from "../credentials/service.ts";
import { readConsumerIdentity } from "../http/consumer-identity.ts";
import { problem } from "../http/problem.ts";
import type { RequestContext } from "../http/request-context.ts";
import type { TokenSigner } from "../jwt/signer.ts";
import type { Logger } from "../telemetry/logger.ts";

export interface TokensDeps {
  readonly credentials: CredentialService;
  readonly signer: TokenSigner;
  readonly logger: Logger;
}

const TOKEN_HEADERS = {
  "content-type": "application/json",
  "cache-control": "no-store",
  pragma: "no-cache",
};

const unauthorized = (detail: string) =>
  problem(401, { type: "unauthorized", detail, headers: { "www-authenticate": 'Key realm="kong"' } });

/** GET /tokens: the Kong-authenticated consumer in, a JWT Kong's jwt plugin accepts out. */
export function createTokensHandler({ credentials, signer, logger }: TokensDeps) {
  async function resolve(consumerId: string, username: string, ctx: RequestContext) {
    const result = await credentials.lookup(consumerId, username);
    const log = { consumer: { id: consumerId }, http: { request: { id: ctx.requestId } } };
    switch (result.kind) {
      case "found":
        if (result.source === "stale-memory" || result.source === "stale-redis") {
          logger.warn(`Kong unavailable (${result.reason}); signing with a stale credential`, log);
        }
        return result.credential;
      case "unknown-consumer":
        return unauthorized("Kong does not know this consumer.");
      case "unavailable":
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
        logger.error(`Kong integration misconfigured: ${result.error.message}`, log);
        return problem(500, { type: "misconfigured", detail: "The service cannot use Kong's Admin API." });
    }
  }

  return async function tokens(request: Request, ctx: RequestContext): Promise<Response> {
    const read = readConsumerIdentity(request.headers);
    if (!read.ok) return unauthorized(read.detail);
    const { consumerId, username } = read.identity;

    let credential: CachedCredential | Response | undefined = credentials.cached(consumerId);
    credential ??= await resolve(consumerId, username, ctx);
    if (credential instanceof Response) return credential;
    // Kong's record for this id is the authority on who the consumer is; a different name is forged.
    if (credential.username !== username) {
      return unauthorized("X-Consumer-Username does not match Kong's consumer.");
    }

    const { token, expiresIn } = signer.sign(username, credential);
    const body = JSON.stringify({ access_token: token, expires_in: expiresIn, token_type: "Bearer" });
    return new Response(body, { headers: TOKEN_HEADERS });
  };
}
