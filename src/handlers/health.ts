import type { MemoryCredentialCache } from "../cache/memory.ts";
import type { Config } from "../config/index.ts";
import type { KongHealthProbe } from "../kong/health.ts";
import type { HealthResponse, ReadyResponse } from "../openapi/schemas.ts";
import type { KongBreaker } from "../resilience/breaker.ts";
import type { Telemetry } from "../telemetry/sdk.ts";
import { json } from "./json.ts";

/** degraded: connected, but commands time out (a hung Redis); the service carries on without it. */
export type RedisStatus = "disabled" | "ready" | "degraded" | "down";

export interface HealthDeps {
  readonly config: Readonly<Config>;
  readonly version: string;
  readonly kongProbe: KongHealthProbe;
  readonly breaker: KongBreaker;
  readonly memory: MemoryCredentialCache;
  readonly redisStatus: () => RedisStatus;
  readonly telemetry: Telemetry;
  readonly isDraining: () => boolean;
  readonly startedAt: number;
}

/** A dependency's location without anything secret: no userinfo, no query. */
export function publicUrl(url: string): string {
  const parsed = new URL(url);
  // URL.origin is "null" for schemes WHATWG does not know (redis://, rediss://); their path is a db index.
  if (parsed.origin === "null") return `${parsed.protocol}//${parsed.host}`;
  return `${parsed.origin}${parsed.pathname}`;
}

/**
 * healthy: Kong answers and every configured dependency is up. degraded: tokens can still be issued
 * (Kong down but credentials cached, or Redis down but Kong up). unhealthy: no token can be issued.
 */
export function createHealthHandlers(deps: HealthDeps) {
  const { config } = deps;
  const uptimeSeconds = () => Math.round((Date.now() - deps.startedAt) / 1000);

  async function assess() {
    const kong = await deps.kongProbe.check();
    const breaker = deps.breaker.state;
    const redis = deps.redisStatus();
    const kongUsable = kong.healthy && breaker !== "open";
    const cachedCredentials = deps.memory.stats().size;
    const canFallBack = cachedCredentials > 0 || (redis === "ready" && config.cache.highAvailability);
    const status = kongUsable
      ? redis === "down" || redis === "degraded"
        ? "degraded"
        : "healthy"
      : canFallBack
        ? "degraded"
        : "unhealthy";
    return { status, kong, breaker, redis, kongUsable } as const;
  }

  async function health(): Promise<Response> {
    const { status, kong, breaker, redis, kongUsable } = await assess();
    const lastFailed = (["traces", "metrics", "logs"] as const).some(
      (signal) => deps.telemetry.stats.lastOf(signal)?.ok === false,
    );
    const body: HealthResponse = {
      status,
      timestamp: new Date().toISOString(),
      uptime: uptimeSeconds(),
      version: deps.version,
      environment: config.app.environment,
      dependencies: {
        kong: {
          status: kongUsable ? "healthy" : "unhealthy",
          mode: config.kong.mode,
          url: publicUrl(config.kong.adminUrl),
          responseTime: kong.responseTimeMs,
          breaker,
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
                url: publicUrl(config.redis.url),
                highAvailability: config.cache.highAvailability,
              },
            }),
        telemetry: {
          status: lastFailed ? "degraded" : "healthy",
          mode: deps.telemetry.mode,
          ...(deps.telemetry.endpoints ? { endpoints: deps.telemetry.endpoints } : {}),
        },
      },
    };
    return json(body, status === "unhealthy" ? 503 : 200);
  }

  /** Liveness: the process answers. Never depends on Kong, or Kubernetes would restart healthy pods. */
  function live(): Response {
    return json({ status: "alive", timestamp: new Date().toISOString(), uptime: uptimeSeconds() });
  }

  /** Readiness: false while draining or while no token could be issued. */
  async function ready(): Promise<Response> {
    const answer = (body: ReadyResponse, code = 200) => json(body, code);
    if (deps.isDraining()) return answer({ status: "not_ready", reason: "shutting down" }, 503);
    const { status } = await assess();
    if (status === "unhealthy") return answer({ status: "not_ready", reason: "cannot issue tokens" }, 503);
    return answer({ status: "ready", timestamp: new Date().toISOString() });
  }

  return { health, live, ready };
}
