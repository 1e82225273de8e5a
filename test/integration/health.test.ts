import { afterEach, describe, expect, test } from "bun:test";
import { KongEmulator } from "../support/kong-emulator.ts";
import { type Stack, startStack } from "../support/stack.ts";

// biome-ignore lint/suspicious/noExplicitAny: response bodies are asserted by shape, field by field.
type Json = any;

let stack: Stack | undefined;
afterEach(async () => {
  await stack?.stop();
  stack = undefined;
});

async function health(s: Stack) {
  const response = await s.fetch("/health");
  return { status: response.status, body: (await response.json()) as Record<string, Json> };
}

describe("health endpoints", () => {
  test("healthy: Kong answers; the body names the dependencies without secrets", async () => {
    stack = await startStack({ mode: "KONNECT" });
    const { status, body } = await health(stack);
    expect(status).toBe(200);
    expect(body).toMatchObject({
      status: "healthy",
      version: expect.any(String),
      environment: "test",
      dependencies: {
        kong: { status: "healthy", mode: "KONNECT", breaker: "closed", responseTime: expect.any(Number) },
        cache: { type: "memory" },
        telemetry: { mode: "console" },
      },
    });
    expect(body.dependencies.kong.url).toBe(stack.emulator.adminUrl);
    expect(JSON.stringify(body)).not.toContain(stack.emulator.adminToken as string);
  });

  test("degraded: Kong down but credentials cached, still 200; readiness stays up", async () => {
    stack = await startStack();
    const consumer = stack.emulator.addConsumer({ username: "cached" });
    expect((await stack.tokens(consumer)).status).toBe(200);
    // The first /health probes Kong only now, while it is down.
    stack.emulator.inject({ status: 503 });
    const { status, body } = await health(stack);
    expect(status).toBe(200);
    expect(body.status).toBe("degraded");
    expect(body.dependencies.kong.status).toBe("unhealthy");
    expect((await stack.fetch("/health/ready")).status).toBe(200);
    expect((await stack.tokens(consumer)).status).toBe(200);
  });

  test("unhealthy: Kong down and nothing cached → 503, not ready, but alive", async () => {
    const emulator = KongEmulator.start();
    emulator.inject({ status: 502 });
    stack = await startStack({ emulator });
    const { status, body } = await health(stack);
    expect(status).toBe(503);
    expect(body.status).toBe("unhealthy");
    expect(body.dependencies.kong.error).toContain("502");
    expect((await stack.fetch("/health/ready")).status).toBe(503);
    expect((await stack.fetch("/health/live")).status).toBe(200);
    await emulator.stop();
  });

  test("the Kong probe is cached, so polling /health does not hammer Kong", async () => {
    stack = await startStack();
    for (let i = 0; i < 20; i++) await stack.fetch("/health");
    expect(stack.emulator.countCalls({ pathIncludes: "/status" })).toBe(1);
  });

  test("readiness turns 503 while draining; liveness stays 200", async () => {
    stack = await startStack();
    expect((await stack.fetch("/health/ready")).status).toBe(200);
    stack.app.startDraining();
    const ready = await stack.fetch("/health/ready");
    expect(ready.status).toBe(503);
    expect(await ready.json()).toMatchObject({ status: "not_ready", reason: "shutting down" });
    expect((await stack.fetch("/health/live")).status).toBe(200);
  });

  test("GET /metrics reports requests, tokens and cache in the specification's shape", async () => {
    stack = await startStack();
    const consumer = stack.emulator.addConsumer({ username: "counted" });
    for (let i = 0; i < 3; i++) expect((await stack.tokens(consumer)).status).toBe(200);
    await stack.fetch("/tokens");
    const body = (await (await stack.fetch("/metrics")).json()) as Record<string, Json>;
    expect(body).toMatchObject({
      uptime: expect.any(Number),
      requests: { total: 4, success: 4, errors: 0 },
      tokens: { generated: 3, failed: 1 },
      cache: { hits: 2, misses: 1, size: 1, ttl: 300_000 },
      circuitBreaker: { state: "closed" },
      memory: { rss: expect.any(Number), heapUsed: expect.any(Number) },
    });
    expect(body.cache.hitRate).toBeCloseTo(2 / 3, 3);
    expect(body.tokens.averageTime).toBeGreaterThan(0);
  });

  test("/health/metrics and /health/telemetry in console mode", async () => {
    stack = await startStack();
    expect(await (await stack.fetch("/health/telemetry")).json()).toMatchObject({
      status: "healthy",
      mode: "console",
      exporters: { traces: "disabled", metrics: "disabled", logs: "disabled" },
    });
    expect(await (await stack.fetch("/health/metrics")).json()).toMatchObject({
      status: "healthy",
      metricsEnabled: false,
      lastExport: null,
      counters: { http_requests_total: 1 },
    });
  });
});

describe("debug endpoints", () => {
  test("POST /debug/metrics/test validates its body", async () => {
    stack = await startStack();
    const ok = await stack.fetch("/debug/metrics/test", {
      method: "POST",
      body: JSON.stringify({ count: 3 }),
    });
    expect(ok.status).toBe(200);
    expect(await ok.json()).toMatchObject({
      success: true,
      metrics: { values: { counter: 3, histogram: [1, 2, 3] } },
    });
    for (const body of [
      '{"count":0}',
      '{"count":"x"}',
      "not json",
      '{"count":1,"extra":1}',
      '{"type":"DROP TABLE"}',
    ]) {
      const bad = await stack.fetch("/debug/metrics/test", { method: "POST", body });
      expect(bad.status).toBe(400);
      expect(bad.headers.get("content-type")).toBe("application/problem+json");
    }
  });

  test("exporting in console mode is refused with 409", async () => {
    stack = await startStack();
    expect((await stack.fetch("/debug/metrics/export", { method: "POST" })).status).toBe(409);
  });

  test("they do not exist in production", async () => {
    stack = await startStack({
      env: {
        NODE_ENV: "production",
        KONG_ADMIN_URL: "https://kong-admin.example.com",
        KONG_ADMIN_TOKEN: "an-admin-token-of-at-least-32-characters",
        KONG_MODE: "API_GATEWAY",
        ALLOW_UNVERIFIED_GATEWAY: "true",
      },
    });
    for (const [method, path] of [
      ["POST", "/debug/metrics/test"],
      ["POST", "/debug/metrics/export"],
      ["GET", "/debug/metrics/stats"],
    ] as const) {
      expect((await stack.fetch(path, { method })).status).toBe(404);
    }
  });
});
