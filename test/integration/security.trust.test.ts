import { afterEach, describe, expect, test } from "bun:test";
import { rawGet, rawRequest } from "../support/raw-http.ts";
import { type Stack, startStack } from "../support/stack.ts";

const SECRET = "kong-to-auth-service-shared-secret-0123456789";
let stack: Stack | undefined;
afterEach(async () => {
  await stack?.stop();
  stack = undefined;
});

async function withConsumer(env: Record<string, string>) {
  stack = await startStack({ env: { LOG_LEVEL: "debug", ...env } });
  const consumer = stack.emulator.addConsumer({ username: "trusted" });
  stack.emulator.addCredential(consumer.id);
  stack.emulator.resetCalls();
  return { stack, consumer };
}

describe("trust boundary: gateway secret", () => {
  test("forged Kong headers without the secret → 401 and zero Kong calls", async () => {
    const { stack, consumer } = await withConsumer({ TRUSTED_GATEWAY_SECRET: SECRET });
    const response = await stack.tokens(consumer);
    expect(response.status).toBe(401);
    expect(response.headers.get("content-type")).toBe("application/problem+json");
    expect(((await response.json()) as { detail: string }).detail).toContain("gateway");
    expect(stack.emulator.calls).toHaveLength(0);
  });

  test("a wrong secret of the same length → 401 and zero Kong calls", async () => {
    const { stack, consumer } = await withConsumer({ TRUSTED_GATEWAY_SECRET: SECRET });
    const wrong = `${SECRET.slice(0, -1)}x`;
    expect((await stack.tokens(consumer, { "x-gateway-secret": wrong })).status).toBe(401);
    expect(stack.emulator.calls).toHaveLength(0);
  });

  test("the right secret in the configured header → a token; the secret is never logged or echoed", async () => {
    const { stack, consumer } = await withConsumer({
      TRUSTED_GATEWAY_SECRET: SECRET,
      TRUSTED_GATEWAY_HEADER: "X-Kong-Proof",
    });
    expect((await stack.tokens(consumer, { "x-gateway-secret": SECRET })).status).toBe(401);
    const response = await stack.tokens(consumer, { "x-kong-proof": SECRET });
    expect(response.status).toBe(200);
    const text = await response.text();
    expect(text).not.toContain(SECRET);
    expect([...response.headers.values()].join(" ")).not.toContain(SECRET);
    expect(stack.logs.text).not.toContain(SECRET);
  });

  test("other endpoints are not behind the secret (probes and metrics)", async () => {
    const { stack } = await withConsumer({ TRUSTED_GATEWAY_SECRET: SECRET });
    expect((await stack.fetch("/health/live")).status).toBe(200);
  });
});

describe("trust boundary: peer addresses", () => {
  test("a peer outside TRUSTED_PROXY_CIDRS → 403 and zero Kong calls", async () => {
    const { stack, consumer } = await withConsumer({ TRUSTED_PROXY_CIDRS: "10.0.0.0/8, fd00::/8" });
    const response = await stack.tokens(consumer);
    expect(response.status).toBe(403);
    expect(response.headers.get("content-type")).toBe("application/problem+json");
    expect(stack.emulator.calls).toHaveLength(0);
  });

  test("a peer inside them gets its token", async () => {
    const { stack, consumer } = await withConsumer({ TRUSTED_PROXY_CIDRS: "10.0.0.0/8,127.0.0.0/8" });
    expect((await stack.tokens(consumer)).status).toBe(200);
  });

  test("on a dual-stack listener an IPv4 peer, seen as ::ffff:127.0.0.1, is judged by its IPv4 address", async () => {
    const peers: (string | undefined)[] = [];
    const start = async (cidrs: string) => {
      // Bound to "::", Bun reports a client connecting over IPv4 as an IPv4-mapped IPv6 address.
      const started = await withConsumer({ HOST: "::", TRUSTED_PROXY_CIDRS: cidrs });
      const requestIP = started.stack.server.requestIP.bind(started.stack.server);
      started.stack.server.requestIP = (request: Request) => {
        const ip = requestIP(request);
        peers.push(ip?.address);
        return ip;
      };
      return started;
    };

    const allowed = await start("10.0.0.0/8,127.0.0.0/8");
    try {
      expect((await allowed.stack.tokens(allowed.consumer)).status).toBe(200);
    } finally {
      await allowed.stack.stop();
    }

    const refused = await start("10.0.0.0/8");
    const response = await refused.stack.tokens(refused.consumer);
    expect(response.status).toBe(403);
    expect(refused.stack.emulator.calls).toHaveLength(0);
    expect(peers).toEqual(["::ffff:127.0.0.1", "::ffff:127.0.0.1"]);
  });

  test("both checks together: the right peer still needs the secret", async () => {
    const { stack, consumer } = await withConsumer({
      TRUSTED_PROXY_CIDRS: "127.0.0.1",
      TRUSTED_GATEWAY_SECRET: SECRET,
    });
    expect((await stack.tokens(consumer)).status).toBe(401);
    expect((await stack.tokens(consumer, { "x-gateway-secret": SECRET })).status).toBe(200);
  });
});

describe("debug endpoints", () => {
  test("with DEBUG_TOKEN set they require it", async () => {
    const { stack } = await withConsumer({ DEBUG_TOKEN: "debug-token-0123456789" });
    const refused = await stack.fetch("/debug/metrics/stats");
    expect(refused.status).toBe(401);
    expect(
      (await stack.fetch("/debug/metrics/stats", { headers: { "x-debug-token": "debug-token-012345678x" } }))
        .status,
    ).toBe(401);
    const allowed = await stack.fetch("/debug/metrics/stats", {
      headers: { "x-debug-token": "debug-token-0123456789" },
    });
    expect(allowed.status).toBe(200);
    expect(stack.logs.text).not.toContain("debug-token-0123456789");
  });
});

describe("HTTP hardening", () => {
  test("oversized headers → 431 without reaching a handler", async () => {
    const { stack, consumer } = await withConsumer({});
    const response = await rawRequest(
      stack.server.port as number,
      rawGet("/tokens", [
        `X-Consumer-ID: ${consumer.id}`,
        "X-Consumer-Username: trusted",
        `X-Padding: ${"a".repeat(70_000)}`,
      ]),
    );
    expect(response.status).toBe(431);
    expect(stack.emulator.calls).toHaveLength(0);
  });

  test("no response reveals the server software or its version", async () => {
    const { stack, consumer } = await withConsumer({});
    for (const response of [
      await stack.tokens(consumer),
      await stack.fetch("/nope"),
      await stack.fetch("/health"),
    ]) {
      expect(response.headers.get("server")).toBeNull();
      expect(response.headers.get("x-powered-by")).toBeNull();
      expect(response.headers.get("x-content-type-options")).toBe("nosniff");
    }
  });
});
