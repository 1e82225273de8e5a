import { describe, expect, test } from "bun:test";
import type { Server } from "bun";
import { createGatewayTrust } from "../../../src/http/trust.ts";
import { testConfig } from "../../support/config.ts";

const SECRET = "kong-to-auth-service-shared-secret-0123456789";

/** The trust check as the service builds it from this environment. */
function trust(env: Record<string, string>) {
  return createGatewayTrust(testConfig(env).security);
}

/** A server whose requestIP answers what a Bun listener would report for the peer. */
function peer(address: string | null): Server<unknown> {
  const family = address?.includes(":") ? "IPv6" : "IPv4";
  return {
    requestIP: () => (address === null ? null : { address, family, port: 40_000 }),
  } as unknown as Server<unknown>;
}

function request(headers: Record<string, string> = {}) {
  return new Request("http://auth.internal/tokens", { headers });
}

/** The status of the answer the check sends, or "through" when the request may proceed. */
function verdict(check: ReturnType<typeof trust>, address: string | null, headers?: Record<string, string>) {
  return check(request(headers), peer(address))?.status ?? "through";
}

describe("gateway trust: peer addresses", () => {
  test("an IPv4 peer seen by a dual-stack listener as ::ffff:a.b.c.d is judged by its IPv4 address", () => {
    const check = trust({ TRUSTED_PROXY_CIDRS: "10.0.0.0/8" });
    expect(verdict(check, "::ffff:10.1.2.3")).toBe("through");
    expect(verdict(check, "::FFFF:10.255.0.1")).toBe("through");
    expect(verdict(check, "::ffff:11.1.2.3")).toBe(403);
    expect(verdict(check, "::ffff:192.168.1.1")).toBe(403);
    expect(verdict(check, "::ffff:127.0.0.1")).toBe(403);
  });

  test("IPv4 peers inside a range pass, those outside get 403 untrusted-peer", async () => {
    const check = trust({ TRUSTED_PROXY_CIDRS: "10.0.0.0/8, 192.168.4.0/24" });
    expect(verdict(check, "10.255.255.255")).toBe("through");
    expect(verdict(check, "192.168.4.77")).toBe("through");
    expect(verdict(check, "192.168.5.1")).toBe(403);
    expect(verdict(check, "11.0.0.0")).toBe(403);
    const refused = check(request(), peer("9.255.255.255"));
    expect(refused?.headers.get("content-type")).toBe("application/problem+json");
    expect(await refused?.json()).toMatchObject({
      status: 403,
      type: "urn:auth-service:problem:untrusted-peer",
      detail: expect.stringContaining("only answers requests from Kong"),
    });
  });

  test("IPv6 ranges hold IPv6 peers only", () => {
    const check = trust({ TRUSTED_PROXY_CIDRS: "fd00::/8" });
    expect(verdict(check, "fd12:3456::1")).toBe("through");
    expect(verdict(check, "fe80::1")).toBe(403);
    expect(verdict(check, "::ffff:10.0.0.1")).toBe(403);
    expect(verdict(check, "10.0.0.1")).toBe(403);
  });

  test("a range written in IPv4-mapped form trusts the mapped peers it covers", () => {
    const check = trust({ TRUSTED_PROXY_CIDRS: "::ffff:10.0.0.0/104" });
    expect(verdict(check, "::ffff:10.9.8.7")).toBe("through");
    expect(verdict(check, "::ffff:11.9.8.7")).toBe(403);
  });

  test("a bare address trusts that one host, whichever way the listener reports it", () => {
    const v4 = trust({ TRUSTED_PROXY_CIDRS: "127.0.0.1" });
    expect(verdict(v4, "127.0.0.1")).toBe("through");
    expect(verdict(v4, "::ffff:127.0.0.1")).toBe("through");
    expect(verdict(v4, "127.0.0.2")).toBe(403);
    expect(verdict(v4, "::ffff:127.0.0.2")).toBe(403);
    const v6 = trust({ TRUSTED_PROXY_CIDRS: "::1" });
    expect(verdict(v6, "::1")).toBe("through");
    expect(verdict(v6, "::2")).toBe(403);
  });

  test("a peer whose address Bun cannot tell is refused", () => {
    expect(verdict(trust({ TRUSTED_PROXY_CIDRS: "10.0.0.0/8" }), null)).toBe(403);
  });

  test("without TRUSTED_PROXY_CIDRS any peer passes", () => {
    const check = trust({});
    expect(verdict(check, "203.0.113.9")).toBe("through");
    expect(verdict(check, null)).toBe("through");
  });
});

describe("gateway trust: shared secret", () => {
  test("no secret or a wrong one → 401 untrusted-gateway with Kong's challenge; the right one passes", async () => {
    const check = trust({ TRUSTED_GATEWAY_SECRET: SECRET });
    const missing = check(request(), peer("10.0.0.1"));
    expect(missing?.status).toBe(401);
    expect(missing?.headers.get("www-authenticate")).toBe('Key realm="kong"');
    expect(await missing?.json()).toMatchObject({
      type: "urn:auth-service:problem:untrusted-gateway",
      detail: expect.stringContaining("did not come through the gateway"),
    });
    expect(verdict(check, "10.0.0.1", { "x-gateway-secret": `${SECRET}x` })).toBe(401);
    expect(verdict(check, "10.0.0.1", { "x-gateway-secret": SECRET.slice(1) })).toBe(401);
    expect(verdict(check, "10.0.0.1", { "x-gateway-secret": "" })).toBe(401);
    expect(verdict(check, "10.0.0.1", { "x-gateway-secret": SECRET })).toBe("through");
  });

  test("the secret is read from the configured header only", () => {
    const check = trust({ TRUSTED_GATEWAY_SECRET: SECRET, TRUSTED_GATEWAY_HEADER: "X-Kong-Proof" });
    expect(verdict(check, "10.0.0.1", { "x-gateway-secret": SECRET })).toBe(401);
    expect(verdict(check, "10.0.0.1", { "X-KONG-PROOF": SECRET })).toBe("through");
  });

  test("with both checks, the peer is checked first and the right peer still needs the secret", () => {
    const check = trust({ TRUSTED_PROXY_CIDRS: "10.0.0.0/8", TRUSTED_GATEWAY_SECRET: SECRET });
    expect(verdict(check, "::ffff:192.0.2.1", { "x-gateway-secret": SECRET })).toBe(403);
    expect(verdict(check, "::ffff:10.0.0.1")).toBe(401);
    expect(verdict(check, "::ffff:10.0.0.1", { "x-gateway-secret": SECRET })).toBe("through");
  });
});

describe("gateway trust: the refusals", () => {
  test("403 and 401 are complete RFC 9457 problems, never cached; only the 401 challenges", async () => {
    const check = trust({ TRUSTED_PROXY_CIDRS: "10.0.0.0/8", TRUSTED_GATEWAY_SECRET: SECRET });
    const forbidden = check(request({ "x-gateway-secret": SECRET }), peer("192.0.2.1"));
    const unauthorized = check(request({ "x-gateway-secret": "guess" }), peer("10.0.0.1"));
    for (const refused of [forbidden, unauthorized]) {
      expect(refused?.headers.get("content-type")).toBe("application/problem+json");
      expect(refused?.headers.get("cache-control")).toBe("no-store");
    }
    expect(forbidden?.headers.get("www-authenticate")).toBeNull();
    expect(await forbidden?.json()).toEqual({
      type: "urn:auth-service:problem:untrusted-peer",
      title: "Forbidden",
      status: 403,
      detail: "This endpoint only answers requests from Kong.",
    });
    const body = await unauthorized?.text();
    expect(JSON.parse(body ?? "")).toEqual({
      type: "urn:auth-service:problem:untrusted-gateway",
      title: "Unauthorized",
      status: 401,
      detail: "The request did not come through the gateway.",
    });
    expect(body).not.toContain(SECRET);
  });
});
