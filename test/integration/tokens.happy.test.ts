import { afterAll, beforeAll, describe, expect, test } from "bun:test";
import { generateKeyPairSync } from "node:crypto";
import { testConfig } from "../support/config.ts";
import type { KongMode } from "../support/kong-emulator.ts";
import { verifyToken } from "../support/kong-jwt-verifier.ts";
import { type Stack, startStack } from "../support/stack.ts";

/** The jwt plugin as docs/kong-setup.md configures it on protected routes. */
const PLUGIN = {
  key_claim_name: "key",
  claims_to_verify: ["exp", "nbf"] as ("exp" | "nbf")[],
  maximum_expiration: testConfig().jwt.expirationMinutes * 60 + testConfig().jwt.clockSkewSeconds,
};

describe.each(["API_GATEWAY", "KONNECT"] as KongMode[])("GET /tokens in %s mode", (mode) => {
  let stack: Stack;
  beforeAll(async () => {
    stack = await startStack({ mode });
  });
  afterAll(() => stack.stop());

  test("issues a token Kong's jwt plugin accepts, for the consumer Kong named", async () => {
    const consumer = stack.emulator.addConsumer({ username: `alice-${mode}` });
    const credential = stack.emulator.addCredential(consumer.id);

    const response = await stack.tokens(consumer);
    expect(response.status).toBe(200);
    expect(response.headers.get("content-type")).toBe("application/json");
    expect(response.headers.get("cache-control")).toBe("no-store");
    expect(response.headers.get("pragma")).toBe("no-cache");
    const body = (await response.json()) as Record<string, unknown>;
    expect(Object.keys(body).sort()).toEqual(["access_token", "expires_in", "token_type"]);
    expect(body.token_type).toBe("Bearer");
    expect(body.expires_in).toBe(900);

    const verdict = await verifyToken(body.access_token as string, PLUGIN, stack.emulator);
    if (!verdict.ok) throw new Error(`Kong would refuse the token: ${verdict.message}`);
    expect(verdict.consumer.id).toBe(consumer.id);
    expect(verdict.credential.id).toBe(credential.id);
    expect(verdict.claims).toMatchObject({
      sub: consumer.username,
      name: consumer.username,
      unique_name: `example.com#${consumer.username}`,
      iss: "https://sts.example.com/",
      aud: "http://api.example.com/",
    });
  });

  test("signs with the newest HMAC credential, whatever order Kong lists them in", async () => {
    const consumer = stack.emulator.addConsumer({ username: `newest-${mode}` });
    stack.emulator.addCredential(consumer.id, { created_at: 100 });
    const newest = stack.emulator.addCredential(consumer.id, { created_at: 300, algorithm: "HS512" });
    stack.emulator.addCredential(consumer.id, { created_at: 200, algorithm: "HS384" });
    stack.emulator.addCredential(consumer.id, {
      created_at: 400,
      algorithm: "RS256",
      // Kong refuses an RS256 credential whose key OpenSSL cannot load (docs/kong-facts.md#jwt-asymmetric-credentials).
      rsa_public_key: generateKeyPairSync("rsa", { modulusLength: 2048 })
        .publicKey.export({ type: "spki", format: "pem" })
        .toString(),
    });

    const { access_token } = (await (await stack.tokens(consumer)).json()) as { access_token: string };
    const verdict = await verifyToken(access_token, PLUGIN, stack.emulator);
    expect(verdict.ok).toBe(true);
    if (verdict.ok) expect(verdict.credential.id).toBe(newest.id);
    expect(verdict.ok && verdict.header.alg).toBe("HS512");
  });

  test("a consumer without a credential gets one created by Kong, and its tokens verify", async () => {
    const consumer = stack.emulator.addConsumer({ username: `fresh-${mode}` });
    const response = await stack.tokens(consumer);
    expect(response.status).toBe(200);
    const created = stack.emulator.credentialsOf(consumer.id);
    expect(created).toHaveLength(1);
    expect(created[0]?.key).toMatch(/^[A-Za-z0-9]{32}$/);
    const { access_token } = (await response.json()) as { access_token: string };
    expect((await verifyToken(access_token, PLUGIN, stack.emulator)).ok).toBe(true);
  });

  test("a cached consumer costs no Kong call", async () => {
    const consumer = stack.emulator.addConsumer({ username: `cached-${mode}` });
    stack.emulator.addCredential(consumer.id);
    expect((await stack.tokens(consumer)).status).toBe(200);
    stack.emulator.resetCalls();
    for (let i = 0; i < 5; i++) expect((await stack.tokens(consumer)).status).toBe(200);
    expect(stack.emulator.calls).toHaveLength(0);
  });

  test("a burst of 50 first requests creates exactly one credential with at most 2 credential reads", async () => {
    const consumer = stack.emulator.addConsumer({ username: `burst-${mode}` });
    stack.emulator.resetCalls();
    stack.emulator.setLatency(30);
    const responses = await Promise.all(Array.from({ length: 50 }, () => stack.tokens(consumer)));
    stack.emulator.setLatency(0);
    expect(responses.map((response) => response.status)).toEqual(Array(50).fill(200));
    expect(stack.emulator.credentialsOf(consumer.id)).toHaveLength(1);
    expect(stack.emulator.countCalls({ method: "POST" })).toBe(1);
    expect(stack.emulator.countCalls({ method: "GET", pathIncludes: "/jwt" })).toBeLessThanOrEqual(2);
    const keys = new Set(
      await Promise.all(
        responses.map(async (response) => {
          const { access_token } = (await response.json()) as { access_token: string };
          const verdict = await verifyToken(access_token, PLUGIN, stack.emulator);
          return verdict.ok ? verdict.credential.key : "refused";
        }),
      ),
    );
    expect([...keys]).toEqual([stack.emulator.credentialsOf(consumer.id)[0]?.key as string]);
  });

  test("credentials spread over several pages are all considered", async () => {
    const consumer = stack.emulator.addConsumer({ username: `paged-${mode}` });
    for (let i = 0; i < 120; i++) stack.emulator.addCredential(consumer.id, { created_at: 1000 + i });
    const newest = stack.emulator.addCredential(consumer.id, { created_at: 5000 });
    for (let i = 0; i < 100; i++) stack.emulator.addCredential(consumer.id, { created_at: 2000 + i });
    const { access_token } = (await (await stack.tokens(consumer)).json()) as { access_token: string };
    const verdict = await verifyToken(access_token, PLUGIN, stack.emulator);
    expect(verdict.ok && verdict.credential.id).toBe(newest.id);
  });

  test("the admin token is presented the way the mode expects", async () => {
    const consumer = stack.emulator.addConsumer({ username: `auth-${mode}` });
    stack.emulator.resetCalls();
    await stack.tokens(consumer);
    const headers = stack.emulator.calls[0]?.headers;
    if (mode === "KONNECT") expect(headers?.get("authorization")).toBe(`Bearer ${stack.emulator.adminToken}`);
    else expect(headers?.get("authorization")).toBeNull();
  });
});

describe("token variants Kong must accept", () => {
  test.each(["HS256", "HS384", "HS512"])("a %s credential", async (algorithm) => {
    const stack = await startStack();
    try {
      const consumer = stack.emulator.addConsumer({ username: "v" });
      stack.emulator.addCredential(consumer.id, { algorithm });
      const { access_token } = (await (await stack.tokens(consumer)).json()) as { access_token: string };
      const verdict = await verifyToken(access_token, PLUGIN, stack.emulator);
      expect(verdict.ok && verdict.header.alg).toBe(algorithm);
    } finally {
      await stack.stop();
    }
  });

  test("secret_is_base64: the token verifies under a plugin decoding the secret", async () => {
    const stack = await startStack({ env: { KONG_JWT_SECRET_IS_BASE64: "true" } });
    try {
      const consumer = stack.emulator.addConsumer({ username: "b64" });
      stack.emulator.addCredential(consumer.id, {
        secret: "c2VjcmV0LWJ5dGVzLWZvci10aGUta2V5",
        created_at: 1,
      });
      stack.emulator.addCredential(consumer.id, { secret: "not+base64/url", created_at: 2 });
      const { access_token } = (await (await stack.tokens(consumer)).json()) as { access_token: string };
      expect(
        (await verifyToken(access_token, { ...PLUGIN, secret_is_base64: true }, stack.emulator)).ok,
      ).toBe(true);
      expect((await verifyToken(access_token, PLUGIN, stack.emulator)).ok).toBe(false);
    } finally {
      await stack.stop();
    }
  });

  test("key claim iss: Kong finds the credential through iss", async () => {
    const stack = await startStack({ env: { KONG_JWT_KEY_CLAIM_NAME: "iss", JWT_EXPIRATION_MINUTES: "5" } });
    try {
      const consumer = stack.emulator.addConsumer({ username: "iss-user" });
      const credential = stack.emulator.addCredential(consumer.id);
      const body = (await (await stack.tokens(consumer)).json()) as {
        access_token: string;
        expires_in: number;
      };
      expect(body.expires_in).toBe(300);
      const verdict = await verifyToken(
        body.access_token,
        { key_claim_name: "iss", claims_to_verify: ["exp", "nbf"], maximum_expiration: 300 },
        stack.emulator,
      );
      expect(verdict.ok && verdict.claims.iss).toBe(credential.key);
    } finally {
      await stack.stop();
    }
  });

  test("Konnect realm consumer: found by username when its id has no control-plane record", async () => {
    const stack = await startStack({ mode: "KONNECT" });
    try {
      const planeConsumer = stack.emulator.addConsumer({ username: "realm-user" });
      const realmId = crypto.randomUUID();
      const response = await stack.tokens({ id: realmId, username: "realm-user" });
      expect(response.status).toBe(200);
      const { access_token } = (await response.json()) as { access_token: string };
      const verdict = await verifyToken(access_token, PLUGIN, stack.emulator);
      expect(verdict.ok && verdict.consumer.id).toBe(planeConsumer.id);
      expect(stack.emulator.credentialsOf(planeConsumer.id)).toHaveLength(1);
    } finally {
      await stack.stop();
    }
  });
});
