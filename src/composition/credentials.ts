import { SecretCipher } from "../cache/cipher.ts";
import { MemoryCredentialCache } from "../cache/memory.ts";
import { RedisCredentialStore } from "../cache/redis.ts";
import { RedisConnection } from "../cache/redis-connection.ts";
import { TieredCredentialCache } from "../cache/tiered.ts";
import type { Config } from "../config/index.ts";
import type { Retirements } from "../credentials/retirement.ts";
import { CredentialService } from "../credentials/service.ts";
import { loadServiceKeySet, type ServiceKeySet } from "../jwt/service-keys.ts";
import { SigningPool } from "../jwt/signing-pool.ts";
import { KongAdapter } from "../kong/adapter.ts";
import { AnonymousConsumers } from "../kong/anonymous.ts";
import { consumerSecrets, type SigningPolicy, serviceKeys } from "../kong/credential.ts";
import { KongHealth } from "../kong/health.ts";
import { createStrategy } from "../kong/strategies.ts";
import { KongBreaker } from "../resilience/breaker.ts";
import { ConcurrencyLimiter } from "../resilience/concurrency.ts";
import type { Logger } from "../telemetry/logger.ts";
import type { ServiceMetrics } from "../telemetry/metrics.ts";
import type { Telemetry } from "../telemetry/sdk.ts";
import { cpuBudget } from "./cpu-budget.ts";

const UNKNOWN_CONSUMER_TTL_MS = 10_000;
const KONG_PROBE_TTL_MS = 5_000;
/** Calls beyond the pool wait in a queue this many times its size; beyond that, 503 at once. */
const KONG_QUEUE_FACTOR = 10;
/** Long enough for a create to finish under the breaker's budget, short enough to not stall a burst. */
export const provisionLockMs = (breakerTimeoutMs: number) => Math.max(1_000, breakerTimeoutMs * 2);

/** What the parts below report to and read the time from. */
export interface Observed {
  readonly logger: Logger;
  readonly metrics: ServiceMetrics;
  readonly telemetry: Telemetry;
  readonly now: () => number;
}

/** Kong behind its breaker and concurrency limit, and the health view of it. */
export function buildKong(config: Readonly<Config>, { logger, metrics, telemetry, now }: Observed) {
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
  const pool = config.kong.connectionPoolSize;
  const adapter = new KongAdapter(
    createStrategy(config.kong.mode, config.kong.adminUrl, config.kong.adminToken),
    {
      timeoutMs: config.kong.connectionTimeoutMs,
      breaker,
      tracing: telemetry.tracing,
      concurrency: new ConcurrencyLimiter(pool, pool * KONG_QUEUE_FACTOR),
      queueWaitMs: config.breaker.timeoutMs,
    },
  );
  const health = new KongHealth(adapter, KONG_PROBE_TTL_MS, now);
  breaker.observe({ onResult: (operation, outcome) => health.recordCall(operation, outcome) });
  return { breaker, adapter, health };
}

export type Kong = ReturnType<typeof buildKong>;

/** The service's key set in service-key mode (undefined otherwise), and the policy it signs by. */
export function signing(
  config: Readonly<Config>,
  logger: Logger,
): { keys: ServiceKeySet | undefined; policy: SigningPolicy; pool: SigningPool | undefined } {
  const keys = loadServiceKeySet(config.signing);
  const policy = keys ? serviceKeys(keys) : consumerSecrets(config.jwt.secretIsBase64);
  return { keys, policy, pool: buildSigningPool(config, logger) };
}

/**
 * The signing pool for service keys (src/jwt/signing-pool.ts): SIGNING_WORKERS threads, by default
 * one per core up to 4. None for HMAC secrets, which cost less to sign than to hand over.
 */
function buildSigningPool(config: Readonly<Config>, logger: Logger): SigningPool | undefined {
  const size = signingWorkers(config, cpuBudget);
  if (size === 0) return undefined;
  return new SigningPool({ size, warn: (message, reason) => logger.warn(`${message} (${reason})`) });
}

/**
 * How many signing threads the service runs: SIGNING_WORKERS, else one per core it may use (its CPU
 * quota counted: src/composition/cpu-budget.ts) up to 4; none for HMAC.
 */
export function signingWorkers(config: Readonly<Config>, cores: () => number): number {
  if (config.signing.mode !== "service-keys") return 0;
  // The cgroup files are read only when the count is needed: never with HMAC secrets or SIGNING_WORKERS set.
  return config.signing.workers ?? Math.min(MAX_DEFAULT_SIGNING_WORKERS, cores());
}
const MAX_DEFAULT_SIGNING_WORKERS = 4;

/** The memory tier, and the Redis tier when REDIS_ENABLED: the connection, the store, the cache over both. */
export function buildCache(
  config: Readonly<Config>,
  policy: SigningPolicy,
  { logger, metrics, now }: Observed,
) {
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
      lockWaitMs: config.redis.mode === "standalone" ? 0 : config.redis.failoverWaitMs,
    });
  const cache = new TieredCredentialCache(memory, redisStore, policy, {
    onRead: (tier, outcome, seconds) => metrics.cacheRead(tier, outcome, seconds),
  });
  return { memory, redisConnection, redisStore, cache };
}

export type Cache = ReturnType<typeof buildCache>;

/** The credential service over Kong and the cache; anonymous consumers are refused by both. */
export function buildCredentials(
  config: Readonly<Config>,
  policy: SigningPolicy,
  kong: Kong,
  cache: Cache,
  observed: Observed,
  retirements?: Retirements,
) {
  const { logger, metrics, now } = observed;
  const anonymous = new AnonymousConsumers(config.kong.anonymousConsumers);
  const credentials = new CredentialService(kong.adapter, cache.cache, {
    anonymous,
    policy,
    ...(retirements
      ? {
          onPicked: (consumerId, kongConsumerId, listing, pickedId) =>
            retirements.supersede(consumerId, kongConsumerId, listing, pickedId),
          onStale: (entry) => retirements.postpone(entry),
        }
      : {}),
    retryAfterSeconds: () => kong.breaker.retryAfterSeconds(),
    provisionLockMs: provisionLockMs(config.breaker.timeoutMs),
    refreshAhead: {
      ratio: config.cache.refreshAheadRatio,
      lifetimeMs: config.cache.ttlSeconds * 1000,
      onOutcome: (outcome) => metrics.refreshAhead(outcome),
      onError: (error) =>
        logger.warn("A background credential refresh failed; the cached entry is kept", { err: error }),
    },
    now,
  });
  return { anonymous, credentials };
}
