import type { APIResponse } from "@playwright/test";
import { expect, type Problem, test } from "./support/fixtures.ts";
import { anonymousConsumer, consumer, kongHeaders } from "./support/target.ts";

/** A refusal: 401, a problem body without any token, and a challenge naming Kong's key auth. */
async function expectRefused(response: APIResponse): Promise<Problem> {
  expect(response.status()).toBe(401);
  expect(response.headers()["content-type"]).toBe("application/problem+json");
  expect(response.headers()["www-authenticate"]).toBeTruthy();
  const body = (await response.json()) as Problem & { access_token?: unknown };
  expect(body.status).toBe(401);
  expect(body.access_token).toBeUndefined();
  return body;
}

test.describe("Security: only consumers Kong authenticated get tokens", () => {
  test("no Kong headers at all: 401", async ({ request }) => {
    const body = await expectRefused(await request.get("/tokens"));
    expect(body.detail).toContain("X-Consumer-ID");
  });

  test("the anonymous consumer (X-Anonymous-Consumer: true) never gets a token", async ({ request }) => {
    const headers = { ...kongHeaders(anonymousConsumer()), "X-Anonymous-Consumer": "true" };
    const body = await expectRefused(await request.get("/tokens", { headers }));
    expect(body.detail).toContain("Anonymous");
  });

  test("a real consumer flagged anonymous is refused too", async ({ request }) => {
    const headers = { ...kongHeaders(consumer("test-user-001")), "X-Anonymous-Consumer": "true" };
    await expectRefused(await request.get("/tokens", { headers }));
  });

  test("X-Anonymous-Consumer: false is an ordinary consumer", async ({ request }) => {
    const headers = { ...kongHeaders(consumer("test-user-001")), "X-Anonymous-Consumer": "false" };
    expect((await request.get("/tokens", { headers })).status()).toBe(200);
  });

  test("a consumer id Kong does not know: 401, not a new consumer", async ({ request }) => {
    const headers = {
      "X-Consumer-ID": "00000000-dead-4bad-8bad-000000000000",
      "X-Consumer-Username": "ghost",
    };
    await expectRefused(await request.get("/tokens", { headers }));
  });

  test("forged headers: an id that is no Kong id, a missing username", async ({ request }) => {
    await expectRefused(
      await request.get("/tokens", {
        headers: { "X-Consumer-ID": "test-user-001", "X-Consumer-Username": "x" },
      }),
    );
    await expectRefused(
      await request.get("/tokens", { headers: { "X-Consumer-ID": consumer("test-user-001").id } }),
    );
    await expectRefused(
      await request.get("/tokens", {
        headers: { "X-Consumer-ID": "' OR 1=1 --", "X-Consumer-Username": "test-user-001" },
      }),
    );
  });

  test("one consumer's id with another's username is refused", async ({ request }) => {
    const headers = {
      "X-Consumer-ID": consumer("test-user-001").id,
      "X-Consumer-Username": consumer("test-user-002").username,
    };
    await expectRefused(await request.get("/tokens", { headers }));
  });

  test("a token is never cached by intermediaries", async ({ request }) => {
    const response = await request.get("/tokens", { headers: kongHeaders(consumer("test-user-003")) });
    expect(response.status()).toBe(200);
    expect(response.headers()["cache-control"]).toBe("no-store");
    expect(response.headers()["x-content-type-options"]).toBe("nosniff");
  });
});
