import type { HealthResponse, ReadyResponse } from "../api/schemas.ts";
import type { MemoryCredentialCache } from "../cache/memory.ts";
import type { Config } from "../config/index.ts";
import type { KongHealth } from "../kong/health.ts";
import type { KongBreaker } from "../resilience/breaker.ts";
import type { Telemetry } from "../telemetry/sdk.ts";
import { telemetryFailing } from "../telemetry/status.ts";
import { json } from "./json.ts";

/** degraded: connected, but commands time out (a hung Redis); the service carries on without it. */
export type RedisStatus = "disabled" | "ready" | "degraded" | "down";

export interface HealthDeps {
  readonly config: Readonly<Config>;
  readonly version: string;
  readonly kong: KongHealth;
  readonly breaker: KongBreaker;
  readonly memory: MemoryCredentialCache;
  readonly redisStatus: () => RedisStatus;
  /**
   * Whether invalidations published by other instances reach this one (RedisConnection.subscribed);
   * undefined without Redis.
   */
  readonly redisSubscribed?: () => boolean | undefined;
  readonly telemetry: Telemetry;
  readonly isDraining: () => boolean;
  readonly startedAt: number;
  readonly now: () => number;
}

/** A dependency's location without anything secret: no userinfo, no query. */
function publicUrl(url: string): string {
  const parsed = new URL(url);
  // URL.origin is "null" for schemes WHATWG does not know (redis://, rediss://); their path is a db index.
  if (parsed.origin === "null") return `${parsed.protocol}//${parsed.host}`;
  return `${parsed.origin}${parsed.pathname}`;
}

/** Where Redis is: its URL, or the sentinels and master name, or the cluster's seed nodes. */
function redisLocation(redis: HealthDeps["config"]["redis"]): string {
  const list = (nodes: readonly { host: string; port: number }[] | undefined) =>
    // Stryker disable next-line ArrayDeclaration: never used; the mode's settings require the addresses.
    (nodes ?? [])
      .map(({ host, port }) => (host.includes(":") ? `[${host}]:${port}` : `${host}:${port}`))
      .join(",");
  if (redis.mode === "sentinel")
    // Stryker disable next-line StringLiteral: never used; REDIS_MODE=sentinel requires the master name.
    return `sentinel://${list(redis.sentinels)}/${redis.sentinelMasterName ?? ""}`;
  if (redis.mode === "cluster") return `cluster://${list(redis.clusterNodes)}`;
  return publicUrl(redis.url);
}

type Assessment = Awaited<ReturnType<ReturnType<typeof assessor>>>;

/**
 * Kong: healthy when the newest evidence (probe or token request) is Kong answering and the breaker
 * is not open; degraded while it fails but stale copies are being served; unhealthy otherwise.
 * Overall: healthy when Kong and Redis are; degraded while tokens can still be issued (Kong down but
 * something to fall back on, or Redis down but Kong up); unhealthy when no token can be issued.
 */
function assessor(deps: HealthDeps) {
  const { config } = deps;
  // How long Redis keeps a copy in HIGH_AVAILABILITY mode: past that into an outage, none is left.
  const redisKeepsMs = config.cache.ttlSeconds * 1000 + config.cache.staleToleranceMinutes * 60_000;

  /**
   * Whether a token can be issued without Kong: a usable copy in memory, or, with HIGH_AVAILABILITY,
   * a connected Redis early enough in the outage that copies written before it may still be there.
   */
  function canFallBack(redis: RedisStatus, failingSince: number | undefined): boolean {
    if (deps.memory.hasUsable()) return true;
    if (redis !== "ready" || !config.cache.highAvailability) return false;
    return failingSince === undefined || deps.now() - failingSince < redisKeepsMs;
  }

  return async function assess() {
    const kong = await deps.kong.observation();
    const breaker = deps.breaker.state;
    const connection = deps.redisStatus();
    const subscribed = deps.redisSubscribed?.();
    // Taking commands but deaf to the invalidation channel: another instance's invalidation or
    // rotation does not reach this one's memory, which signs with the old credential until its TTL.
    const redis = connection === "ready" && subscribed === false ? "degraded" : connection;
    const kongUsable = kong.answering && breaker !== "open";
    // Copies are read through the command connection: one deaf to invalidations still has them.
    const fallback = !kongUsable && canFallBack(connection, kong.failingSince);
    const kongStatus = kongUsable
      ? "healthy"
      : breaker !== "open" && kong.staleServed && fallback
        ? "degraded"
        : "unhealthy";
    const status = kongUsable
      ? redis === "down" || redis === "degraded"
        ? "degraded"
        : "healthy"
      : fallback
        ? "degraded"
        : "unhealthy";
    return { status, kong, kongStatus, breaker, redis, subscribed } as const;
  };
}

/** What /health says of each dependency. */
function dependencies(deps: HealthDeps, { kong, kongStatus, breaker, redis, subscribed }: Assessment) {
  const { config } = deps;
  return {
    kong: {
      status: kongStatus,
      mode: config.kong.mode,
      url: publicUrl(config.kong.adminUrl),
      responseTime: kong.responseTimeMs,
      breaker,
      ...(kong.failingSince === undefined ? {} : { failingSince: new Date(kong.failingSince).toISOString() }),
      ...(kong.error ? { error: kong.error } : {}),
    },
    cache: {
      status: "healthy",
      type: redis === "disabled" ? "memory" : "memory+redis",
      ...deps.memory.stats(),
    },
    ...(redis === "disabled"
      ? {}
      : {
          redis: {
            status: redis === "ready" ? "healthy" : redis === "degraded" ? "degraded" : "unhealthy",
            mode: config.redis.mode,
            url: redisLocation(config.redis),
            highAvailability: config.cache.highAvailability,
            ...(subscribed === undefined
              ? {}
              : { invalidations: subscribed ? "subscribed" : "not subscribed" }),
          },
        }),
    telemetry: {
      status: telemetryFailing(deps.telemetry) ? "degraded" : "healthy",
      mode: deps.telemetry.mode,
      ...(deps.telemetry.endpoints ? { endpoints: deps.telemetry.endpoints } : {}),
    },
  } satisfies HealthResponse["dependencies"];
}

/** /health, /health/live and /health/ready. */
export function createHealthHandlers(deps: HealthDeps) {
  // startedAt was read from the same clock.
  const uptimeSeconds = () => Math.round((deps.now() - deps.startedAt) / 1000);
  const assess = assessor(deps);

  async function health(): Promise<Response> {
    const assessment = await assess();
    const body: HealthResponse = {
      status: assessment.status,
      timestamp: new Date().toISOString(),
      uptime: uptimeSeconds(),
      version: deps.version,
      environment: deps.config.app.environment,
      dependencies: dependencies(deps, assessment),
    };
    return json(body, assessment.status === "unhealthy" ? 503 : 200);
  }

  /** Liveness: the process answers. Never depends on Kong, or Kubernetes would restart healthy pods. */
  function live(): Response {
    return json({ status: "alive", timestamp: new Date().toISOString(), uptime: uptimeSeconds() });
  }

  /**
   * Readiness: false while draining, or while no token can be issued (Kong unusable and nothing to
   * fall back on). Not false merely because Kong is down: pods that can still serve stay in the
   * Service, and all of them leave it only when none could answer anything but 503 (docs/operations.md).
   */
  async function ready(): Promise<Response> {
    const answer = (body: ReadyResponse, code = 200) => json(body, code);
    if (deps.isDraining()) return answer({ status: "not_ready", reason: "shutting down" }, 503);
    const { status } = await assess();
    if (status === "unhealthy") return answer({ status: "not_ready", reason: "cannot issue tokens" }, 503);
    return answer({ status: "ready", timestamp: new Date().toISOString() });
  }

  return { health, live, ready };
}
