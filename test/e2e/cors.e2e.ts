import { expect, test } from "./support/fixtures.ts";
import { consumer, kongHeaders } from "./support/target.ts";

const ORIGIN = "https://app.example.com";

/** With API_CORS=* (the default) any origin is allowed; with a list, an allowed origin is echoed. */
function allowsOrigin(value: string | undefined) {
  expect([ORIGIN, "*"]).toContain(value);
}

test.describe("CORS for browser clients", () => {
  test("simple requests carry the allow-origin and expose the request id", async ({ request }) => {
    const response = await request.get("/health/live", { headers: { Origin: ORIGIN } });
    allowsOrigin(response.headers()["access-control-allow-origin"]);
    expect(response.headers()["access-control-expose-headers"]).toContain("X-Request-Id");
  });

  test("a preflight for GET /tokens with Kong's headers is allowed", async ({ request }) => {
    const response = await request.fetch("/tokens", {
      method: "OPTIONS",
      headers: {
        Origin: ORIGIN,
        "Access-Control-Request-Method": "GET",
        "Access-Control-Request-Headers": "authorization, x-consumer-id",
      },
    });
    expect(response.status()).toBe(204);
    allowsOrigin(response.headers()["access-control-allow-origin"]);
    expect(response.headers()["access-control-allow-methods"]).toContain("GET");
    const allowedHeaders = response.headers()["access-control-allow-headers"]?.toLowerCase() ?? "";
    expect(allowedHeaders).toContain("authorization");
    expect(allowedHeaders).toContain("x-consumer-id");
    expect(Number(response.headers()["access-control-max-age"])).toBeGreaterThan(0);
  });

  test("token and error responses carry CORS headers too", async ({ request }) => {
    const ok = await request.get("/tokens", {
      headers: { ...kongHeaders(consumer("test-user-001")), Origin: ORIGIN },
    });
    expect(ok.status()).toBe(200);
    allowsOrigin(ok.headers()["access-control-allow-origin"]);
    const refused = await request.get("/tokens", { headers: { Origin: ORIGIN } });
    expect(refused.status()).toBe(401);
    allowsOrigin(refused.headers()["access-control-allow-origin"]);
  });
});
