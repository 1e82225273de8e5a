import { MemoryRetirementStore, RedisRetirementStore } from "../cache/retirement-store.ts";
import type { Config } from "../config/index.ts";
import { createInvalidator } from "../credentials/invalidation.ts";
import { Retirements } from "../credentials/retirement.ts";
import { CredentialRotation } from "../credentials/rotation.ts";
import { createAdminHandlers } from "../handlers/admin.ts";
import type { AnonymousConsumers } from "../kong/anonymous.ts";
import type { SigningPolicy } from "../kong/credential.ts";
import { buildCredentials, type Cache, type Kong, type Observed, provisionLockMs } from "./credentials.ts";

/** How often due retirements are looked for; a retirement waits at most this past its time. */
export const RETIREMENT_SWEEP_MS = 60_000;
/** How long one instance holds a claimed retirement before another may take it again. */
const RETIREMENT_LEASE_MS = 60_000;

/**
 * How long a superseded credential stays in Kong: the longest lifetime of a token it signed, plus the
 * tolerance for a Kong node whose clock is behind (KONG_JWT_CLOCK_SKEW_SECONDS), plus CACHE_TTL_SECONDS:
 * an instance the invalidation did not reach (no Redis), or one whose lookup raced the rotation, signs
 * with its copy for at most that long after the rotation.
 */
export function retirementGraceMs(config: Pick<Config, "jwt" | "cache">): number {
  const { jwt, cache } = config;
  return (jwt.expirationMinutes * 60 + jwt.clockSkewSeconds + cache.ttlSeconds) * 1000;
}

/** Invalidation through the channel, and the record of superseded credentials with its sweeper. */
export function buildRetirements(
  config: Readonly<Config>,
  policy: SigningPolicy,
  kong: Kong,
  cache: Cache,
  { logger, metrics, now }: Observed,
) {
  const invalidate = createInvalidator(cache.cache, cache.redisStore);
  const retirements = new Retirements({
    kong: kong.adapter,
    policy,
    cache: cache.cache,
    invalidate,
    local: new MemoryRetirementStore(),
    ...(cache.redisConnection
      ? { shared: new RedisRetirementStore(cache.redisConnection, config.redis.keyPrefix) }
      : {}),
    graceMs: retirementGraceMs(config),
    leaseMs: RETIREMENT_LEASE_MS,
    logger,
    count: (outcome) => metrics.credentialOperation("retire", outcome),
    now,
  });
  return { invalidate, retirements };
}

export type RetirementParts = ReturnType<typeof buildRetirements>;

/** The admin handlers over a per-consumer rotation. */
export function buildAdmin(
  config: Readonly<Config>,
  policy: SigningPolicy,
  parts: { kong: Kong; cache: Cache; anonymous: AnonymousConsumers; retirement: RetirementParts },
  { logger, metrics, now }: Observed,
) {
  const { kong, cache, anonymous, retirement } = parts;
  const rotation = new CredentialRotation({
    kong: kong.adapter,
    policy,
    cache: cache.cache,
    retirements: retirement.retirements,
    invalidate: retirement.invalidate,
    provisionLockMs: provisionLockMs(config.breaker.timeoutMs),
    anonymous,
    now,
  });
  return createAdminHandlers({
    invalidate: retirement.invalidate,
    rotation,
    logger,
    metrics,
    retryAfterSeconds: () => kong.breaker.retryAfterSeconds(),
  });
}

/**
 * The credential service with its retirements, and the admin handlers where ADMIN_TOKEN is set: the
 * retirements are built first, since the service tells them what each Kong listing superseded.
 */
export function buildCredentialParts(
  config: Readonly<Config>,
  policy: SigningPolicy,
  kong: Kong,
  cache: Cache,
  observed: Observed,
) {
  const retirement = buildRetirements(config, policy, kong, cache, observed);
  const credentials = buildCredentials(config, policy, kong, cache, observed, retirement.retirements);
  const admin = config.security.adminToken
    ? buildAdmin(config, policy, { kong, cache, anonymous: credentials.anonymous, retirement }, observed)
    : undefined;
  return { retirements: retirement.retirements, credentials, admin };
}
