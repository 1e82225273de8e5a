import type { Config } from "../config/index.ts";
import type { Retirements } from "../credentials/retirement.ts";
import type { SigningPool } from "../jwt/signing-pool.ts";
import type { Profiler } from "../profiling/profiler.ts";
import type { KongBreaker } from "../resilience/breaker.ts";
import type { RateLimiter } from "../security/rate-limiter.ts";
import type { Logger } from "../telemetry/logger.ts";
import type { Telemetry } from "../telemetry/sdk.ts";
import type { Cache } from "./credentials.ts";
import { RETIREMENT_SWEEP_MS } from "./rotation.ts";

export interface LifecycleParts {
  readonly config: Readonly<Config>;
  readonly logger: Logger;
  readonly telemetry: Telemetry;
  readonly breaker: KongBreaker;
  readonly rateLimiter: RateLimiter;
  readonly cache: Cache;
  /** Superseded credentials' sweeper: started with the service, stopped before Redis closes. */
  readonly retirements: Pick<Retirements, "start" | "stop">;
  readonly profiler: Profiler | undefined;
  /** Stopped once requests are drained: a signature still asked for is made on the request thread. */
  readonly signingPool: Pick<SigningPool, "close"> | undefined;
}

/**
 * What runs besides requests, and in which order it starts and stops: the rate limiter's sync, the
 * Redis connection and its invalidation listener, draining on shutdown, and the final flush.
 */
export function createLifecycle({
  config,
  logger,
  telemetry,
  breaker,
  rateLimiter,
  cache,
  retirements,
  profiler,
  signingPool,
}: LifecycleParts) {
  let draining = false;
  return {
    isDraining: () => draining,
    startDraining() {
      draining = true;
    },
    /** Connects to Redis and listens for invalidations; never blocks or fails start-up. */
    start() {
      rateLimiter.start();
      retirements.start(RETIREMENT_SWEEP_MS);
      const { redisConnection, redisStore } = cache;
      if (!redisConnection || !redisStore) return;
      if (config.app.environment === "production" && !config.cache.encryptionKey) {
        logger.warn("Redis holds credential secrets in clear: set CACHE_ENCRYPTION_KEY to encrypt them");
      }
      redisConnection
        .connect()
        .catch((error: unknown) => logger.error("Redis client failed to load", { err: error }));
      redisStore
        .listenForInvalidations((consumerId) => {
          void cache.cache.forget(consumerId);
          logger.info("Consumer invalidated through Redis", { consumer: { id: consumerId } });
        })
        .catch((error: unknown) => logger.warn("Redis invalidation listener failed", { err: error }));
    },
    /** Stops background work and flushes telemetry within `timeoutMs`. */
    async close(timeoutMs = 5_000) {
      // Lines still held (a stop before the first request) go to the OTLP transports before their last flush.
      logger.release();
      rateLimiter.stop();
      signingPool?.close();
      await retirements.stop();
      await profiler?.close();
      breaker.shutdown();
      await cache.redisConnection?.close();
      await telemetry.shutdown(timeoutMs);
      logger.close();
    },
  };
}

export type Lifecycle = ReturnType<typeof createLifecycle>;
