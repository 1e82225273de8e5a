import type { Server } from "bun";
import type { Config } from "../config/index.ts";
import type { createHealthHandlers } from "../handlers/health.ts";
import type { createMetricsHandlers } from "../handlers/metrics.ts";
import {
  CONSUMER_HEADERS,
  consumerIdentity,
  MAX_USERNAME_LENGTH,
  type WithConsumer,
} from "../http/consumer-identity.ts";
import { negotiated } from "../http/negotiation.ts";
import { oauthError } from "../http/oauth-error.ts";
import type { Handler } from "../http/pipeline.ts";
import { problem, type Refuse } from "../http/problem.ts";
import { rateLimit } from "../http/rate-limit.ts";
import type { Parameter, Route } from "../http/route.ts";
import { behind, guard, type Step } from "../http/steps.ts";
import { FORM_MEDIA_TYPE, readTokenForm } from "../http/token-form.ts";
import type { AnonymousConsumers } from "../kong/anonymous.ts";
import type { RateLimiter } from "../security/rate-limiter.ts";
import type { TokenFailureReason } from "../telemetry/metrics.ts";
import {
  healthResponseSchema,
  jwksSchema,
  liveResponseSchema,
  metricsHealthSchema,
  metricsOverviewSchema,
  oauthErrorSchema,
  openApiDocumentSchema,
  readyResponseSchema,
  telemetryHealthSchema,
  tokenFormSchema,
  tokenResponseSchema,
} from "./schemas.ts";

const retryAfter = { "Retry-After": { description: "Seconds to wait", schema: { type: "integer" } } };
const rateLimitHeaders = {
  "RateLimit-Limit": { description: "Requests allowed per window", schema: { type: "integer" } },
  "RateLimit-Remaining": { description: "Requests left in the window", schema: { type: "integer" } },
  "RateLimit-Reset": { description: "Seconds until the window resets", schema: { type: "integer" } },
};

/** The identity step's header rules (src/http/consumer-identity.ts) as the document states them. */
const consumerHeaders: Parameter[] = [
  {
    name: CONSUMER_HEADERS.id,
    in: "header",
    required: true,
    description: "Kong consumer id (set by Kong's auth plugins)",
    schema: { type: "string", format: "uuid" },
  },
  {
    name: CONSUMER_HEADERS.username,
    in: "header",
    required: true,
    description: "Kong consumer username",
    schema: { type: "string", minLength: 1, maxLength: MAX_USERNAME_LENGTH },
  },
  {
    name: CONSUMER_HEADERS.anonymous,
    in: "header",
    required: false,
    description: "Set to true by Kong for the anonymous consumer, which is refused",
    schema: { type: "string" },
  },
];

export interface TokensRouteParts {
  readonly security: Config["security"];
  /** The trust boundary with Kong: an answer when the request did not come through it. */
  readonly checkGateway: (request: Request, server: Server<unknown>, refuse: Refuse) => Response | undefined;
  /** Refused by id and by name before anything else (KONG_ANONYMOUS_CONSUMERS). */
  readonly anonymous: AnonymousConsumers;
  readonly rateLimiter: Pick<RateLimiter, "take">;
  /** Told when a step refuses the request, for the token metrics. */
  readonly refused: (reason: TokenFailureReason) => void;
  /** The tokens handler wording its errors as the route does. */
  readonly handler: (refuse: Refuse) => Handler<WithConsumer>;
}

/** Largest client-credentials form read: `grant_type` and a few ignored parameters fit many times over. */
export const MAX_TOKEN_FORM_BYTES = 1024;

const tokenAnswers = {
  "401": { description: "Missing, malformed or anonymous consumer; unknown consumer; untrusted gateway" },
  "403": { description: "The peer is not one of TRUSTED_PROXY_CIDRS" },
  "429": { description: "Rate limit exceeded", headers: { ...retryAfter, ...rateLimitHeaders } },
  "500": { description: "The service cannot use Kong's Admin API (misconfiguration)" },
  "503": { description: "Kong unreachable and no stale credential", headers: retryAfter },
};

/**
 * The steps in front of the tokens handler, in order: gateway trust first, so a forged request never
 * reaches Kong; then the consumer headers; then the consumer's rate limit, whose headers every later
 * answer carries. Both forms of /tokens take them, wording refusals with `refuse`.
 */
function tokenSteps(parts: TokensRouteParts, refuse: Refuse) {
  const { checkGateway, anonymous, rateLimiter, refused } = parts;
  return [
    guard(
      (request, ctx) => checkGateway(request, ctx.server, refuse),
      () => refused("untrusted"),
    ),
    consumerIdentity(anonymous, () => refused("invalid_headers"), refuse),
    rateLimit<WithConsumer>(rateLimiter, () => refused("rate_limited"), refuse),
  ] as const;
}

const security = (parts: TokensRouteParts): Route["security"] => [
  parts.security.gatewaySecret ? { kongConsumer: [], kongGateway: [] } : { kongConsumer: [] },
];

/** GET /tokens: errors are RFC 9457 problems. */
export function tokensRoute(parts: TokensRouteParts): Route {
  const [trust, identity, limit] = tokenSteps(parts, problem);
  return {
    method: "GET",
    path: "/tokens",
    summary: "Issue a JWT for the consumer Kong authenticated",
    tags: ["tokens"],
    parameters: consumerHeaders,
    security: security(parts),
    ok: { status: 200, schema: tokenResponseSchema, headers: rateLimitHeaders, description: "A token" },
    extra: tokenAnswers,
    handler: behind(trust, identity, limit, parts.handler(problem)),
  };
}

/**
 * POST /tokens: the same token for OAuth 2.0 clients, asked for with the client-credentials form
 * (RFC 6749 §4.4) behind Kong's basic-auth or key-auth. Every error, the pipeline's included, is an
 * RFC 6749 §5.2 error. The form is read after the rate limit, so malformed requests count against it.
 */
export function oauthTokensRoute(parts: TokensRouteParts): Route {
  const [trust, identity, limit] = tokenSteps(parts, oauthError);
  return {
    method: "POST",
    path: "/tokens",
    summary: "Issue a JWT for the consumer Kong authenticated (OAuth 2.0 client credentials)",
    tags: ["tokens"],
    parameters: consumerHeaders,
    security: security(parts),
    body: tokenFormSchema,
    bodyMediaType: FORM_MEDIA_TYPE,
    errors: { refuse: oauthError, mediaType: "application/json", schema: oauthErrorSchema },
    ok: { status: 200, schema: tokenResponseSchema, headers: rateLimitHeaders, description: "A token" },
    extra: {
      ...tokenAnswers,
      "400": { description: "invalid_request, unsupported_grant_type or invalid_scope (scope is refused)" },
      "413": { description: `A form over ${MAX_TOKEN_FORM_BYTES} bytes` },
    },
    handler: behind(trust, identity, limit, tokenForm(parts.refused), parts.handler(oauthError)),
  };
}

/** Reads the client-credentials form; a form that cannot be used is answered and counted here. */
function tokenForm(refused: TokensRouteParts["refused"]): Step<WithConsumer, WithConsumer> {
  return async (request, ctx, next) => {
    const refusal = await readTokenForm(request, MAX_TOKEN_FORM_BYTES);
    if (!refusal) return next(request, ctx);
    refused(refusal.reason);
    return refusal.response;
  };
}

type HealthHandlers = ReturnType<typeof createHealthHandlers>;
type MetricsHandlers = ReturnType<typeof createMetricsHandlers>;

/** The probes and the metrics overview. */
export function healthRoutes(health: HealthHandlers, observability: MetricsHandlers): Route[] {
  const get = (path: string, route: Omit<Route, "method" | "path">): Route => ({
    method: "GET",
    path,
    ...route,
  });
  return [
    get("/health", {
      summary: "Health with dependencies",
      tags: ["health"],
      ok: { status: 200, schema: healthResponseSchema, description: "healthy or degraded" },
      extra: { "503": { description: "unhealthy: no token can be issued", schema: healthResponseSchema } },
      handler: health.health,
    }),
    get("/health/live", {
      summary: "Liveness",
      tags: ["health"],
      ok: { status: 200, schema: liveResponseSchema, description: "Alive" },
      handler: health.live,
    }),
    get("/health/ready", {
      summary: "Readiness",
      tags: ["health"],
      ok: { status: 200, schema: readyResponseSchema, description: "Ready" },
      extra: { "503": { description: "Draining or unable to issue tokens", schema: readyResponseSchema } },
      handler: health.ready,
    }),
    get("/health/telemetry", {
      summary: "Telemetry exporters",
      tags: ["health"],
      ok: { status: 200, schema: telemetryHealthSchema, description: "Status" },
      handler: observability.telemetryHealth,
    }),
    get("/health/metrics", {
      summary: "Metrics export status",
      tags: ["health"],
      ok: { status: 200, schema: metricsHealthSchema, description: "Status" },
      handler: observability.metricsHealth,
    }),
    metricsRoute(observability),
  ];
}

/** GET /metrics: JSON totals by default, the Prometheus exposition for scrapers, by Accept. */
function metricsRoute(observability: MetricsHandlers): Route {
  return negotiated({
    method: "GET",
    path: "/metrics",
    summary: "Service metrics: JSON totals, or the Prometheus / OpenMetrics exposition by Accept",
    tags: ["metrics"],
    ok: { status: 200, schema: metricsOverviewSchema, description: "Metrics" },
    representations: [
      {
        mediaType: "text/plain",
        description: "Prometheus text exposition format 0.0.4",
        handler: () => observability.exposition("prometheus"),
      },
      {
        mediaType: "application/openmetrics-text",
        description: "OpenMetrics 1.0 text",
        handler: () => observability.exposition("openmetrics"),
      },
    ],
    handler: observability.overview,
  });
}

/**
 * GET /.well-known/jwks.json: mounted in service-key mode only; with per-consumer secrets there is
 * no public key to publish, and a 404 says so more plainly than an empty set.
 */
export function jwksRoute(handler: Handler, maxAgeSeconds: number): Route {
  return {
    method: "GET",
    path: "/.well-known/jwks.json",
    summary: "The public keys tokens are signed with (SIGNING_MODE=service-keys only)",
    tags: ["tokens"],
    ok: {
      status: 200,
      schema: jwksSchema,
      headers: {
        "Cache-Control": { description: `public, max-age=${maxAgeSeconds}`, schema: { type: "string" } },
      },
      description: "The JWK set",
    },
    handler,
  };
}

/** GET /: the document built from every route mounted, itself included. */
export function documentRoute(handler: Handler): Route {
  return {
    method: "GET",
    path: "/",
    summary: "This document (JSON; YAML with Accept: application/yaml or ?format=yaml)",
    tags: ["documentation"],
    ok: { status: 200, schema: openApiDocumentSchema, description: "OpenAPI 3.1" },
    also: [{ mediaType: "application/yaml", description: "The same document in YAML" }],
    parameters: [
      { name: "format", in: "query", required: false, schema: { type: "string", enum: ["json", "yaml"] } },
    ],
    handler,
  };
}
