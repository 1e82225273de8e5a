import { afterAll, beforeAll, describe, expect, test } from "bun:test";
import { type Stack, startStack } from "../support/stack.ts";

describe("HTTP behaviour common to every endpoint", () => {
  let stack: Stack;
  beforeAll(async () => {
    stack = await startStack();
  });
  afterAll(() => stack.stop());

  test("unknown path → 404 problem", async () => {
    const response = await stack.fetch("/nope");
    expect(response.status).toBe(404);
    expect(response.headers.get("content-type")).toBe("application/problem+json");
    expect(await response.json()).toMatchObject({ status: 404, title: "Not Found" });
  });

  test("known path, wrong method → 405 with Allow", async () => {
    const response = await stack.fetch("/tokens", { method: "PUT" });
    expect(response.status).toBe(405);
    expect(response.headers.get("allow")).toBe("GET, POST, HEAD, OPTIONS");
    expect(response.headers.get("content-type")).toBe("application/problem+json");
  });

  test("preflight → 204 with the CORS answer", async () => {
    const response = await stack.fetch("/tokens", {
      method: "OPTIONS",
      headers: { origin: "https://app.example.com", "access-control-request-method": "GET" },
    });
    expect(response.status).toBe(204);
    expect(response.headers.get("access-control-allow-origin")).toBe("*");
    expect(response.headers.get("access-control-allow-methods")).toContain("GET");
    expect(response.headers.get("access-control-allow-methods")).toContain("POST");
    expect(response.headers.get("access-control-allow-headers")).toContain("X-Consumer-ID");
  });

  test("every response carries CORS, nosniff and a request id", async () => {
    for (const path of ["/", "/health/live", "/tokens", "/missing"]) {
      const response = await stack.fetch(path);
      expect(response.headers.get("access-control-allow-origin")).toBe("*");
      expect(response.headers.get("x-content-type-options")).toBe("nosniff");
      expect(response.headers.get("x-request-id")).toMatch(/^[0-9a-f-]{36}$/);
    }
  });

  test("a sane incoming X-Request-Id is echoed; an insane one replaced", async () => {
    const echoed = await stack.fetch("/health/live", { headers: { "x-request-id": "trace-abc_123" } });
    expect(echoed.headers.get("x-request-id")).toBe("trace-abc_123");
    const long = await stack.fetch("/health/live", { headers: { "x-request-id": "x".repeat(129) } });
    expect(long.headers.get("x-request-id")).toMatch(/^[0-9a-f-]{36}$/);
    const spaced = await stack.fetch("/health/live", { headers: { "x-request-id": "a b" } });
    expect(spaced.headers.get("x-request-id")).toMatch(/^[0-9a-f-]{36}$/);
  });

  test("a request body over the limit → 413, before any handler runs, in the route's error format", async () => {
    stack.emulator.resetCalls();
    // Before the 405 too: the fallback goes through the same pipeline.
    const unserved = await stack.fetch("/tokens", { method: "PUT", body: "x".repeat(20_000) });
    expect(unserved.status).toBe(413);
    expect(unserved.headers.get("content-type")).toBe("application/problem+json");
    // POST /tokens words its errors as RFC 6749 does (tokens.oauth.test.ts).
    const oauth = await stack.fetch("/tokens", { method: "POST", body: "x".repeat(20_000) });
    expect(oauth.status).toBe(413);
    expect(await oauth.json()).toEqual({
      error: "invalid_request",
      error_description: "Request bodies are limited to 16384 bytes.",
    });
    expect(stack.emulator.calls).toHaveLength(0);
  });

  test("CORS allow-list echoes only listed origins", async () => {
    const listed = await startStack({ env: { API_CORS: "https://app.example.com" } });
    try {
      const ok = await listed.fetch("/health/live", { headers: { origin: "https://app.example.com" } });
      expect(ok.headers.get("access-control-allow-origin")).toBe("https://app.example.com");
      expect(ok.headers.get("vary")).toContain("Origin");
      const other = await listed.fetch("/health/live", { headers: { origin: "https://evil.example.com" } });
      expect(other.headers.get("access-control-allow-origin")).toBeNull();
    } finally {
      await listed.stop();
    }
  });

  test("a successful token request logs nothing above debug", async () => {
    const consumer = stack.emulator.addConsumer({ username: "quiet" });
    const before = stack.logs.lines.length;
    expect((await stack.tokens(consumer)).status).toBe(200);
    expect((await stack.tokens(consumer)).status).toBe(200);
    expect(stack.logs.lines.length).toBe(before);
  });
});
