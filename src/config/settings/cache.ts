import { z } from "zod";
import { type Problem, setting } from "../setting.ts";
import { bool, int } from "../values.ts";
import { isWeakKey } from "../weak-values.ts";

/** The credential caches (memory, then Redis) and the breaker that decides when Kong is unusable. */

/**
 * 32 random bytes, base64 or base64url (Buffer's base64 decoder reads both alphabets and skips
 * spaces); kept as bytes so the value itself never travels further.
 */
const encryptionKey = z.string().transform((value, ctx) => {
  const bytes = Buffer.from(value, "base64");
  if (bytes.length !== 32) {
    ctx.addIssue("must be 32 bytes, base64-encoded (openssl rand -base64 32)");
    return z.NEVER;
  }
  return new Uint8Array(bytes);
});

export const cache = {
  ttlSeconds: setting({
    env: "CACHE_TTL_SECONDS",
    schema: int(1, 86_400).prefault(300),
    description: "How long a credential is used from cache before Kong is asked again",
  }),
  refreshAheadRatio: setting({
    env: "CACHE_REFRESH_AHEAD_RATIO",
    schema: z.coerce
      .number({ error: "must be a number" })
      .refine(
        (ratio) => ratio === 0 || (ratio >= 0.5 && ratio <= 0.95),
        "must be 0 (off) or from 0.5 to 0.95: earlier refreshes multiply Kong's traffic, later ones leave no time",
      )
      .prefault(0.8),
    description:
      "Share of CACHE_TTL_SECONDS after which a requested credential is refreshed from Kong in the background (0: off)",
  }),
  maxSize: setting({
    env: "CACHE_MAX_SIZE",
    schema: int(1, 10_000_000).prefault(1000),
    description: "Most consumers kept in the memory cache (least recently used evicted)",
  }),
  staleToleranceMinutes: setting({
    env: "STALE_DATA_TOLERANCE_MINUTES",
    schema: int(1, 120).prefault(60),
    description: "How long past its TTL a credential is kept to sign with while Kong is unusable",
  }),
  highAvailability: setting({
    env: "HIGH_AVAILABILITY",
    schema: bool.prefault(false),
    description: "Also keep the stale copies in Redis, so a new instance can ride out a Kong outage",
    rules: [
      (highAvailability, config): Problem =>
        highAvailability === true && config.redis.enabled !== true
          ? "needs REDIS_ENABLED=true: the stale copies are kept in Redis"
          : undefined,
    ],
  }),
  encryptionKey: setting({
    env: "CACHE_ENCRYPTION_KEY",
    schema: encryptionKey.optional(),
    secret: true,
    description: "32 bytes, base64: encrypts credential secrets stored in Redis (AES-256-GCM)",
    production: [
      // A key that failed its own check is no Uint8Array.
      (key): Problem =>
        key instanceof Uint8Array && isWeakKey(key)
          ? "is not random (too few distinct bytes); generate one: openssl rand -base64 32"
          : undefined,
    ],
  }),
};

export const breaker = {
  timeoutMs: setting({
    env: "CIRCUIT_BREAKER_TIMEOUT",
    schema: int(100, 10_000).prefault(500),
    description: "Longest a Kong Admin API operation may take, retry included, before it counts as failed",
  }),
  errorThresholdPercentage: setting({
    env: "CIRCUIT_BREAKER_ERROR_THRESHOLD",
    schema: int(1, 100).prefault(50),
    description: "Percentage of failed Kong operations in a 10 s window that opens the breaker",
  }),
  resetTimeoutMs: setting({
    env: "CIRCUIT_BREAKER_RESET_TIMEOUT",
    schema: int(1_000, 300_000).prefault(30_000),
    description: "How long the breaker stays open before one trial call is let through",
  }),
};
