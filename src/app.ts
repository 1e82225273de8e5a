import pkg from "../package.json" with { type: "json" };
import { buildCache, buildKong, type Cache, type Observed, signing } from "./composition/credentials.ts";
import { createLifecycle } from "./composition/lifecycle.ts";
import { buildCredentialParts } from "./composition/rotation.ts";
import { debugParts, serviceRoutes } from "./composition/routes.ts";
import type { Config } from "./config/index.ts";
import { secretValues } from "./config/secrets.ts";
import type { RedisStatus } from "./handlers/health.ts";
import { createCors } from "./http/cors.ts";
import { createPipeline } from "./http/pipeline.ts";
import type { Route } from "./http/route.ts";
import { buildRoutes } from "./http/router.ts";
import { TokenSigner } from "./jwt/signer.ts";
import { RateLimiter } from "./security/rate-limiter.ts";
import { redisRateSync } from "./security/redis-rate-sync.ts";
import { createLogger, type Logger } from "./telemetry/logger.ts";
import { ServiceMetrics } from "./telemetry/metrics.ts";
import { observeRedis, observeServer } from "./telemetry/observed-gauges.ts";
import { consoleTelemetry, startTelemetry, type Telemetry } from "./telemetry/sdk.ts";

export interface AppOverrides {
  readonly logger?: Logger;
  readonly telemetry?: Telemetry;
  readonly now?: () => number;
}

/** Largest request body any endpoint accepts; nothing this service takes is bigger. */
const MAX_BODY_BYTES = 16 * 1024;

/**
 * How long the process's start-up lines may wait for the first request (see createAppWithTelemetry):
 * long enough for an orchestrator's first probe, short enough that a service nobody calls still says
 * it listens at once to whoever reads its output.
 */
const START_LINES_HOLD_MS = 500;

export interface ServiceLoggerOptions {
  /** Where console lines go (a test's capture) instead of stdout; it receives every line, whatever the mode. */
  readonly stream?: NodeJS.WritableStream;
  /** Lines wait for `release()` (the app's first request) for at most this long. */
  readonly holdMs?: number;
}

/** The logger the service runs with: ECS lines to stdout (unless otlp-only) plus OTLP export. */
export function createServiceLogger(
  config: Readonly<Config>,
  telemetry: Telemetry,
  { stream, holdMs }: ServiceLoggerOptions = {},
): Logger {
  return createLogger({
    level: config.app.logLevel,
    serviceName: config.telemetry.serviceName,
    serviceVersion: config.telemetry.serviceVersion,
    environment: config.app.environment,
    secrets: secretValues(config),
    transports: telemetry.logTransports,
    console: stream !== undefined || telemetry.mode !== "otlp",
    ...(stream ? { stream } : {}),
    ...(holdMs === undefined ? {} : { holdMs }),
    traceIds: telemetry.tracing.enabled ? () => telemetry.tracing.activeIds() : undefined,
  });
}

/**
 * The composition root: every part is built here, once, from the frozen configuration and handed
 * to what needs it (src/composition/); what starts and stops with the process is the lifecycle's.
 * Tests build the same app with other parts.
 */
export function createApp(config: Readonly<Config>, overrides: AppOverrides = {}) {
  const observed = observe(config, overrides);
  const { logger, telemetry, now } = observed;
  const kong = buildKong(config, observed);
  const { keys, policy, pool: signingPool } = signing(config, logger);
  const cache = buildCache(config, policy, observed);
  const rateLimiter = buildRateLimiter(config, observed, cache);
  const redisStatus = redisObserved(observed, cache);
  const debug = debugParts(config);
  const { retirements, credentials, admin } = buildCredentialParts(config, policy, kong, cache, observed);
  const lifecycle = createLifecycle({
    ...observed,
    config,
    breaker: kong.breaker,
    rateLimiter,
    cache,
    retirements,
    profiler: debug.profiler,
    signingPool,
  });
  const { routes: definitions, document } = serviceRoutes({
    ...observed,
    config,
    version: pkg.version,
    kong,
    cache,
    credentials,
    admin,
    signer: new TokenSigner(config.jwt, () => Math.floor(now() / 1000), signingPool),
    serviceKeys: keys,
    rateLimiter,
    redisStatus,
    isDraining: lifecycle.isDraining,
    debug,
  });
  const { routes, fallback } = mount(config, observed, lifecycle.isDraining, definitions);
  return {
    config,
    get document() {
      return document();
    },
    logger,
    telemetry,
    version: pkg.version,
    routes,
    fallback,
    /** Hard ceiling for Bun; the pipeline answers 413 with a problem body well below it. */
    maxRequestBodySize: MAX_BODY_BYTES * 4,
    redisStatus,
    /** Called with the server once it listens, for the metric of requests in flight. */
    serving: (server: { readonly pendingRequests: number }) => observeServer(telemetry.meter, server),
    get draining() {
      return lifecycle.isDraining();
    },
    ...controls(lifecycle),
    retirements,
  };
}

/** What the server calls on the lifecycle (a spread copies values: `draining` stays a getter above). */
function controls({ startDraining, start, close }: ReturnType<typeof createLifecycle>) {
  return { startDraining, start, close };
}

export type App = ReturnType<typeof createApp>;

/** Bun's routes and fallback: every route through the pipeline. */
function mount(
  config: Readonly<Config>,
  { logger, metrics, telemetry }: Observed,
  isDraining: () => boolean,
  definitions: readonly Route[],
) {
  const cors = createCors(config.api.cors);
  const pipeline = createPipeline({
    cors,
    logger,
    tracing: telemetry.tracing,
    metrics,
    maxBodyBytes: MAX_BODY_BYTES,
    isDraining,
    // Answers the pipeline gives instead of the handler are token requests too.
    onUnserved: (route, reason) => {
      if (route === "/tokens") metrics.tokenFailed(reason);
    },
    // Held lines (start-up) are written in the turn of the event loop after the first answer is
    // written: loading winston for them (15–20 ms on a slow machine) then follows that answer, a
    // readiness probe's usually, instead of delaying it (docs/testing.md, "Start-up and memory").
    onFirstAnswer: () => setImmediate(() => logger.release()),
  });
  return buildRoutes(definitions, pipeline, cors);
}

/** The clock, telemetry, logger and metrics every other part reports to. */
function observe(config: Readonly<Config>, overrides: AppOverrides): Observed {
  const telemetry = overrides.telemetry ?? consoleTelemetry(config.telemetry, config.app.environment);
  const logger = overrides.logger ?? createServiceLogger(config, telemetry);
  const metrics = new ServiceMetrics(telemetry.meter, telemetry.histograms);
  return { now: overrides.now ?? Date.now, telemetry, logger, metrics };
}

/** Redis's state for /health and the redis_* gauges; "disabled" without Redis. */
function redisObserved({ telemetry }: Observed, { redisConnection }: Cache): () => RedisStatus {
  if (redisConnection)
    observeRedis(
      telemetry.meter,
      () => redisConnection.status === "ready",
      () => redisConnection.subscribed === true,
    );
  return () => redisConnection?.status ?? "disabled";
}

/** Per-consumer limits, shared through Redis when there is one. */
function buildRateLimiter(config: Readonly<Config>, { logger, now }: Observed, { redisConnection }: Cache) {
  return new RateLimiter({
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
}

/**
 * The app as `bun start` and `bun run local` run it: telemetry started as TELEMETRY_MODE asks (the
 * OpenTelemetry SDK in otlp and both modes), the service logger on top of it, then the app. Its lines
 * wait for the first request (a readiness probe, usually): loading winston for the start-up line
 * would otherwise delay its answer by about 10 ms (docs/testing.md, "Start-up and memory").
 */
export async function createAppWithTelemetry(config: Readonly<Config>): Promise<App> {
  // Export failures are reported through the logger, which needs telemetry to exist first.
  let logger: Logger | undefined;
  const telemetry = await startTelemetry(config.telemetry, config.app.environment, (message) =>
    logger?.warn(message),
  );
  logger = createServiceLogger(config, telemetry, { holdMs: START_LINES_HOLD_MS });
  return createApp(config, { telemetry, logger });
}
