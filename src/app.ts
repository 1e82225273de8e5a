import pkg from "../package.json" with { type: "json" };
import { SecretCipher } from "./cache/cipher.ts";
import { MemoryCredentialCache } from "./cache/memory.ts";
import { RedisCredentialStore } from "./cache/redis.ts";
import { RedisConnection } from "./cache/redis-connection.ts";
import { TieredCredentialCache } from "./cache/tiered.ts";
import type { Config } from "./config/index.ts";
import { CredentialService } from "./credentials/service.ts";
import { createHealthHandlers } from "./handlers/health.ts";
import { createOpenApiHandler } from "./handlers/openapi.ts";
import { createTokensHandler } from "./handlers/tokens.ts";
import { createCors } from "./http/cors.ts";
import { createPipeline } from "./http/pipeline.ts";
import { TokenSigner } from "./jwt/signer.ts";
import { KongAdapter } from "./kong/adapter.ts";
import { KongHealthProbe } from "./kong/health.ts";
import { createStrategy } from "./kong/strategies.ts";
import { KongBreaker } from "./resilience/breaker.ts";
import { buildRoutes } from "./routes.ts";
import { createLogger, type Logger } from "./telemetry/logger.ts";

export interface AppOverrides {
  readonly logger?: Logger;
  readonly now?: () => number;
}

/** Largest request body any endpoint accepts; nothing this service takes is bigger. */
const MAX_BODY_BYTES = 16 * 1024;
const UNKNOWN_CONSUMER_TTL_MS = 10_000;
const KONG_PROBE_TTL_MS = 5_000;
/** Long enough for a create to finish under the breaker's budget, short enough to not stall a burst. */
const provisionLockMs = (breakerTimeoutMs: number) => Math.max(1_000, breakerTimeoutMs * 2);

/**
 * The composition root: every part is built here, once, from the frozen configuration and handed
 * to what needs it. Tests build the same app with other parts.
 */
export function createApp(config: Readonly<Config>, overrides: AppOverrides = {}) {
  const now = overrides.now ?? Date.now;
  const version = pkg.version;
  const logger =
    overrides.logger ??
    createLogger({
      level: config.app.logLevel,
      serviceName: "authentication-service",
      serviceVersion: version,
      environment: config.app.environment,
      secrets: [config.kong.adminToken],
    });

  const breaker = new KongBreaker({
    timeoutMs: config.breaker.timeoutMs,
    errorThresholdPercentage: config.breaker.errorThresholdPercentage,
    resetTimeoutMs: config.breaker.resetTimeoutMs,
    now,
  });
  breaker.observe({
    onStateChange: (state, previous) => {
      logger.log(state === "open" ? "warn" : "info", `Kong circuit breaker ${previous} → ${state}`, {
        event: { action: "circuit-breaker-transition" },
        circuit_breaker: { state, previous },
      });
    },
  });
  const kong = new KongAdapter(
    createStrategy(config.kong.mode, config.kong.adminUrl, config.kong.adminToken),
    {
      timeoutMs: config.kong.connectionTimeoutMs,
      breaker,
    },
  );

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
  const cache = new TieredCredentialCache(memory, redisStore, config.jwt.secretIsBase64);
  const credentials = new CredentialService(kong, cache, {
    secretIsBase64: config.jwt.secretIsBase64,
    retryAfterSeconds: () => breaker.retryAfterSeconds(),
    provisionLockMs: provisionLockMs(config.breaker.timeoutMs),
    now,
  });
  const signer = new TokenSigner(config.jwt, () => Math.floor(now() / 1000));

  let draining = false;
  const health = createHealthHandlers({
    config,
    version,
    kongProbe: new KongHealthProbe(kong, KONG_PROBE_TTL_MS, now),
    cache: memory,
    isDraining: () => draining,
    startedAt: now(),
  });

  const cors = createCors(config.api.cors);
  const pipeline = createPipeline({ cors, logger, maxBodyBytes: MAX_BODY_BYTES });
  const { routes, fallback } = buildRoutes(
    {
      "/": { GET: createOpenApiHandler(config.api) },
      "/tokens": { GET: createTokensHandler({ credentials, signer, logger }) },
      "/health": { GET: health.health },
      "/health/live": { GET: health.live },
      "/health/ready": { GET: health.ready },
    },
    pipeline,
    cors,
  );

  return {
    config,
    logger,
    version,
    routes,
    fallback,
    /** Hard ceiling for Bun; the pipeline answers 413 with a problem body well below it. */
    maxRequestBodySize: MAX_BODY_BYTES * 4,
    /** Whether the shared cache tier is usable right now. */
    redisStatus(): "disabled" | "ready" | "down" {
      if (!redisConnection) return "disabled";
      return redisConnection.ready ? "ready" : "down";
    },
    startDraining() {
      draining = true;
    },
    get draining() {
      return draining;
    },
    /** Connects to Redis and listens for invalidations; never blocks or fails start-up. */
    start() {
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
    async close() {
      breaker.shutdown();
      await redisConnection?.close();
      logger.close();
    },
  };
}

export type App = ReturnType<typeof createApp>;
