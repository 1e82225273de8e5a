import { expect, test } from "./support/fixtures.ts";
import { consumer, consumers, kongHeaders } from "./support/target.ts";
import { claimsOf, JWT_PLUGIN, verifyAsKong } from "./support/verify.ts";

test.describe("JWT token issuance", () => {
  for (const username of [
    "test-user-001",
    "test-user-002",
    "test-user-003",
    "test-user-004",
    "test-user-005",
  ]) {
    test(`${username} gets a token Kong's jwt plugin accepts`, async ({ request }) => {
      const c = consumer(username);
      const response = await request.get("/tokens", { headers: kongHeaders(c) });
      expect(response.status()).toBe(200);
      expect(response.headers()["cache-control"]).toBe("no-store");
      const body = await response.json();
      expect(body).toEqual({
        access_token: expect.any(String),
        expires_in: expect.any(Number),
        token_type: "Bearer",
      });

      const verdict = await verifyAsKong(body.access_token, c.id);
      if (!verdict.ok) throw new Error(`Kong would refuse the token: ${verdict.message}`);
      expect(verdict.credential.consumer.id).toBe(c.id);
      expect(verdict.header.alg).toBe(verdict.credential.algorithm);
    });
  }

  test("claims: key, subject, lifetime matching expires_in, audience and issuer", async ({ request }) => {
    const c = consumer("test-user-001");
    const body = await (await request.get("/tokens", { headers: kongHeaders(c) })).json();
    const claims = claimsOf(body.access_token);
    const keyClaim = JWT_PLUGIN.key_claim_name ?? "iss";
    expect(typeof claims[keyClaim]).toBe("string");
    expect(claims.sub).toBe(c.username);
    expect(claims.exp).toBe((claims.iat as number) + body.expires_in);
    expect(body.expires_in).toBeGreaterThanOrEqual(60);
    expect(body.expires_in).toBeLessThanOrEqual(3600);
    expect(claims.nbf as number).toBeLessThanOrEqual(Math.floor(Date.now() / 1000) + 1);
    expect(claims.aud).toBeTruthy();
    expect(claims.jti).toMatch(/^[0-9a-f-]{36}$/);
  });

  test("each token is new (its own jti) but signed with the consumer's one credential", async ({
    request,
  }) => {
    const c = consumer("test-user-002");
    const tokens = [];
    for (let i = 0; i < 3; i++) {
      tokens.push(
        (await (await request.get("/tokens", { headers: kongHeaders(c) })).json()).access_token as string,
      );
    }
    const claims = tokens.map(claimsOf);
    expect(new Set(claims.map((claim) => claim.jti)).size).toBe(3);
    const keyClaim = JWT_PLUGIN.key_claim_name ?? "iss";
    expect(new Set(claims.map((claim) => claim[keyClaim])).size).toBe(1);
  });

  test("twenty concurrent requests all get tokens Kong accepts", async ({ request }) => {
    const c = consumer("test-user-005");
    const responses = await Promise.all(
      Array.from({ length: 20 }, () => request.get("/tokens", { headers: kongHeaders(c) })),
    );
    expect(responses.map((response) => response.status())).toEqual(Array(20).fill(200));
    const tokens = await Promise.all(responses.map(async (response) => (await response.json()).access_token));
    for (const token of tokens) expect((await verifyAsKong(token, c.id)).ok).toBe(true);
  });

  test("the standard consumers get distinct keys: no consumer can pose as another", async ({ request }) => {
    const keyClaim = JWT_PLUGIN.key_claim_name ?? "iss";
    const keys = new Set<unknown>();
    for (const c of consumers()) {
      const body = await (await request.get("/tokens", { headers: kongHeaders(c) })).json();
      keys.add(claimsOf(body.access_token)[keyClaim]);
    }
    expect(keys.size).toBe(consumers().length);
  });
});
