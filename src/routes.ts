import type { Server } from "bun";
import type { Cors } from "./http/cors.ts";
import type { Handler, Pipeline } from "./http/pipeline.ts";
import { problem } from "./http/problem.ts";
import { urlOf } from "./http/request-context.ts";

type Method = "GET" | "POST" | "DELETE";
export type RouteTable = Record<string, Partial<Record<Method, Handler>>>;

/**
 * Turns the route table into Bun.serve's `routes`, every handler wrapped by the pipeline, and a
 * fallback that answers preflights, 405 with `Allow` for known paths and 404 for the rest.
 */
export function buildRoutes(table: RouteTable, wrap: Pipeline, cors: Cors) {
  const routes: Record<
    string,
    Partial<Record<Method, (request: Request, server: Server<unknown>) => Response | Promise<Response>>>
  > = {};
  const allowed: { pattern: RegExp; methods: string[] }[] = [];

  for (const [path, methods] of Object.entries(table)) {
    const wrapped: (typeof routes)[string] = {};
    for (const [method, handler] of Object.entries(methods) as [Method, Handler][])
      wrapped[method] = wrap(handler, path);
    routes[path] = wrapped;
    const names = Object.keys(methods);
    allowed.push({
      pattern: new RegExp(`^${path.replace(/:[A-Za-z]+/g, "[^/]+")}$`),
      methods: [...names, ...(names.includes("GET") ? ["HEAD"] : []), "OPTIONS"],
    });
  }

  const fallback = wrap((request) => {
    const pathname = urlOf(request).pathname;
    const allow = allowed.find(({ pattern }) => pattern.test(pathname))?.methods;
    if (!allow) return problem(404, { detail: "No such endpoint." });
    if (request.method === "OPTIONS") return cors.preflight(request, allow);
    return problem(405, { detail: `Use one of: ${allow.join(", ")}.`, headers: { allow: allow.join(", ") } });
  }, "unmatched");

  return { routes, fallback };
}
