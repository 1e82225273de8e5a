import { describe, expect, test } from "bun:test";
import type { Server } from "bun";
import { z } from "zod";
import type { RequestContext } from "../../../src/http/request-context.ts";
import { CommonHeaders } from "../../../src/http/request-context.ts";
import { withBody } from "../../../src/http/route.ts";

const ctx: RequestContext = {
  requestId: "r-1",
  startedAt: 0,
  server: {} as Server<unknown>,
  headers: {},
  common: new CommonHeaders({}),
  headersGiven: false,
};
const body = z.strictObject({ count: z.int().min(1).default(1) });
const ok = { status: 200, schema: z.object({}).meta({ id: "Done" }), description: "Done" };

/** A body route whose handler echoes what it received. */
function counting(seen: unknown[]) {
  return withBody({
    method: "POST",
    path: "/count",
    summary: "Count",
    tags: ["debug"],
    body,
    maxBodyBytes: 30,
    ok,
    handle: (value, request, context) => {
      seen.push({ value, method: request.method, requestId: context.requestId });
      return new Response(JSON.stringify(value));
    },
  });
}

const post = (text: string) => new Request("http://auth.internal/count", { method: "POST", body: text });

describe("withBody: the route's schema validates the request before its handler", () => {
  test("the route keeps its definition and its schema, which the document shows", () => {
    const route = counting([]);
    expect(route).toMatchObject({ method: "POST", path: "/count", summary: "Count", tags: ["debug"], ok });
    expect(route.body).toBe(body);
    expect(Object.keys(route)).not.toContain("handle");
    expect(Object.keys(route)).not.toContain("maxBodyBytes");
  });

  test("a valid body reaches the handler parsed, with the request and its context", async () => {
    const seen: unknown[] = [];
    const response = await counting(seen).handler(post('{"count":3}'), ctx);
    expect(await response.json()).toEqual({ count: 3 });
    expect(seen).toEqual([{ value: { count: 3 }, method: "POST", requestId: "r-1" }]);
  });

  test("a body the schema refuses → 400, over the route's limit → 413; the handler never runs", async () => {
    const seen: unknown[] = [];
    const route = counting(seen);
    expect((await route.handler(post('{"count":0}'), ctx)).status).toBe(400);
    expect((await route.handler(post('{"count":1,"extra":true}'), ctx)).status).toBe(400);
    expect((await route.handler(post(`{"count":${"1".repeat(30)}}`), ctx)).status).toBe(413);
    expect(seen).toEqual([]);
  });
});
