import { expect, test } from "./support/fixtures.ts";
import { consumer, kongHeaders } from "./support/target.ts";

/** Shapes from the specification's API Reference (GET /health/telemetry, /health/metrics, /metrics). */
test.describe("Telemetry and observability endpoints", () => {
  test("GET /health/telemetry: status, mode and exporters", async ({ request }) => {
    const response = await request.get("/health/telemetry");
    expect(response.status()).toBe(200);
    const body = await response.json();
    expect(["healthy", "degraded", "unhealthy"]).toContain(body.status);
    expect(typeof body.mode).toBe("string");
    expect(typeof body.exporters).toBe("object");
    for (const state of Object.values(body.exporters)) expect(typeof state).toBe("string");
  });

  test("GET /health/metrics: whether metrics are on, the export interval and the counters", async ({
    request,
  }) => {
    const response = await request.get("/health/metrics");
    expect(response.status()).toBe(200);
    const body = await response.json();
    expect(typeof body.status).toBe("string");
    expect(typeof body.metricsEnabled).toBe("boolean");
    expect(typeof body.exportInterval).toBe("number");
    expect(typeof body.counters).toBe("object");
  });

  test("GET /metrics: uptime, requests, tokens, cache and memory", async ({ request }) => {
    const response = await request.get("/metrics");
    expect(response.status()).toBe(200);
    const body = await response.json();
    expect(typeof body.uptime).toBe("number");
    expect(body.requests).toEqual(expect.objectContaining({ total: expect.any(Number) }));
    expect(body.tokens).toEqual(expect.objectContaining({ generated: expect.any(Number) }));
    expect(body.cache).toEqual(
      expect.objectContaining({
        hits: expect.any(Number),
        misses: expect.any(Number),
        hitRate: expect.any(Number),
      }),
    );
    expect(body.memory).toEqual(
      expect.objectContaining({
        rss: expect.any(Number),
        heapUsed: expect.any(Number),
        heapTotal: expect.any(Number),
      }),
    );
  });

  test("GET /metrics counts the tokens it issues", async ({ request }) => {
    const before = (await (await request.get("/metrics")).json()).tokens.generated as number;
    const headers = kongHeaders(consumer("test-user-004"));
    for (let i = 0; i < 3; i++) expect((await request.get("/tokens", { headers })).status()).toBe(200);
    const after = (await (await request.get("/metrics")).json()).tokens.generated as number;
    expect(after - before).toBeGreaterThanOrEqual(3);
  });
});
