import pkg from "../package.json" with { type: "json" };
import { SecretCipher } from "./cache/cipher.ts";
import { MemoryCredentialCache } from "./cache/memory.ts";
import { RedisCredentialStore } from "./cache/redis.ts";
import { RedisConnection } from "./cache/redis-connection.ts";
import { TieredCredentialCache } from "./cache/tiered.ts";
import type { Config } from "./config/index.ts";
import { secretValues } from "./config/secrets.ts";
import { CredentialService } from "./credentials/service.ts";
import { createHealthHandlers, type RedisStatus } from "./handlers/health.ts";
import { createMetricsHandlers } from "./handlers/metrics.ts";
import { createOpenApiHandler } from "./handlers/openapi.ts";
import {
  createProfilingHandlers,
  PROFILING_REPORT_ROUTE,
  profilingBodySchemas,
} from "./handlers/profiling.ts";
import { createTokensHandler } from "./handlers/tokens.ts";
import { createCors } from "./http/cors.ts";
import { createDebugGuard } from "./http/debug-guard.ts";
import { createPipeline } from "./http/pipeline.ts";
import { createGatewayTrust } from "./http/trust.ts";
import { TokenSigner } from "./jwt/signer.ts";
import { KongAdapter } from "./kong/adapter.ts";
import { AnonymousConsumers } from "./kong/anonymous.ts";
import { KongHealth } from "./kong/health.ts";
import { createStrategy } from "./kong/strategies.ts";
import type { Profiler } from "./profiling/profiler.ts";
import { KongBreaker } from "./resilience/breaker.ts";
import { ConcurrencyLimiter } from "./resilience/concurrency.ts";
import { buildRoutes, type RouteTable } from "./routes.ts";
import { RateLimiter } from "./security/rate-limiter.ts";
import { redisRateSync } from "./security/redis-rate-sync.ts";
import { createLogger, type Logger } from "./telemetry/logger.ts";
import { ServiceMetrics } from "./telemetry/metrics.ts";
import { consoleTelemetry, startTelemetry, type Telemetry } from "./telemetry/sdk.ts";

export interface AppOverrides {
  readonly logger?: Logger;
  readonly telemetry?: Telemetry;
  readonly now?: () => number;
}

/** Largest request body any endpoint accepts; nothing this service takes is bigger. */
const MAX_BODY_BYTES = 16 * 1024;
const UNKNOWN_CONSUMER_TTL_MS = 10_000;
const KONG_PROBE_TTL_MS = 5_000;
/** Calls beyond the pool wait in a queue this many times its size; beyond that, 503 at once. */
const KONG_QUEUE_FACTOR = 10;
/** Long enough for a create to finish under the breaker's budget, short enough to not stall a burst. */
const provisionLockMs = (breakerTimeoutMs: number) => Math.max(1_000, breakerTimeoutMs * 2);

/**
 * Loaded only when profiling is on (never in production), so other deployments do not pay for the
 * inspector bindings at start-up.
 */
function createProfiler(config: Readonly<Config>): Profiler {
  const { Profiler: ProfilerClass } =
    require("./profiling/profiler.ts") as typeof import("./profiling/profiler.ts");
  return new ProfilerClass({ environment: config.app.environment, outputDir: config.profiling.outputDir });
}

/** The logger the service runs with: ECS lines to stdout (unless otlp-only) plus OTLP export. */
export function createServiceLogger(
  config: Readonly<Config>,
  telemetry: Telemetry,
  stream?: NodeJS.WritableStream,
): Logger {
  return createLogger({
    level: config.app.logLevel,
    serviceName: config.telemetry.serviceName,
    serviceVersion: config.telemetry.serviceVersion,
    environment: config.app.environment,
    secrets: secretValues(config),
    transports: telemetry.logTransports,
    // A given stream (a test's capture) receives every line, whatever the mode.
    console: stream !== undefined || telemetry.mode !== "otlp",
    ...(stream ? { stream } : {}),
    traceIds: telemetry.tracing.enabled ? () => telemetry.tracing.activeIds() : undefined,
  });
}

/**
 * The composition root: every part is built here, once, from the frozen configuration and handed
 * to what needs it. Tests build the same app with other parts.
 */
export function createApp(config: Readonly<Config>, overrides: AppOverrides = {}) {
  const now = overrides.now ?? Date.now;
  const version = pkg.version;
  const telemetry = overrides.telemetry ?? consoleTelemetry(config.telemetry);
  const logger = overrides.logger ?? createServiceLogger(config, telemetry);
  const metrics = new ServiceMetrics(telemetry.meter, telemetry.histograms);

  const breaker = new KongBreaker({
    timeoutMs: config.breaker.timeoutMs,
    errorThresholdPercentage: config.breaker.errorThresholdPercentage,
    resetTimeoutMs: config.breaker.resetTimeoutMs,
    now,
  });
  breaker.observe({
    onStateChange: (state, previous) => {
      metrics.breakerTransition(previous, state);
      logger.log(state === "open" ? "warn" : "info", `Kong circuit breaker ${previous} → ${state}`, {
        event: { action: "circuit-breaker-transition" },
        circuit_breaker: { state, previous },
      });
    },
    onResult: (operation, outcome) => metrics.kongOperation(operation, outcome),
  });
  const kong = new KongAdapter(
    createStrategy(config.kong.mode, config.kong.adminUrl, config.kong.adminToken),
    {
      timeoutMs: config.kong.connectionTimeoutMs,
      breaker,
      tracing: telemetry.tracing,
      concurrency: new ConcurrencyLimiter(
        config.kong.connectionPoolSize,
        config.kong.connectionPoolSize * KONG_QUEUE_FACTOR,
      ),
      queueWaitMs: config.breaker.timeoutMs,
    },
  );

  const kongHealth = new KongHealth(kong, KONG_PROBE_TTL_MS, now);
  breaker.observe({ onResult: (operation, outcome) => kongHealth.recordCall(operation, outcome) });

  const freshMs = config.cache.ttlSeconds * 1000;
  const staleMs = config.cache.staleToleranceMinutes * 60_000;
  const memory = new MemoryCredentialCache({
    maxSize: config.cache.maxSize,
    freshMs,
    staleMs,
    unknownConsumerMs: UNKNOWN_CONSUMER_TTL_MS,
    now,
  });
  const redisConnection = config.redis.enabled ? new RedisConnection(config.redis, logger) : undefined;
  const redisStore =
    redisConnection &&
    new RedisCredentialStore(redisConnection, {
      prefix: config.redis.keyPrefix,
      freshMs,
      retainMs: config.cache.highAvailability ? freshMs + staleMs : freshMs,
      ...(config.cache.encryptionKey ? { cipher: new SecretCipher(config.cache.encryptionKey) } : {}),
      now,
    });
  const cache = new TieredCredentialCache(memory, redisStore, config.jwt.secretIsBase64, {
    onRead: (tier, outcome, seconds) => metrics.cacheRead(tier, outcome, seconds),
  });
  const anonymous = new AnonymousConsumers(config.kong.anonymousConsumers);
  const credentials = new CredentialService(kong, cache, {
    anonymous,
    secretIsBase64: config.jwt.secretIsBase64,
    retryAfterSeconds: () => breaker.retryAfterSeconds(),
    provisionLockMs: provisionLockMs(config.breaker.timeoutMs),
    now,
  });
  const signer = new TokenSigner(config.jwt, () => Math.floor(now() / 1000));
  const rateLimiter = new RateLimiter({
    maxRequests: config.security.rateLimitMaxRequests,
    windowMs: config.security.rateLimitWindowMs,
    syncMs: config.security.rateLimitSyncMs,
    maxTrackedConsumers: config.security.rateLimitMaxConsumers,
    ...(redisConnection ? { sync: redisRateSync(redisConnection, config.redis.keyPrefix) } : {}),
    onSyncFailure: () =>
      logger.warn("Rate limits cannot be shared through Redis; each instance now limits alone"),
    onSyncRecovered: () => logger.info("Rate limits are shared through Redis again"),
    now,
  });
  const checkGateway = createGatewayTrust(config.security);
  const redisStatus = (): RedisStatus => redisConnection?.status ?? "disabled";
  if (redisConnection) metrics.observeRedis(telemetry.meter, () => redisConnection.status === "ready");

  let draining = false;
  const health = createHealthHandlers({
    config,
    version,
    kong: kongHealth,
    breaker,
    memory,
    redisStatus,
    telemetry,
    isDraining: () => draining,
    startedAt: now(),
    now,
  });
  const observability = createMetricsHandlers({ metrics, memory, breaker, telemetry, redisStatus });

  const table: RouteTable = {
    "/tokens": {
      GET: createTokensHandler({
        credentials,
        anonymous,
        signer,
        logger,
        metrics,
        tracing: telemetry.tracing,
        rateLimiter,
        kongHealth,
        checkGateway: (request, ctx) => checkGateway(request, ctx.server),
      }),
    },
    "/health": { GET: health.health },
    "/health/live": { GET: health.live },
    "/health/ready": { GET: health.ready },
    "/health/telemetry": { GET: observability.telemetryHealth },
    "/health/metrics": { GET: observability.metricsHealth },
    "/metrics": { GET: observability.overview },
  };
  // Debug and profiling endpoints not allowed here (see createDebugGuard) do not exist: not hidden, absent.
  const guard = createDebugGuard(config.app.environment, config.security.debugToken);
  const profiler = guard && config.profiling.enabled ? createProfiler(config) : undefined;
  if (guard) {
    const { createDebugHandlers } = require("./handlers/debug.ts") as typeof import("./handlers/debug.ts");
    const debug = createDebugHandlers(metrics, telemetry);
    table["/debug/metrics/test"] = { POST: guard(debug.test) };
    table["/debug/metrics/export"] = { POST: guard(debug.exportNow) };
    table["/debug/metrics/stats"] = { GET: guard(debug.stats) };
    if (profiler) {
      const profiling = createProfilingHandlers(profiler);
      table["/debug/profiling/start"] = { POST: guard(profiling.start) };
      table["/debug/profiling/stop"] = { POST: guard(profiling.stop) };
      table["/debug/profiling/status"] = { GET: guard(profiling.status) };
      table["/debug/profiling/reports"] = { GET: guard(profiling.reports) };
      table[PROFILING_REPORT_ROUTE] = { GET: guard(profiling.download) };
      table["/debug/profiling/cleanup"] = { POST: guard(profiling.cleanup) };
    }
  }

  // The document describes exactly the routes mounted above, plus itself. It is built (and its
  // module loaded) on first use: converting every schema takes longer than the rest of start-up.
  const routesForDocument = Object.fromEntries([
    ["/", ["GET"]],
    ...Object.entries(table).map(([path, methods]) => [path, Object.keys(methods)]),
  ]);
  let document: Record<string, unknown> | undefined;
  const openApiDocument = () =>
    (document ??= (require("./openapi/spec.ts") as typeof import("./openapi/spec.ts")).buildOpenApiDocument({
      api: config.api,
      security: config.security,
      routes: routesForDocument,
      ...(profiler ? { profilingBodies: profilingBodySchemas(profiler.maxSessionMs) } : {}),
    }));
  table["/"] = { GET: createOpenApiHandler(openApiDocument) };

  const cors = createCors(config.api.cors);
  const pipeline = createPipeline({
    cors,
    logger,
    tracing: telemetry.tracing,
    metrics,
    maxBodyBytes: MAX_BODY_BYTES,
    isDraining: () => draining,
    // Answers the pipeline gives instead of the handler are token requests too.
    onUnserved: (route, reason) => {
      if (route === "/tokens") metrics.tokenFailed(reason);
    },
  });
  const { routes, fallback } = buildRoutes(table, pipeline, cors);

  return {
    config,
    get document() {
      return openApiDocument();
    },
    logger,
    telemetry,
    version,
    routes,
    fallback,
    /** Hard ceiling for Bun; the pipeline answers 413 with a problem body well below it. */
    maxRequestBodySize: MAX_BODY_BYTES * 4,
    redisStatus,
    startDraining() {
      draining = true;
    },
    get draining() {
      return draining;
    },
    /** Connects to Redis and listens for invalidations; never blocks or fails start-up. */
    start() {
      rateLimiter.start();
      if (!redisConnection || !redisStore) return;
      if (config.app.environment === "production" && !config.cache.encryptionKey) {
        logger.warn("Redis holds credential secrets in clear: set CACHE_ENCRYPTION_KEY to encrypt them");
      }
      redisConnection
        .connect()
        .catch((error: unknown) => logger.error("Redis client failed to load", { err: error }));
      redisStore
        .listenForInvalidations((consumerId) => {
          void cache.invalidate(consumerId);
          logger.info("Consumer invalidated through Redis", { consumer: { id: consumerId } });
        })
        .catch((error: unknown) => logger.warn("Redis invalidation listener failed", { err: error }));
    },
    /** Stops background work and flushes telemetry within `timeoutMs`. */
    async close(timeoutMs = 5_000) {
      rateLimiter.stop();
      await profiler?.close();
      breaker.shutdown();
      await redisConnection?.close();
      await telemetry.shutdown(timeoutMs);
      logger.close();
    },
  };
}

export type App = ReturnType<typeof createApp>;

/**
 * The app as `bun start` and `bun run local` run it: telemetry started as TELEMETRY_MODE asks (the
 * OpenTelemetry SDK in otlp and both modes), the service logger on top of it, then the app.
 */
export async function createAppWithTelemetry(config: Readonly<Config>): Promise<App> {
  // Export failures are reported through the logger, which needs telemetry to exist first.
  let logger: Logger | undefined;
  const telemetry = await startTelemetry(config.telemetry, config.app.environment, (message) =>
    logger?.warn(message),
  );
  logger = createServiceLogger(config, telemetry);
  return createApp(config, { telemetry, logger });
}
