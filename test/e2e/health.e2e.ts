import { expect, test } from "./support/fixtures.ts";

test.describe("Service health and availability", () => {
  test("GET /health reports healthy with Kong as a dependency", async ({ request }) => {
    const response = await request.get("/health");
    expect(response.status()).toBe(200);
    expect(response.headers()["content-type"]).toContain("application/json");
    const body = await response.json();
    expect(body.status).toBe("healthy");
    expect(new Date(body.timestamp).toISOString()).toBe(body.timestamp);
    expect(typeof body.uptime).toBe("number");
    expect(typeof body.version).toBe("string");
    expect(typeof body.environment).toBe("string");
    expect(body.dependencies.kong).toMatchObject({ status: "healthy", mode: process.env.KONG_MODE });
    expect(typeof body.dependencies.kong.url).toBe("string");
  });

  test("health never leaks the Kong Admin token or URL credentials", async ({ request }) => {
    const text = await (await request.get("/health")).text();
    if (process.env.KONG_ADMIN_TOKEN) expect(text).not.toContain(process.env.KONG_ADMIN_TOKEN);
    expect(text).not.toMatch(/\/\/[^/]*:[^/]*@/);
  });

  test("liveness and readiness answer without depending on Kong", async ({ request }) => {
    const live = await request.get("/health/live");
    expect(live.status()).toBe(200);
    expect((await live.json()).status).toBe("alive");
    const ready = await request.get("/health/ready");
    expect(ready.status()).toBe(200);
    expect((await ready.json()).status).toBe("ready");
  });

  test("GET / serves the OpenAPI document describing /tokens", async ({ request }) => {
    const response = await request.get("/");
    expect(response.status()).toBe(200);
    const spec = await response.json();
    expect(spec.openapi).toMatch(/^3\./);
    expect(typeof spec.info.title).toBe("string");
    expect(Object.keys(spec.paths)).toEqual(expect.arrayContaining(["/tokens", "/health"]));
  });

  test("every response carries a request id, echoed when the caller sends one", async ({ request }) => {
    const minted = await request.get("/health/live");
    expect(minted.headers()["x-request-id"]).toMatch(/^\S{8,}$/);
    const echoed = await request.get("/health/live", { headers: { "X-Request-Id": "e2e-trace-0001" } });
    expect(echoed.headers()["x-request-id"]).toBe("e2e-trace-0001");
  });

  test("unknown paths are 404 problems and wrong methods 405 with Allow", async ({ request }) => {
    const missing = await request.get("/no-such-endpoint");
    expect(missing.status()).toBe(404);
    expect(missing.headers()["content-type"]).toBe("application/problem+json");
    const wrong = await request.delete("/tokens");
    expect(wrong.status()).toBe(405);
    expect(wrong.headers().allow).toBe("GET, POST, HEAD, OPTIONS");
  });
});
