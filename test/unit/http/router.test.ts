import { describe, expect, test } from "bun:test";
import type { Server } from "bun";
import { z } from "zod";
import { createCors } from "../../../src/http/cors.ts";
import type { Handler, Pipeline } from "../../../src/http/pipeline.ts";
import { CommonHeaders } from "../../../src/http/request-context.ts";
import type { Method, Route } from "../../../src/http/route.ts";
import { buildRoutes } from "../../../src/http/router.ts";

const server = {} as Server<unknown>;
const ok = { status: 200, schema: z.object({}).meta({ id: "Any" }), description: "Any" };

function route(method: Method, path: string, answer = `${method} ${path}`): Route {
  return { method, path, summary: answer, tags: ["test"], ok, handler: () => new Response(answer) };
}

/** A pipeline that only notes the route template each handler was wrapped under. */
function noting() {
  const wrapped: string[] = [];
  const wrap = ((handler: Handler, template: string) => {
    wrapped.push(template);
    return (request: Request) =>
      handler(request, {
        requestId: "r",
        startedAt: 0,
        server,
        headers: {},
        common: new CommonHeaders({}),
        headersGiven: false,
      });
  }) as unknown as Pipeline;
  return { wrapped, wrap };
}

const cors = createCors("*");
const call = (
  handler: (request: Request, server: Server<unknown>) => Response | Promise<Response>,
  method: string,
  path: string,
) => Promise.resolve(handler(new Request(`http://auth.internal${path}`, { method }), server));

describe("buildRoutes: Bun's routes from the route definitions", () => {
  test("every definition is mounted under its path and method, wrapped by the pipeline under its template", async () => {
    const { wrapped, wrap } = noting();
    const { routes } = buildRoutes(
      [route("GET", "/health"), route("POST", "/health"), route("GET", "/reports/:name")],
      wrap,
      cors,
    );
    expect(Object.keys(routes)).toEqual(["/health", "/reports/:name"]);
    expect(Object.keys(routes["/health"] ?? {})).toEqual(["GET", "POST"]);
    expect(await (await call(routes["/health"]?.POST as never, "POST", "/health")).text()).toBe(
      "POST /health",
    );
    expect(wrapped).toEqual(["/health", "/health", "/reports/:name", "unmatched"]);
  });

  test("a method and path defined twice is refused at start-up", () => {
    expect(() =>
      buildRoutes([route("GET", "/tokens"), route("GET", "/tokens", "again")], noting().wrap, cors),
    ).toThrow("GET /tokens is defined twice");
  });

  test("the fallback: 405 with Allow on a known path (HEAD only beside GET), 404 elsewhere", async () => {
    const { fallback } = buildRoutes(
      [route("GET", "/tokens"), route("POST", "/cleanup"), route("GET", "/reports/:name")],
      noting().wrap,
      cors,
    );
    const tokens = await call(fallback, "DELETE", "/tokens");
    expect(tokens.status).toBe(405);
    expect(tokens.headers.get("allow")).toBe("GET, HEAD, OPTIONS");
    expect(await tokens.json()).toMatchObject({ status: 405, detail: "Use one of: GET, HEAD, OPTIONS." });
    expect((await call(fallback, "GET", "/cleanup")).headers.get("allow")).toBe("POST, OPTIONS");
    expect((await call(fallback, "POST", "/reports/a.cpuprofile")).headers.get("allow")).toBe(
      "GET, HEAD, OPTIONS",
    );
    for (const path of ["/reports/a/b", "/reports/", "/tokens/x", "/x/tokens", "/"]) {
      const missing = await call(fallback, "GET", path);
      expect(missing.status).toBe(404);
      expect(await missing.json()).toMatchObject({ status: 404, detail: "No such endpoint." });
    }
  });

  test("the fallback answers a preflight on a known path with that path's methods", async () => {
    const { fallback } = buildRoutes([route("POST", "/cleanup")], noting().wrap, cors);
    const preflight = await Promise.resolve(
      fallback(
        new Request("http://auth.internal/cleanup", {
          method: "OPTIONS",
          headers: { origin: "https://app.example.com", "access-control-request-method": "POST" },
        }),
        server,
      ),
    );
    expect(preflight.status).toBe(204);
    expect(preflight.headers.get("access-control-allow-methods")).toBe("POST, OPTIONS");
  });
});
