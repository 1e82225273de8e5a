import type { ProblemInit } from "./problem.ts";

/** The RFC 6749 §5.2 codes this service answers, and two of §4.1.2.1 for what §5.2 has no code for. */
export type OAuthErrorCode =
  | "invalid_request"
  | "invalid_client"
  | "invalid_scope"
  | "unsupported_grant_type"
  | "server_error"
  | "temporarily_unavailable";

/**
 * The code for an answer the shared steps and lookup give (as a status): a client library branches on
 * `error`, so each status keeps one meaning. 401 and 403 both mean the consumer Kong named cannot be
 * trusted or used; 429 and 503 both mean "come back after Retry-After".
 */
function codeOf(status: number): OAuthErrorCode {
  if (status === 401 || status === 403) return "invalid_client";
  if (status === 429 || status === 503) return "temporarily_unavailable";
  if (status >= 500) return "server_error";
  return "invalid_request";
}

/**
 * RFC 6749 §5.2's error answer. RFC 6749 §5.1 asks token answers not to be cached; errors carry the
 * same two headers. A 401 challenges with Basic, the client authentication RFC 6749 §2.3.1 makes every
 * client support (and the scheme Kong's basic-auth route asks for).
 */
export function oauthError(
  status: number,
  init: ProblemInit & { readonly error?: OAuthErrorCode } = {},
): Response {
  const body = {
    error: init.error ?? codeOf(status),
    ...(init.detail ? { error_description: init.detail } : {}),
  };
  return new Response(JSON.stringify(body), {
    status,
    headers: {
      "content-type": "application/json",
      "cache-control": "no-store",
      pragma: "no-cache",
      ...init.headers,
      ...(status === 401 ? { "www-authenticate": 'Basic realm="kong"' } : {}),
    },
  });
}
