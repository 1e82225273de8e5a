import { describe, expect, test } from "bun:test";
import { loadConfig } from "../../../src/config/index.ts";
import { baseEnv, problemsOf } from "../../support/config.ts";

type Env = Record<string, string | undefined>;

/**
 * Every whole-number setting, its documented range, and what else must be set for its extremes to be
 * valid on their own (the relations between settings are tested in config.test.ts).
 */
const RANGES: [name: string, min: number, max: number, companions?: Env][] = [
  ["PORT", 0, 65_535],
  ["SHUTDOWN_TIMEOUT_MS", 0, 120_000, { SHUTDOWN_DRAIN_MS: "0" }],
  ["KONG_CONNECTION_TIMEOUT", 100, 60_000],
  ["JWT_EXPIRATION_MINUTES", 1, 60, { KONG_JWT_CLOCK_SKEW_SECONDS: "0" }],
  ["KONG_JWT_CLOCK_SKEW_SECONDS", 0, 300],
  ["CACHE_TTL_SECONDS", 1, 86_400],
  ["CACHE_MAX_SIZE", 1, 10_000_000],
  ["STALE_DATA_TOLERANCE_MINUTES", 1, 120],
  ["CIRCUIT_BREAKER_TIMEOUT", 100, 10_000],
  ["CIRCUIT_BREAKER_ERROR_THRESHOLD", 1, 100],
  ["CIRCUIT_BREAKER_RESET_TIMEOUT", 1_000, 300_000],
  ["REDIS_DB", 0, 15],
  ["REDIS_MAX_RETRIES", 1, 10],
  ["REDIS_RETRY_DELAY_MS", 50, 5_000],
  ["REDIS_COMMAND_TIMEOUT_MS", 10, 30_000],
  ["REDIS_CONNECT_TIMEOUT_MS", 100, 30_000],
  ["OTEL_EXPORTER_OTLP_TIMEOUT", 1_000, 60_000],
  ["OTEL_BSP_MAX_EXPORT_BATCH_SIZE", 1, 5_000, { OTEL_BSP_MAX_QUEUE_SIZE: "50000" }],
  ["OTEL_BSP_MAX_QUEUE_SIZE", 1, 50_000, { OTEL_BSP_MAX_EXPORT_BATCH_SIZE: "1" }],
  ["OTEL_METRIC_EXPORT_INTERVAL", 100, 3_600_000],
  ["RATE_LIMIT_WINDOW_MS", 1_000, 3_600_000],
  ["RATE_LIMIT_MAX_REQUESTS", 1, 1_000_000],
  ["RATE_LIMIT_SYNC_MS", 10, 10_000],
  ["RATE_LIMIT_MAX_CONSUMERS", 1_000, 10_000_000],
  ["KONG_CONNECTION_POOL_SIZE", 1, 500],
  ["SIGNING_WORKERS", 0, 64],
];

describe("every whole-number setting: both ends accepted, one beyond refused with its range", () => {
  test.each(RANGES)("%s: %d … %d", (name, min, max, companions = {}) => {
    const env = { ...baseEnv, ...companions };
    for (const value of [min, max]) {
      // Loading succeeds; the value arrives as the number given, from the string in the environment.
      expect(() => loadConfig({ ...env, [name]: String(value) })).not.toThrow();
    }
    // Only this variable's own problem: a value out of range may also break a relation with another.
    const own = (value: string) =>
      problemsOf({ ...env, [name]: value }).filter((p) => p.startsWith(`${name}:`));
    expect(own(String(min - 1))).toEqual([`${name}: must be at least ${min}`]);
    expect(own(String(max + 1))).toEqual([`${name}: must be at most ${max}`]);
    expect(own(`${min}.5`)).toEqual([`${name}: must be a whole number`]);
    expect(own("ten")).toEqual([`${name}: must be a whole number`]);
  });

  test("SHUTDOWN_DRAIN_MS: 0 … 120000, and in practice below SHUTDOWN_TIMEOUT_MS (at most 120000)", () => {
    const env = { ...baseEnv, SHUTDOWN_TIMEOUT_MS: "120000" };
    expect(loadConfig({ ...env, SHUTDOWN_DRAIN_MS: "0" }).app.shutdownDrainMs).toBe(0);
    expect(loadConfig({ ...env, SHUTDOWN_DRAIN_MS: "119999" }).app.shutdownDrainMs).toBe(119_999);
    expect(problemsOf({ ...env, SHUTDOWN_DRAIN_MS: "-1" })).toEqual([
      "SHUTDOWN_DRAIN_MS: must be at least 0",
    ]);
    expect(problemsOf({ ...env, SHUTDOWN_DRAIN_MS: "120001" })).toContain(
      "SHUTDOWN_DRAIN_MS: must be at most 120000",
    );
  });

  test("the numbers arrive as numbers, at the place each variable names", () => {
    const config = loadConfig({
      ...baseEnv,
      PORT: "8081",
      SHUTDOWN_TIMEOUT_MS: "20000",
      SHUTDOWN_DRAIN_MS: "7000",
      KONG_CONNECTION_TIMEOUT: "2500",
      JWT_EXPIRATION_MINUTES: "5",
      KONG_JWT_CLOCK_SKEW_SECONDS: "12",
      CACHE_TTL_SECONDS: "61",
      CACHE_MAX_SIZE: "2048",
      STALE_DATA_TOLERANCE_MINUTES: "17",
      CIRCUIT_BREAKER_TIMEOUT: "700",
      CIRCUIT_BREAKER_ERROR_THRESHOLD: "33",
      CIRCUIT_BREAKER_RESET_TIMEOUT: "4000",
      REDIS_DB: "3",
      REDIS_MAX_RETRIES: "4",
      REDIS_RETRY_DELAY_MS: "150",
      REDIS_COMMAND_TIMEOUT_MS: "250",
      REDIS_CONNECT_TIMEOUT_MS: "3000",
      OTEL_EXPORTER_OTLP_TIMEOUT: "9000",
      OTEL_BSP_MAX_EXPORT_BATCH_SIZE: "64",
      OTEL_BSP_MAX_QUEUE_SIZE: "128",
      OTEL_METRIC_EXPORT_INTERVAL: "15000",
      OTEL_TRACES_SAMPLER_ARG: "0.25",
      RATE_LIMIT_WINDOW_MS: "30000",
      RATE_LIMIT_MAX_REQUESTS: "77",
      RATE_LIMIT_SYNC_MS: "250",
      RATE_LIMIT_MAX_CONSUMERS: "5000",
      KONG_CONNECTION_POOL_SIZE: "25",
    });
    expect(config.app).toMatchObject({ port: 8081, shutdownTimeoutMs: 20_000, shutdownDrainMs: 7000 });
    expect(config.kong).toMatchObject({ connectionTimeoutMs: 2500, connectionPoolSize: 25 });
    expect(config.jwt).toMatchObject({ expirationMinutes: 5, clockSkewSeconds: 12 });
    expect(config.cache).toMatchObject({ ttlSeconds: 61, maxSize: 2048, staleToleranceMinutes: 17 });
    expect(config.breaker).toEqual({ timeoutMs: 700, errorThresholdPercentage: 33, resetTimeoutMs: 4000 });
    expect(config.redis).toMatchObject({
      db: 3,
      maxRetries: 4,
      retryDelayMs: 150,
      commandTimeoutMs: 250,
      connectTimeoutMs: 3000,
    });
    expect(config.telemetry).toMatchObject({
      exportTimeoutMs: 9000,
      maxExportBatchSize: 64,
      maxQueueSize: 128,
      metricExportIntervalMs: 15_000,
      samplerArg: 0.25,
    });
    expect(config.security).toMatchObject({
      rateLimitWindowMs: 30_000,
      rateLimitMaxRequests: 77,
      rateLimitSyncMs: 250,
      rateLimitMaxConsumers: 5000,
    });
  });

  test("OTEL_TRACES_SAMPLER_ARG is a ratio: 0 and 1 accepted, beyond refused, not a number refused", () => {
    expect(loadConfig({ ...baseEnv, OTEL_TRACES_SAMPLER_ARG: "0" }).telemetry.samplerArg).toBe(0);
    expect(loadConfig({ ...baseEnv, OTEL_TRACES_SAMPLER_ARG: "1" }).telemetry.samplerArg).toBe(1);
    for (const value of ["-0.01", "1.01"]) {
      expect(problemsOf({ ...baseEnv, OTEL_TRACES_SAMPLER_ARG: value })).toEqual([
        expect.stringMatching(/^OTEL_TRACES_SAMPLER_ARG: /),
      ]);
    }
    expect(problemsOf({ ...baseEnv, OTEL_TRACES_SAMPLER_ARG: "half" })).toEqual([
      "OTEL_TRACES_SAMPLER_ARG: must be a number",
    ]);
  });

  test("CACHE_REFRESH_AHEAD_RATIO: 0 turns it off, 0.5 … 0.95 accepted, anything else refused with the range", () => {
    const ratio = (value: string) => loadConfig({ ...baseEnv, CACHE_REFRESH_AHEAD_RATIO: value }).cache;
    expect(ratio("0").refreshAheadRatio).toBe(0);
    expect(ratio("0.5").refreshAheadRatio).toBe(0.5);
    expect(ratio("0.95").refreshAheadRatio).toBe(0.95);
    const refused =
      "CACHE_REFRESH_AHEAD_RATIO: must be 0 (off) or from 0.5 to 0.95: earlier refreshes multiply Kong's traffic, later ones leave no time";
    for (const value of ["0.49", "0.96", "-0.1", "1"]) {
      expect(problemsOf({ ...baseEnv, CACHE_REFRESH_AHEAD_RATIO: value })).toEqual([refused]);
    }
    expect(problemsOf({ ...baseEnv, CACHE_REFRESH_AHEAD_RATIO: "soon" })).toEqual([
      "CACHE_REFRESH_AHEAD_RATIO: must be a number",
    ]);
  });
});
