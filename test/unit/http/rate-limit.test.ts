import { describe, expect, test } from "bun:test";
import type { Server } from "bun";
import type { WithConsumer } from "../../../src/http/consumer-identity.ts";
import { rateLimit } from "../../../src/http/rate-limit.ts";
import type { RateLimitDecision } from "../../../src/security/rate-limiter.ts";

const ctx: WithConsumer = {
  requestId: "r-1",
  startedAt: 0,
  server: {} as Server<unknown>,
  consumer: { consumerId: "5b0c8d2e-0f8a-4b43-9f6b-2a8c1d3e4f50", username: "alice" },
};
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
    rateLimit(limits, () => {})(request(), ctx, () => new Response("ok"));
    expect(limits.counted).toEqual([ctx.consumer.consumerId]);
  });

  test("within the limit: the handler's answer, synchronous or not, carries the RateLimit-* headers", async () => {
    let refusals = 0;
    const step = rateLimit(
      limiter({ allowed: true, limit: 10, remaining: 3, resetSeconds: 42 }),
      () => refusals++,
    );
    const sync = step(request(), ctx, () => new Response("sync", { headers: { "x-own": "kept" } }));
    expect(sync).toBeInstanceOf(Response);
    expect(headersOf(sync as Response, Object.keys(LIMIT_HEADERS))).toEqual(LIMIT_HEADERS);
    expect((sync as Response).headers.get("x-own")).toBe("kept");
    const later = await step(request(), ctx, async () => new Response("async", { status: 503 }));
    expect(later.status).toBe(503);
    expect(headersOf(later, Object.keys(LIMIT_HEADERS))).toEqual(LIMIT_HEADERS);
    expect(refusals).toBe(0);
  });

  test("over the limit: 429 rate-limited with Retry-After and the headers; the handler never runs", async () => {
    let refusals = 0;
    let handled = false;
    const step = rateLimit(
      limiter({ allowed: false, limit: 10, remaining: 0, resetSeconds: 42 }),
      () => refusals++,
    );
    const response = step(request(), ctx, () => {
      handled = true;
      return new Response("ok");
    }) as Response;
    expect(response.status).toBe(429);
    expect(
      headersOf(response, ["ratelimit-limit", "ratelimit-remaining", "ratelimit-reset", "retry-after"]),
    ).toEqual({
      "ratelimit-limit": "10",
      "ratelimit-remaining": "0",
      "ratelimit-reset": "42",
      "retry-after": "42",
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
