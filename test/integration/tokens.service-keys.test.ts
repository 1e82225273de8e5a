import { afterAll, afterEach, beforeAll, describe, expect, test } from "bun:test";
import { createPublicKey } from "node:crypto";
import { createRemoteJWKSet, decodeProtectedHeader, jwtVerify } from "jose";
import { KongEmulator } from "../support/kong-emulator.ts";
import { verifyToken } from "../support/kong-jwt-verifier.ts";
import { deletePrefix, REDIS_URL, uniquePrefix } from "../support/redis.ts";
import { jwkSet, type KeyKind, privateJwk } from "../support/service-keys.ts";
import { type Stack, startStack } from "../support/stack.ts";

/** The jwt plugin as docs/kong-setup.md configures it on protected routes. */
const PLUGIN = { key_claim_name: "key", claims_to_verify: ["exp", "nbf"] as ("exp" | "nbf")[] };

const publicPem = (jwk: Record<string, unknown>) =>
  createPublicKey({ key: jwk, format: "jwk" } as never)
    .export({ type: "spki", format: "pem" })
    .toString();

const accessToken = async (response: Response) =>
  ((await response.json()) as { access_token: string }).access_token;

/** Each algorithm signed by two worker threads, and EdDSA on the request thread too (SIGNING_WORKERS=0). */
const SIGNING = [
  ["EdDSA", "2"],
  ["ES256", "2"],
  ["RS256", "2"],
  ["EdDSA", "0"],
] as [KeyKind, string][];

describe.each(SIGNING)("SIGNING_MODE=service-keys with an %s key, SIGNING_WORKERS=%s", (alg, workers) => {
  const jwk = privateJwk(alg, `${alg.toLowerCase()}-1`);
  let stack: Stack;
  beforeAll(async () => {
    stack = await startStack({
      env: { SIGNING_MODE: "service-keys", SERVICE_KEYS_JWKS: jwkSet(jwk), SIGNING_WORKERS: workers },
    });
  });
  afterAll(() => stack.stop());

  test("creates the consumer's credential with the public key, and Kong accepts the token", async () => {
    const consumer = stack.emulator.addConsumer({ username: `keys-${alg}` });
    const response = await stack.tokens(consumer);
    expect(response.status).toBe(200);
    const token = await accessToken(response);

    const [credential, ...others] = stack.emulator.credentialsOf(consumer.id);
    expect(others).toEqual([]);
    expect(credential).toMatchObject({
      algorithm: alg,
      rsa_public_key: publicPem(jwk),
      tags: ["kong-auth-service"],
    });
    const verdict = await verifyToken(token, PLUGIN, stack.emulator);
    if (!verdict.ok) throw new Error(`Kong would refuse the token: ${verdict.message}`);
    expect(verdict.credential.id).toBe(credential?.id as string);
    expect(verdict.header).toMatchObject({ alg, typ: "JWT", kid: jwk.kid });
  });

  test("a standard JWKS client verifies the token against the service's JWKS", async () => {
    const consumer = stack.emulator.addConsumer({ username: `jose-${alg}` });
    const token = await accessToken(await stack.tokens(consumer));
    const jwks = createRemoteJWKSet(new URL(`${stack.url}/.well-known/jwks.json`));
    const { payload, protectedHeader } = await jwtVerify(token, jwks, {
      audience: stack.config.jwt.audience,
      issuer: stack.config.jwt.authority,
    });
    expect(protectedHeader.kid).toBe(jwk.kid as string);
    expect(payload.sub).toBe(`jose-${alg}`);
  });

  test("reuses a credential that holds the key, and ignores the consumer's HMAC ones", async () => {
    const consumer = stack.emulator.addConsumer({ username: `reuse-${alg}` });
    stack.emulator.addCredential(consumer.id, { algorithm: "HS256", created_at: 2_000_000_000 });
    const own = stack.emulator.addCredential(consumer.id, { algorithm: alg, rsa_public_key: publicPem(jwk) });
    stack.emulator.resetCalls();
    const token = await accessToken(await stack.tokens(consumer));
    expect(stack.emulator.credentialsOf(consumer.id)).toHaveLength(2);
    expect(stack.emulator.countCalls({ method: "POST" })).toBe(0);
    const verdict = await verifyToken(token, PLUGIN, stack.emulator);
    if (!verdict.ok) throw new Error(`Kong would refuse the token: ${verdict.message}`);
    expect(verdict.credential.id).toBe(own.id);
  });

  test("40 consumers at once, signed in batches: each gets a token for itself that Kong accepts", async () => {
    const consumers = Array.from({ length: 40 }, (_, i) =>
      stack.emulator.addConsumer({ username: `batch-${alg}-${i}` }),
    );
    await Promise.all(consumers.map((consumer) => stack.tokens(consumer)));
    const tokens = await Promise.all(
      consumers.map(async (consumer) => accessToken(await stack.tokens(consumer))),
    );
    const verdicts = await Promise.all(tokens.map((token) => verifyToken(token, PLUGIN, stack.emulator)));
    verdicts.forEach((verdict, i) => {
      if (!verdict.ok) throw new Error(`Kong would refuse token ${i}: ${verdict.message}`);
      expect(verdict.consumer.id).toBe((consumers[i] as { id: string }).id);
      expect(verdict.claims.sub).toBe(`batch-${alg}-${i}`);
    });
  });
});

describe("service keys with Konnect", () => {
  const jwk = privateJwk("EdDSA", "konnect-ed");
  let stack: Stack;
  beforeAll(async () => {
    stack = await startStack({
      mode: "KONNECT",
      env: { SIGNING_MODE: "service-keys", SERVICE_KEYS_JWKS: jwkSet(jwk) },
    });
  });
  afterAll(() => stack.stop());

  test("the control plane gets the same credential, and Kong accepts the token", async () => {
    const consumer = stack.emulator.addConsumer({ username: "keys-konnect" });
    const token = await accessToken(await stack.tokens(consumer));
    expect(stack.emulator.credentialsOf(consumer.id)).toMatchObject([
      { algorithm: "EdDSA", rsa_public_key: publicPem(jwk), tags: ["kong-auth-service"] },
    ]);
    expect((await verifyToken(token, PLUGIN, stack.emulator)).ok).toBe(true);
  });
});

describe("service keys across instances sharing Redis", () => {
  const jwk = privateJwk("EdDSA", "shared-ed");
  const prefix = uniquePrefix("service-keys");
  const emulator = KongEmulator.start();
  const instances: Stack[] = [];
  afterEach(async () => {
    for (const instance of instances.splice(0)) await instance.stop();
    await emulator.stop();
    await deletePrefix(prefix);
  });

  test("a burst of first requests on two instances creates one credential, and every token verifies", async () => {
    for (let i = 0; i < 2; i++) {
      const stack = await startStack({
        emulator,
        env: {
          SIGNING_MODE: "service-keys",
          SERVICE_KEYS_JWKS: jwkSet(jwk),
          REDIS_ENABLED: "true",
          REDIS_URL,
          REDIS_KEY_PREFIX: prefix,
        },
      });
      await stack.redisReady();
      instances.push(stack);
    }
    const consumer = emulator.addConsumer({ username: "keys-burst" });
    emulator.setLatency(25);
    const responses = await Promise.all(
      instances.flatMap((instance) => Array.from({ length: 10 }, () => instance.tokens(consumer))),
    );
    emulator.setLatency(0);
    expect(responses.map((response) => response.status)).toEqual(Array(20).fill(200));
    expect(emulator.credentialsOf(consumer.id)).toHaveLength(1);
    expect(emulator.countCalls({ method: "POST" })).toBe(1);
    for (const response of responses) {
      const token = await accessToken(response);
      expect(decodeProtectedHeader(token).kid).toBe("shared-ed");
      expect((await verifyToken(token, PLUGIN, emulator)).ok).toBe(true);
    }
  });
});
