import type { Config } from "../config/index.ts";

/** GET /: the API description. */
export function createOpenApiHandler(api: Config["api"]) {
  const body = JSON.stringify({
    openapi: "3.1.0",
    info: { title: api.title, description: api.description, version: api.version },
    paths: {},
  });
  return () => new Response(body, { headers: { "content-type": "application/json" } });
}
