import { control } from "../support/control.ts";
import { expect, test } from "../support/fixtures.ts";
import { kongHeaders } from "../support/target.ts";
import { claimsOf, verifyAsKong } from "../support/verify.ts";

test.describe("Caching behaviour", () => {
  test("the first token asks Kong and creates one credential; the next ones cost no Kong call", async ({
    request,
  }) => {
    const kong = control(request);
    const fresh = await kong.newConsumer("cache");
    await kong.resetCalls();
    const first = await request.get("/tokens", { headers: kongHeaders(fresh) });
    expect(first.status()).toBe(200);
    expect(await kong.calls({ path: fresh.id, method: "POST" })).toBe(1);
    expect(await kong.calls({ path: fresh.id })).toBeGreaterThanOrEqual(2);

    await kong.resetCalls();
    const later = [];
    for (let i = 0; i < 5; i++) later.push(await request.get("/tokens", { headers: kongHeaders(fresh) }));
    expect(later.map((response) => response.status())).toEqual([200, 200, 200, 200, 200]);
    expect(await kong.calls()).toBe(0);

    const keys = new Set(
      await Promise.all(
        [first, ...later].map(async (response) => claimsOf((await response.json()).access_token).key),
      ),
    );
    expect(keys.size).toBe(1);
  });

  test("a burst of first requests for one consumer creates exactly one credential", async ({ request }) => {
    const kong = control(request);
    const fresh = await kong.newConsumer("burst");
    await kong.resetCalls();
    const responses = await Promise.all(
      Array.from({ length: 15 }, () => request.get("/tokens", { headers: kongHeaders(fresh) })),
    );
    expect(responses.map((response) => response.status())).toEqual(Array(15).fill(200));
    expect(await kong.calls({ path: fresh.id, method: "POST" })).toBe(1);
    const [firstResponse] = responses;
    if (!firstResponse) throw new Error("no response");
    const token = (await firstResponse.json()).access_token as string;
    expect((await verifyAsKong(token, fresh.id)).ok).toBe(true);
  });

  test("a consumer Kong does not know is remembered briefly: a retry costs no Kong call", async ({
    request,
  }) => {
    const kong = control(request);
    const headers = { "X-Consumer-ID": crypto.randomUUID(), "X-Consumer-Username": "nobody" };
    expect((await request.get("/tokens", { headers })).status()).toBe(401);
    await kong.resetCalls();
    expect((await request.get("/tokens", { headers })).status()).toBe(401);
    expect(await kong.calls()).toBe(0);
  });
});
