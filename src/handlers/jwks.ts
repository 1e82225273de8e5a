import { publicJwk, type ServiceKeySet } from "../jwt/service-keys.ts";

/**
 * How long verifiers may keep the set. Keys change only with the configuration, and a key joins the
 * set before it becomes active (docs/operations.md), so a verifier that cached the set a little
 * earlier still finds the kid it needs.
 */
export const JWKS_MAX_AGE_SECONDS = 300;

/** GET /.well-known/jwks.json: every key of the set, public halves only, serialised once. */
export function createJwksHandler(set: ServiceKeySet): () => Response {
  const body = JSON.stringify({ keys: set.keys.map(publicJwk) });
  const headers = {
    "content-type": "application/json",
    "cache-control": `public, max-age=${JWKS_MAX_AGE_SECONDS}`,
  };
  return () => new Response(body, { headers });
}
