import { afterAll, beforeAll, describe, expect, test } from "bun:test";
import { createPrivateKey, createPublicKey, sign, verify } from "node:crypto";
import { jwkSet, privateJwk } from "../support/service-keys.ts";
import { type Stack, startStack } from "../support/stack.ts";

const ed = privateJwk("EdDSA", "ed-2026");
const es = privateJwk("ES256", "es-2025");
const rsa = privateJwk("RS256", "rsa-2024");

describe("GET /.well-known/jwks.json with service keys", () => {
  let stack: Stack;
  beforeAll(async () => {
    stack = await startStack({
      env: {
        SIGNING_MODE: "service-keys",
        SERVICE_KEYS_JWKS: jwkSet(es, ed, rsa),
        SERVICE_KEYS_ACTIVE_KID: "ed-2026",
      },
    });
  });
  afterAll(() => stack.stop());

  test("publishes every key of the set, active or not, with kid, alg and use, and no private member", async () => {
    const response = await stack.fetch("/.well-known/jwks.json");
    expect(response.status).toBe(200);
    const { keys } = (await response.json()) as { keys: Record<string, string>[] };
    expect(keys.map((key) => [key.kid, key.alg, key.use, key.kty])).toEqual([
      ["es-2025", "ES256", "sig", "EC"],
      ["ed-2026", "EdDSA", "sig", "OKP"],
      ["rsa-2024", "RS256", "sig", "RSA"],
    ]);
    const privateMembers = ["d", "p", "q", "dp", "dq", "qi"];
    expect(keys.flatMap((key) => Object.keys(key).filter((name) => privateMembers.includes(name)))).toEqual(
      [],
    );
  });

  test("each published key verifies what its private half signed", async () => {
    const { keys } = (await (await stack.fetch("/.well-known/jwks.json")).json()) as {
      keys: Record<string, string>[];
    };
    for (const [jwk, digest] of [
      [ed, null],
      [es, "sha256"],
      [rsa, "sha256"],
    ] as const) {
      const published = keys.find((key) => key.kid === jwk.kid);
      const signature = sign(
        digest,
        Buffer.from("payload"),
        createPrivateKey({ key: jwk, format: "jwk" } as never),
      );
      const publicKey = createPublicKey({ key: published, format: "jwk" } as never);
      expect(verify(digest, Buffer.from("payload"), publicKey, signature)).toBe(true);
    }
  });

  test("may be cached by verifiers for a while", async () => {
    const response = await stack.fetch("/.well-known/jwks.json");
    expect(response.headers.get("cache-control")).toBe("public, max-age=300");
    expect(response.headers.get("content-type")).toBe("application/json");
  });
});

describe("GET /.well-known/jwks.json with per-consumer secrets", () => {
  let stack: Stack;
  beforeAll(async () => {
    stack = await startStack();
  });
  afterAll(() => stack.stop());

  test("does not exist: there is no public key to publish", async () => {
    const response = await fetch(`${stack.url}/.well-known/jwks.json`);
    expect(response.status).toBe(404);
  });
});
