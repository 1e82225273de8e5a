import { describe, expect, test } from "bun:test";
import type { HealthResponse } from "../../../src/api/schemas.ts";
import type { MemoryCredentialCache } from "../../../src/cache/memory.ts";
import { createHealthHandlers, type HealthDeps, type RedisStatus } from "../../../src/handlers/health.ts";
import type { KongHealth, KongObservation } from "../../../src/kong/health.ts";
import type { KongBreaker } from "../../../src/resilience/breaker.ts";
import { consoleTelemetry } from "../../../src/telemetry/sdk.ts";
import { testConfig } from "../../support/config.ts";

/**
 * What /health and /health/ready conclude from what this instance knows: the rules of
 * docs/operations.md ("Health"), over every combination that changes an answer, on an injected
 * clock. The integration tests (health*.test.ts) drive the same handlers through real outages.
 */

const NOW = Date.UTC(2030, 5, 1);
/** CACHE_TTL_SECONDS=300 plus STALE_DATA_TOLERANCE_MINUTES=30: how long Redis keeps a copy (HA). */
const REDIS_KEEPS_MS = 300_000 + 30 * 60_000;

interface World {
  answering: boolean;
  staleServed: boolean;
  failingSince?: number;
  error?: string;
  breaker: "closed" | "open" | "halfOpen";
  memoryUsable: boolean;
  redis: RedisStatus;
  subscribed?: boolean;
  highAvailability: boolean;
  draining: boolean;
}

const KONG_UP: World = {
  answering: true,
  staleServed: false,
  breaker: "closed",
  memoryUsable: false,
  redis: "ready",
  subscribed: true,
  highAvailability: false,
  draining: false,
};

/** Kong failing since a second ago, with nothing in memory: only Redis can help. */
const KONG_DOWN: World = {
  ...KONG_UP,
  answering: false,
  failingSince: NOW - 1_000,
  error: "GET /status: timeout",
};

function handlers(world: World, overrides: Partial<Pick<HealthDeps, "telemetry" | "startedAt">> = {}) {
  const config = testConfig({
    REDIS_ENABLED: world.redis === "disabled" ? "false" : "true",
    HIGH_AVAILABILITY: String(world.highAvailability),
    CACHE_TTL_SECONDS: "300",
    STALE_DATA_TOLERANCE_MINUTES: "30",
  });
  const observation: KongObservation = {
    answering: world.answering,
    staleServed: world.staleServed,
    responseTimeMs: 7,
    ...(world.failingSince === undefined ? {} : { failingSince: world.failingSince }),
    ...(world.error === undefined ? {} : { error: world.error }),
  };
  const deps: HealthDeps = {
    config,
    version: "9.9.9",
    kong: { observation: async () => observation } as unknown as KongHealth,
    breaker: { state: world.breaker } as unknown as KongBreaker,
    memory: {
      hasUsable: () => world.memoryUsable,
      stats: () => ({ size: 3, hits: 2, misses: 1, ttlMs: 300_000 }),
    } as unknown as MemoryCredentialCache,
    redisStatus: () => world.redis,
    ...(world.redis === "disabled" ? {} : { redisSubscribed: () => world.subscribed }),
    telemetry: consoleTelemetry(config.telemetry, config.app.environment),
    isDraining: () => world.draining,
    startedAt: NOW,
    now: () => NOW,
    ...overrides,
  };
  return createHealthHandlers(deps);
}

async function health(world: World) {
  const response = await handlers(world).health();
  const body = (await response.json()) as HealthResponse;
  return { code: response.status, body, kong: body.dependencies.kong, redis: body.dependencies.redis };
}

async function ready(world: World) {
  const response = await handlers(world).ready();
  return { code: response.status, body: (await response.json()) as { status: string; reason?: string } };
}

describe("/health while Kong answers", () => {
  test("Redis ready and subscribed: healthy, and ready", async () => {
    const shown = await health(KONG_UP);
    expect(shown.code).toBe(200);
    expect(shown.body.status).toBe("healthy");
    expect(shown.kong).toMatchObject({ status: "healthy", breaker: "closed", responseTime: 7 });
    expect(shown.kong).not.toHaveProperty("failingSince");
    expect(shown.kong).not.toHaveProperty("error");
    expect(shown.redis).toMatchObject({
      status: "healthy",
      invalidations: "subscribed",
      highAvailability: false,
    });
    expect(shown.body.dependencies.cache).toEqual({
      status: "healthy",
      type: "memory+redis",
      size: 3,
      hits: 2,
      misses: 1,
      ttlMs: 300_000,
    });
    expect(await ready(KONG_UP)).toMatchObject({ code: 200, body: { status: "ready" } });
  });

  test.each([
    ["down", "unhealthy"],
    ["degraded", "degraded"],
  ] as const)(
    "Redis %s: degraded overall (tokens still come from Kong), Redis %s, still ready",
    async (redis, shownAs) => {
      const shown = await health({ ...KONG_UP, redis });
      expect(shown.code).toBe(200);
      expect(shown.body.status).toBe("degraded");
      expect(shown.kong.status).toBe("healthy");
      expect(shown.redis?.status).toBe(shownAs);
      expect((await ready({ ...KONG_UP, redis })).code).toBe(200);
    },
  );

  test("Redis ready but not subscribed to invalidations: Redis degraded, and so is the whole", async () => {
    const shown = await health({ ...KONG_UP, subscribed: false });
    expect(shown.body.status).toBe("degraded");
    expect(shown.redis).toMatchObject({ status: "degraded", invalidations: "not subscribed" });
    expect((await ready({ ...KONG_UP, subscribed: false })).code).toBe(200);
  });

  test("not subscribed while Redis is down: unhealthy Redis (down wins over deaf)", async () => {
    const shown = await health({ ...KONG_UP, redis: "down", subscribed: false });
    expect(shown.redis).toMatchObject({ status: "unhealthy", invalidations: "not subscribed" });
  });

  test("nothing subscribed yet: no invalidations field, Redis healthy", async () => {
    const { subscribed: _, ...world } = KONG_UP;
    const shown = await health(world);
    expect(shown.body.status).toBe("healthy");
    expect(shown.redis?.status).toBe("healthy");
    expect(shown.redis).not.toHaveProperty("invalidations");
  });

  test("without Redis: no redis entry, a memory cache, healthy", async () => {
    const shown = await health({ ...KONG_UP, redis: "disabled" });
    expect(shown.body.status).toBe("healthy");
    expect(shown.body.dependencies).not.toHaveProperty("redis");
    expect(shown.body.dependencies.cache.type).toBe("memory");
  });

  test("the breaker half-open while Kong answers: Kong healthy", async () => {
    const shown = await health({ ...KONG_UP, breaker: "halfOpen" });
    expect(shown.kong).toMatchObject({ status: "healthy", breaker: "halfOpen" });
    expect(shown.body.status).toBe("healthy");
  });
});

describe("/health while Kong is unusable", () => {
  test("the breaker open though the newest evidence is Kong answering: Kong unhealthy; memory to fall back on keeps it degraded", async () => {
    const world: World = { ...KONG_UP, breaker: "open", memoryUsable: true, staleServed: true };
    const shown = await health(world);
    expect(shown.kong).toMatchObject({ status: "unhealthy", breaker: "open" });
    expect(shown.body.status).toBe("degraded");
    expect(shown.code).toBe(200);
    expect((await ready(world)).code).toBe(200);
  });

  test("failing, stale copies served from memory: Kong degraded, overall degraded, with when and why it fails", async () => {
    const world: World = { ...KONG_DOWN, memoryUsable: true, staleServed: true };
    const shown = await health(world);
    expect(shown.kong).toMatchObject({
      status: "degraded",
      failingSince: new Date(NOW - 1_000).toISOString(),
      error: "GET /status: timeout",
    });
    expect(shown.body.status).toBe("degraded");
  });

  test("failing, something in memory but no stale copy served yet: Kong unhealthy, overall degraded", async () => {
    const shown = await health({ ...KONG_DOWN, memoryUsable: true });
    expect(shown.kong.status).toBe("unhealthy");
    expect(shown.body.status).toBe("degraded");
  });

  test("a stale copy was served but nothing is left to fall back on: Kong unhealthy, overall unhealthy (503), not ready", async () => {
    const world: World = { ...KONG_DOWN, staleServed: true };
    const shown = await health(world);
    expect(shown.kong.status).toBe("unhealthy");
    expect(shown.body.status).toBe("unhealthy");
    expect(shown.code).toBe(503);
    expect(await ready(world)).toEqual({
      code: 503,
      body: { status: "not_ready", reason: "cannot issue tokens" },
    });
  });

  test("HIGH_AVAILABILITY with Redis ready: degraded for as long as Redis may still hold copies written before the outage", async () => {
    const world: World = { ...KONG_DOWN, highAvailability: true };
    const early = { ...world, failingSince: NOW - REDIS_KEEPS_MS + 1 };
    expect((await health(early)).body.status).toBe("degraded");
    expect((await ready(early)).code).toBe(200);
    const late = { ...world, failingSince: NOW - REDIS_KEEPS_MS };
    expect((await health(late)).body.status).toBe("unhealthy");
    expect((await ready(late)).code).toBe(503);
  });

  test("HIGH_AVAILABILITY with Redis taking commands but deaf to invalidations: its copies still serve, degraded and ready", async () => {
    const world: World = { ...KONG_DOWN, highAvailability: true, subscribed: false };
    const shown = await health(world);
    expect(shown.body.status).toBe("degraded");
    expect(shown.redis).toMatchObject({ status: "degraded", invalidations: "not subscribed" });
    expect((await ready(world)).code).toBe(200);
  });

  test("HIGH_AVAILABILITY and no outage start known: Redis may hold copies, degraded", async () => {
    const { failingSince: _, ...world } = { ...KONG_DOWN, highAvailability: true };
    expect((await health(world)).body.status).toBe("degraded");
  });

  test.each([
    ["without HIGH_AVAILABILITY", { highAvailability: false }],
    ["with HIGH_AVAILABILITY but Redis down", { highAvailability: true, redis: "down" }],
    ["with HIGH_AVAILABILITY but Redis hung", { highAvailability: true, redis: "degraded" }],
  ] as const)("nothing in memory, %s: unhealthy", async (_, change) => {
    const world: World = { ...KONG_DOWN, ...change };
    expect((await health(world)).body.status).toBe("unhealthy");
    expect((await ready(world)).code).toBe(503);
  });

  test("the breaker open with Redis holding copies (HIGH_AVAILABILITY): Kong unhealthy even after serving stale ones, overall degraded", async () => {
    const world: World = { ...KONG_DOWN, breaker: "open", staleServed: true, highAvailability: true };
    const shown = await health(world);
    expect(shown.kong.status).toBe("unhealthy");
    expect(shown.body.status).toBe("degraded");
  });
});

describe("/health/ready while draining", () => {
  test("not ready, because it is shutting down, however healthy", async () => {
    expect(await ready({ ...KONG_UP, draining: true })).toEqual({
      code: 503,
      body: { status: "not_ready", reason: "shutting down" },
    });
  });
});

describe("/health's identity fields", () => {
  test("version, environment, an ISO timestamp and whole seconds of uptime", async () => {
    // Started 90.4 s ago on the service's clock: uptime in whole seconds, on /health and /health/live.
    const started = { startedAt: NOW - 90_400 };
    const body = (await (await handlers(KONG_UP, started).health()).json()) as HealthResponse;
    expect(body.version).toBe("9.9.9");
    expect(body.environment).toBe("test");
    expect(new Date(body.timestamp).toISOString()).toBe(body.timestamp);
    expect(body.uptime).toBe(90);
    const live = (await handlers(KONG_UP, started).live().json()) as { uptime: number };
    expect(live.uptime).toBe(90);
    expect(body.dependencies.telemetry).toEqual({ status: "healthy", mode: "console" });
  });

  test("telemetry exported over OTLP: its endpoints shown; degraded while an export fails, without changing the whole", async () => {
    const config = testConfig();
    const endpoints = {
      traces: "https://collector.example/v1/traces",
      metrics: "https://collector.example/v1/metrics",
      logs: "https://collector.example/v1/logs",
    };
    const telemetry = {
      ...consoleTelemetry(config.telemetry, config.app.environment),
      mode: "otlp" as const,
      endpoints,
    };
    const shown = async () =>
      ((await (await handlers(KONG_UP, { telemetry }).health()).json()) as HealthResponse).dependencies
        .telemetry;
    expect(await shown()).toEqual({ status: "healthy", mode: "otlp", endpoints });
    telemetry.stats.record("logs", false, 3, 12, "connect ECONNREFUSED");
    expect(await shown()).toEqual({ status: "degraded", mode: "otlp", endpoints });
    expect((await handlers(KONG_UP, { telemetry }).health()).status).toBe(200);
    expect(((await (await handlers(KONG_UP, { telemetry }).health()).json()) as HealthResponse).status).toBe(
      "healthy",
    );
  });

  test("/health/live: alive, whatever Kong and Redis do", async () => {
    const response = handlers({ ...KONG_DOWN, redis: "down" }).live();
    expect(response.status).toBe(200);
    expect(await response.json()).toMatchObject({ status: "alive" });
  });
});
