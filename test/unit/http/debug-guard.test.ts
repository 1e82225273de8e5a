import { describe, expect, test } from "bun:test";
import { createDebugGuard } from "../../../src/http/debug-guard.ts";
import type { Handler } from "../../../src/http/pipeline.ts";
import type { RequestContext } from "../../../src/http/request-context.ts";

const TOKEN = "staging-debug-token-7f3a9c";
const handler: Handler = () => new Response("heap snapshot");
const ctx = {} as RequestContext;

async function call(guarded: Handler, headers: Record<string, string> = {}) {
  const response = await guarded(new Request("http://auth.internal/debug/metrics/stats", { headers }), ctx);
  return { status: response.status, response };
}

describe("debug endpoints: whether they exist", () => {
  test("never in production, even with DEBUG_TOKEN", () => {
    expect(createDebugGuard("production", TOKEN)).toBeUndefined();
    expect(createDebugGuard("production", undefined)).toBeUndefined();
  });

  test("in staging only with DEBUG_TOKEN", () => {
    expect(createDebugGuard("staging", undefined)).toBeUndefined();
    expect(createDebugGuard("staging", "")).toBeUndefined();
    expect(createDebugGuard("staging", TOKEN)).toBeFunction();
  });

  test("on a developer's machine and in tests without a token they answer anyone", async () => {
    for (const environment of ["development", "test"] as const) {
      const guard = createDebugGuard(environment, undefined);
      if (!guard) throw new Error(`${environment} should mount the debug endpoints`);
      expect(guard(handler)).toBe(handler);
    }
  });
});

describe("debug endpoints behind DEBUG_TOKEN", () => {
  for (const environment of ["staging", "development"] as const) {
    test(`${environment}: the right X-Debug-Token passes; none or a wrong one → 401 with a challenge`, async () => {
      const guard = createDebugGuard(environment, TOKEN);
      if (!guard) throw new Error("the guard should exist");
      const guarded = guard(handler);
      const allowed = await call(guarded, { "x-debug-token": TOKEN });
      expect(allowed.status).toBe(200);
      expect(await allowed.response.text()).toBe("heap snapshot");
      const refusals: Record<string, string>[] = [
        {},
        { "x-debug-token": `${TOKEN}x` },
        { "x-debug-token": TOKEN.slice(1) },
        { authorization: TOKEN },
      ];
      for (const headers of refusals) {
        const refused = await call(guarded, headers);
        expect(refused.status).toBe(401);
        expect(refused.response.headers.get("www-authenticate")).toBe('Token realm="debug"');
        expect(await refused.response.json()).toMatchObject({
          type: "urn:auth-service:problem:debug-token-required",
          detail: "Debug endpoints require the X-Debug-Token header.",
        });
      }
    });
  }
});
