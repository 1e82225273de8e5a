import { afterAll, beforeAll, describe, expect, test } from "bun:test";
import { KongEmulator, type KongMode } from "../support/kong-emulator.ts";
import { verifyToken } from "../support/kong-jwt-verifier.ts";
import { rawGet, rawRequest } from "../support/raw-http.ts";
import { type Stack, startStack } from "../support/stack.ts";

const PLUGIN = { key_claim_name: "key", claims_to_verify: ["exp", "nbf"] as ("exp" | "nbf")[] };
const NAMES = ["josé", "user€", "山田太郎", "🦊 fox", "Ünïcødé ☃"];

/** What Kong sends upstream: the consumer's username as its UTF-8 bytes, unescaped. */
function asKongSendsIt(id: string, username: string): Uint8Array {
  return Buffer.from(rawGet("/tokens", [`X-Consumer-ID: ${id}`, `X-Consumer-Username: ${username}`]), "utf8");
}

function claimsOf(body: string): Record<string, unknown> {
  const { access_token } = JSON.parse(body) as { access_token: string };
  return JSON.parse(Buffer.from(access_token.split(".")[1] as string, "base64url").toString("utf8"));
}

describe.each(["API_GATEWAY", "KONNECT"] as KongMode[])("non-ASCII usernames (%s)", (mode) => {
  let stack: Stack;
  let port: number;
  beforeAll(async () => {
    stack = await startStack({ mode });
    port = stack.server.port as number;
  });
  afterAll(() => stack.stop());

  test.each(NAMES)("a consumer named %p gets a token whose username claims carry its name", async (name) => {
    const consumer = stack.emulator.addConsumer({ username: name });
    const response = await rawRequest(port, asKongSendsIt(consumer.id, name));
    expect(response.status).toBe(200);
    const claims = claimsOf(Buffer.from(response.body, "latin1").toString("utf8"));
    expect(claims.sub).toBe(name);
    expect(claims.name).toBe(name);
    expect(claims.unique_name).toBe(`example.com#${name}`);
    const { access_token } = JSON.parse(response.body) as { access_token: string };
    const verdict = await verifyToken(access_token, PLUGIN, stack.emulator);
    expect(verdict.ok && verdict.consumer.id).toBe(consumer.id);
  });

  test("another consumer's UTF-8 name with a real id is still a mismatch", async () => {
    const consumer = stack.emulator.addConsumer({ username: `zoë-${mode}` });
    const response = await rawRequest(port, asKongSendsIt(consumer.id, `zoe-${mode}`));
    expect(response.status).toBe(401);
    expect(response.body).toContain("does not match");
  });

  test("a UTF-8 encoded control character (U+0085) is refused as malformed", async () => {
    const consumer = stack.emulator.addConsumer({ username: `ctl-${mode}` });
    const response = await rawRequest(port, asKongSendsIt(consumer.id, `ctl\u0085-${mode}`));
    expect(response.status).toBe(401);
    expect(response.body).toContain("malformed");
  });
});

describe("Konnect realm consumers with non-ASCII names", () => {
  test("are found on the control plane by their UTF-8 name", async () => {
    const emulator = KongEmulator.start({ mode: "KONNECT" });
    const stack = await startStack({ emulator });
    try {
      const plane = emulator.addConsumer({ username: "josé" });
      const realm = emulator.addRealmConsumer({ username: "josé" });
      const response = await rawRequest(stack.server.port as number, asKongSendsIt(realm.id, "josé"));
      expect(response.status).toBe(200);
      expect(claimsOf(Buffer.from(response.body, "latin1").toString("utf8")).sub).toBe("josé");
      expect(emulator.credentialsOf(plane.id)).toHaveLength(1);
      expect(emulator.calls.some((call) => call.path.endsWith("/consumers/jos%C3%A9"))).toBe(true);
    } finally {
      await stack.stop();
      await emulator.stop();
    }
  });
});
