import type { Server } from "bun";
import type { Cors } from "./cors.ts";
import type { Pipeline } from "./pipeline.ts";
import { problem } from "./problem.ts";
import { urlOf } from "./request-context.ts";
import type { Method, Route } from "./route.ts";

type BunHandler = (request: Request, server: Server<unknown>) => Response | Promise<Response>;

/**
 * Bun.serve's `routes` from the route definitions, every handler wrapped by the pipeline, and a
 * fallback that answers preflights, 405 with `Allow` for known paths and 404 for the rest. A method
 * and path defined twice is a programming error, refused at start-up.
 */
export function buildRoutes(definitions: readonly Route[], wrap: Pipeline, cors: Cors) {
  const routes: Record<string, Partial<Record<Method, BunHandler>>> = {};
  for (const { method, path, handler, errors } of definitions) {
    routes[path] ??= {};
    if (routes[path][method]) throw new Error(`${method} ${path} is defined twice`);
    routes[path][method] = wrap(handler, path, errors?.refuse);
  }
  const allowed = Object.entries(routes).map(([path, methods]) => {
    const names = Object.keys(methods);
    return {
      pattern: new RegExp(`^${path.replace(/:[A-Za-z]+/g, "[^/]+")}$`),
      methods: [...names, ...(names.includes("GET") ? ["HEAD"] : []), "OPTIONS"],
    };
  });

  const fallback = wrap((request) => {
    const pathname = urlOf(request).pathname;
    const allow = allowed.find(({ pattern }) => pattern.test(pathname))?.methods;
    if (!allow) return problem(404, { detail: "No such endpoint." });
    if (request.method === "OPTIONS") return cors.preflight(request, allow);
    return problem(405, { detail: `Use one of: ${allow.join(", ")}.`, headers: { allow: allow.join(", ") } });
  }, "unmatched");

  return { routes, fallback };
}
