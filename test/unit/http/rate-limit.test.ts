import { describe, expect, test } from "bun:test";
import type { Server } from "bun";
import type { WithConsumer } from "../../../src/http/consumer-identity.ts";
import { rateLimit } from "../../../src/http/rate-limit.ts";
import { CommonHeaders } from "../../../src/http/request-context.ts";
import type { RateLimitDecision } from "../../../src/security/rate-limiter.ts";

/** A fresh context per use: the step writes its headers into it. */
const context = (): WithConsumer => ({
  requestId: "r-1",
  startedAt: 0,
  server: {} as Server<unknown>,
  headers: { "x-request-id": "r-1" },
  common: new CommonHeaders({}),
  headersGiven: false,
  consumer: { consumerId: "5b0c8d2e-0f8a-4b43-9f6b-2a8c1d3e4f50", username: "alice" },
});
const request = () => new Request("http://auth.internal/tokens");

/** A limiter that answers the decision given and notes whom it counted. */
function limiter(decision: RateLimitDecision) {
  const counted: string[] = [];
  return {
    counted,
    take: (consumerId: string) => {
      counted.push(consumerId);
      return decision;
    },
  };
}

const LIMIT_HEADERS = { "ratelimit-limit": "10", "ratelimit-remaining": "3", "ratelimit-reset": "42" };

function headersOf(response: Response, names: string[]) {
  return Object.fromEntries(names.map((name) => [name, response.headers.get(name)]));
}

describe("the rate-limit step", () => {
  test("counts the consumer the identity step named", () => {
    const limits = limiter({ allowed: true, limit: 10, remaining: 3, resetSeconds: 42 });
    const ctx = context();
    rateLimit(limits, () => {})(request(), ctx, () => new Response("ok"));
    expect(limits.counted).toEqual([ctx.consumer.consumerId]);
  });

  test("within the limit: the handler runs with the RateLimit-* headers among the request's, for every answer", async () => {
    let refusals = 0;
    const step = rateLimit(
      limiter({ allowed: true, limit: 10, remaining: 3, resetSeconds: 42 }),
      () => refusals++,
    );
    const ctx = context();
    let seen: Record<string, string> | undefined;
    const sync = step(request(), ctx, (_request, c) => {
      seen = { ...c.headers };
      return new Response("sync", { headers: { "x-own": "kept" } });
    });
    expect(seen).toEqual({ "x-request-id": "r-1", ...LIMIT_HEADERS });
    expect(ctx.headers).toEqual({ "x-request-id": "r-1", ...LIMIT_HEADERS });
    expect(await (sync as Response).text()).toBe("sync");
    expect((sync as Response).headers.get("x-own")).toBe("kept");
    const later = context();
    const answer = await step(request(), later, async () => new Response("async", { status: 503 }));
    expect(answer.status).toBe(503);
    expect(later.headers).toEqual({ "x-request-id": "r-1", ...LIMIT_HEADERS });
    expect(refusals).toBe(0);
  });

  test("over the limit: 429 rate-limited with Retry-After and the headers; the handler never runs", async () => {
    let refusals = 0;
    let handled = false;
    const step = rateLimit(
      limiter({ allowed: false, limit: 10, remaining: 0, resetSeconds: 42 }),
      () => refusals++,
    );
    const ctx = context();
    const response = step(request(), ctx, () => {
      handled = true;
      return new Response("ok");
    }) as Response;
    expect(response.status).toBe(429);
    expect(headersOf(response, ["retry-after"])).toEqual({ "retry-after": "42" });
    // The pipeline sets the request's headers on the refusal (test/unit/http/pipeline.test.ts).
    expect(ctx.headers).toEqual({
      "x-request-id": "r-1",
      "ratelimit-limit": "10",
      "ratelimit-remaining": "0",
      "ratelimit-reset": "42",
    });
    expect(await response.json()).toEqual({
      type: "urn:auth-service:problem:rate-limited",
      title: "Too Many Requests",
      status: 429,
      detail: "At most 10 token requests per window; try again in 42 s.",
    });
    expect(handled).toBe(false);
    expect(refusals).toBe(1);
  });
});
