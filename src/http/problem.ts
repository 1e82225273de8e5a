import { errorStatusText } from "./status-text.ts";

export interface ProblemInit {
  /** A URI naming the kind of problem; `about:blank` when the status says it all. */
  readonly type?: string;
  readonly title?: string;
  readonly detail?: string;
  readonly headers?: Record<string, string>;
}

/**
 * How a route words a refusal: RFC 9457 problems (`problem`) everywhere but POST /tokens, whose
 * OAuth 2.0 clients read RFC 6749 §5.2 errors (`oauthError`). The steps and the lookup state the
 * status and the problem; the route's format decides the body.
 */
export type Refuse = (status: number, init?: ProblemInit) => Response;

/** Problem types are URNs: stable names the docs list, not URLs that pretend to resolve. */
export const PROBLEM_TYPE_BASE = "urn:auth-service:problem:";

/**
 * RFC 9457 problem details. The detail is written for the client: it never carries stack traces,
 * secrets, tokens or internal URLs, which is why callers pass fixed sentences, not error messages.
 */
export function problem(status: number, init: ProblemInit = {}): Response {
  const body = {
    type: init.type ? PROBLEM_TYPE_BASE + init.type : "about:blank",
    title: init.title ?? errorStatusText(status) ?? "Error",
    status,
    ...(init.detail ? { detail: init.detail } : {}),
  };
  return new Response(JSON.stringify(body), {
    status,
    headers: { "content-type": "application/problem+json", "cache-control": "no-store", ...init.headers },
  });
}

/** 413: the declared length (pipeline) or the body read (body.ts) is over the limit. */
export function bodyTooLarge(maxBytes: number, refuse: Refuse = problem): Response {
  return refuse(413, { detail: `Request bodies are limited to ${maxBytes} bytes.` });
}
