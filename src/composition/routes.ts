import { adminRoutes } from "../api/admin-routes.ts";
import { type DebugAccess, debugMetricsRoutes, profilingRoutes } from "../api/debug-routes.ts";
import {
  documentRoute,
  healthRoutes,
  jwksRoute,
  oauthTokensRoute,
  type TokensRouteParts,
  tokensRoute,
} from "../api/routes.ts";
import type { Config } from "../config/index.ts";
import { createHealthHandlers, type RedisStatus } from "../handlers/health.ts";
import { createJwksHandler, JWKS_MAX_AGE_SECONDS } from "../handlers/jwks.ts";
import { createMetricsHandlers } from "../handlers/metrics.ts";
import { createOpenApiHandler } from "../handlers/openapi.ts";
import { createProfilingHandlers } from "../handlers/profiling.ts";
import { createTokensHandler } from "../handlers/tokens.ts";
import { createAdminGuard } from "../http/admin-guard.ts";
import { createDebugGuard } from "../http/debug-guard.ts";
import type { Handler } from "../http/pipeline.ts";
import type { Route } from "../http/route.ts";
import { createGatewayTrust } from "../http/trust.ts";
import type { ServiceKeySet } from "../jwt/service-keys.ts";
import type { TokenSigner } from "../jwt/signer.ts";
import type { Profiler } from "../profiling/profiler.ts";
import type { RateLimiter } from "../security/rate-limiter.ts";
import type { buildCredentials, Cache, Kong, Observed } from "./credentials.ts";

/**
 * Whether debug and profiling endpoints exist here (see createDebugGuard) and the profiler when they
 * do. The profiler is loaded only when profiling is on (never in production), so other deployments
 * do not pay for the inspector bindings at start-up.
 */
export function debugParts(config: Readonly<Config>): { access?: DebugAccess; profiler?: Profiler } {
  const guard = createDebugGuard(config.app.environment, config.security.debugToken);
  if (!guard) return {};
  const access = { guard, tokenRequired: Boolean(config.security.debugToken) };
  if (!config.profiling.enabled) return { access };
  const { Profiler: ProfilerClass } =
    require("../profiling/profiler.ts") as typeof import("../profiling/profiler.ts");
  return {
    access,
    profiler: new ProfilerClass({
      environment: config.app.environment,
      outputDir: config.profiling.outputDir,
    }),
  };
}

export interface RouteParts extends Observed {
  readonly config: Readonly<Config>;
  readonly version: string;
  readonly kong: Kong;
  readonly cache: Cache;
  readonly credentials: ReturnType<typeof buildCredentials>;
  readonly signer: TokenSigner;
  /** The service's keys in service-key mode. */
  readonly serviceKeys: ServiceKeySet | undefined;
  readonly rateLimiter: RateLimiter;
  readonly redisStatus: () => RedisStatus;
  readonly isDraining: () => boolean;
  readonly debug: ReturnType<typeof debugParts>;
  /** The admin handlers, where ADMIN_TOKEN is set. */
  readonly admin: { invalidate: Handler; rotate: Handler } | undefined;
}

/** Every route this instance serves, and the OpenAPI document of exactly those, built on first use. */
export function serviceRoutes(parts: RouteParts): {
  routes: Route[];
  document: () => Record<string, unknown>;
} {
  const { config } = parts;
  const served = [
    ...tokens(parts),
    ...keys(parts),
    ...probes(parts),
    ...adminRoutesOf(parts),
    ...debugRoutes(parts),
  ];
  // Converting every schema takes longer than the rest of start-up, so neither the document nor its
  // module is loaded until someone asks.
  let document: Record<string, unknown> | undefined;
  const build = (): Record<string, unknown> =>
    (document ??= (require("../openapi/spec.ts") as typeof import("../openapi/spec.ts")).buildOpenApiDocument(
      {
        api: config.api,
        security: config.security,
        routes,
      },
    ));
  const routes: Route[] = [documentRoute(createOpenApiHandler(build)), ...served];
  return { routes, document: build };
}

function tokens({
  config,
  credentials,
  signer,
  logger,
  metrics,
  telemetry,
  rateLimiter,
  kong,
}: RouteParts): Route[] {
  const parts: TokensRouteParts = {
    security: config.security,
    checkGateway: createGatewayTrust(config.security),
    anonymous: credentials.anonymous,
    rateLimiter,
    refused: (reason) => metrics.tokenFailed(reason),
    handler: (refuse) =>
      createTokensHandler({
        credentials: credentials.credentials,
        signer,
        logger,
        metrics,
        tracing: telemetry.tracing,
        kongHealth: kong.health,
        refuse,
      }),
  };
  return [tokensRoute(parts), oauthTokensRoute(parts)];
}

function keys({ serviceKeys }: RouteParts): Route[] {
  return serviceKeys ? [jwksRoute(createJwksHandler(serviceKeys), JWKS_MAX_AGE_SECONDS)] : [];
}

function probes(parts: RouteParts): Route[] {
  const { config, version, kong, cache, metrics, telemetry, redisStatus, isDraining, now } = parts;
  const health = createHealthHandlers({
    config,
    version,
    kong: kong.health,
    breaker: kong.breaker,
    memory: cache.memory,
    redisStatus,
    redisSubscribed: () => cache.redisConnection?.subscribed,
    telemetry,
    isDraining,
    startedAt: now(),
    now,
  });
  const observability = createMetricsHandlers({
    metrics,
    memory: cache.memory,
    breaker: kong.breaker,
    telemetry,
    redisStatus,
  });
  return healthRoutes(health, observability);
}

/** Admin routes exist only with ADMIN_TOKEN: without it, a 404 like any unknown path. */
function adminRoutesOf({ config, admin }: RouteParts): Route[] {
  const token = config.security.adminToken;
  return token && admin ? adminRoutes(createAdminGuard(token), admin) : [];
}

/** Debug and profiling endpoints not allowed here do not exist: not hidden, absent. */
function debugRoutes({ debug, telemetry }: RouteParts): Route[] {
  const { access, profiler } = debug;
  if (!access) return [];
  const { createDebugHandlers } = require("../handlers/debug.ts") as typeof import("../handlers/debug.ts");
  return [
    ...debugMetricsRoutes(access, createDebugHandlers(telemetry)),
    ...(profiler ? profilingRoutes(access, createProfilingHandlers(profiler), profiler.maxSessionMs) : []),
  ];
}
