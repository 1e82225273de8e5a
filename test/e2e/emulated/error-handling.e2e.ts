import { control } from "../support/control.ts";
import { expect, test } from "../support/fixtures.ts";
import { consumer, kongHeaders } from "../support/target.ts";
import { verifyAsKong } from "../support/verify.ts";

test.describe("Error handling: Kong unusable", () => {
  test.afterEach(async ({ request }) => {
    await control(request).kongUp();
  });

  for (const how of ["reset", "503"] as const) {
    test(`Kong down (${how === "reset" ? "connection reset" : "HTTP 503"}): a new consumer gets 503 with Retry-After, never 401`, async ({
      request,
    }) => {
      const kong = control(request);
      const fresh = await kong.newConsumer("outage");
      await kong.kongDown(how);
      const response = await request.get("/tokens", { headers: kongHeaders(fresh) });
      expect(response.status()).toBe(503);
      expect(response.headers()["content-type"]).toBe("application/problem+json");
      expect(Number(response.headers()["retry-after"])).toBeGreaterThan(0);
      const body = await response.json();
      expect(body).toMatchObject({ status: 503, type: expect.stringContaining("kong-unavailable") });
      expect(JSON.stringify(body)).not.toContain("127.0.0.1");
    });
  }

  test("Kong hanging: the service answers 503 within its timeouts instead of hanging", async ({
    request,
  }) => {
    const kong = control(request);
    const fresh = await kong.newConsumer("hang");
    await kong.kongDown("hang");
    const started = Date.now();
    const response = await request.get("/tokens", { headers: kongHeaders(fresh), timeout: 10_000 });
    expect(response.status()).toBe(503);
    expect(Date.now() - started).toBeLessThan(5_000);
  });

  test("a consumer served before the outage keeps getting valid tokens from the cache", async ({
    request,
  }) => {
    const kong = control(request);
    const c = consumer("test-user-001");
    expect((await request.get("/tokens", { headers: kongHeaders(c) })).status()).toBe(200);
    await kong.kongDown("reset");
    const response = await request.get("/tokens", { headers: kongHeaders(c) });
    expect(response.status()).toBe(200);
    await kong.kongUp();
    expect((await verifyAsKong((await response.json()).access_token, c.id)).ok).toBe(true);
  });

  test("when Kong comes back, new consumers get tokens again", async ({ request }) => {
    const kong = control(request);
    const first = await kong.newConsumer("recovery");
    await kong.kongDown("503");
    expect((await request.get("/tokens", { headers: kongHeaders(first) })).status()).toBe(503);
    await kong.kongUp();
    const fresh = await kong.newConsumer("recovery");
    // The circuit breaker lets a trial call through after CIRCUIT_BREAKER_RESET_TIMEOUT (1 s here).
    await expect
      .poll(async () => (await request.get("/tokens", { headers: kongHeaders(fresh) })).status(), {
        timeout: 8_000,
        intervals: [250],
      })
      .toBe(200);
  });

  test("GET /health: Kong unhealthy while it is down, the service degraded (it still serves cached consumers)", async ({
    request,
  }) => {
    const kong = control(request);
    expect((await request.get("/tokens", { headers: kongHeaders(consumer("test-user-002")) })).status()).toBe(
      200,
    );
    await kong.kongDown("503");
    // The Kong probe is remembered for a few seconds, so the change shows up within that time.
    await expect
      .poll(async () => (await (await request.get("/health")).json()).dependencies.kong.status, {
        timeout: 10_000,
        intervals: [500],
      })
      .toBe("unhealthy");
    const during = await request.get("/health");
    expect(during.status()).toBe(200);
    expect((await during.json()).status).toBe("degraded");
    expect((await request.get("/health/ready")).status()).toBe(200);

    await kong.kongUp();
    await expect
      .poll(async () => (await (await request.get("/health")).json()).status, {
        timeout: 10_000,
        intervals: [500],
      })
      .toBe("healthy");
  });
});
