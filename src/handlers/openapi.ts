import type { RequestContext } from "../http/request-context.ts";

/**
 * GET /: the OpenAPI document, JSON by default, YAML for `Accept: application/yaml` or `?format=yaml`.
 * Both are rendered once; the YAML library is loaded only when someone first asks for YAML.
 */
export function createOpenApiHandler(document: Record<string, unknown>) {
  const json = JSON.stringify(document, null, 2);
  let yaml: string | undefined;

  return async function openapi(request: Request, _ctx: RequestContext): Promise<Response> {
    const format = new URL(request.url).searchParams.get("format");
    const accept = request.headers.get("accept") ?? "";
    const wantsYaml =
      format === "yaml" || (format !== "json" && /application\/(x-)?yaml|text\/yaml/.test(accept));
    if (!wantsYaml) return new Response(json, { headers: { "content-type": "application/json" } });
    yaml ??= (await import("yaml")).stringify(document);
    return new Response(yaml, { headers: { "content-type": "application/yaml" } });
  };
}
