import { type RequestContext, urlOf } from "../http/request-context.ts";

/**
 * GET /: the OpenAPI document, JSON by default, YAML for `Accept: application/yaml` or `?format=yaml`.
 * Each is rendered once, on first request; the YAML library is loaded only when someone asks for YAML.
 */
export function createOpenApiHandler(document: () => Record<string, unknown>) {
  let json: string | undefined;
  let yaml: string | undefined;

  return async function openapi(request: Request, _ctx: RequestContext): Promise<Response> {
    const format = urlOf(request).searchParams.get("format");
    const accept = request.headers.get("accept") ?? "";
    const wantsYaml =
      format === "yaml" || (format !== "json" && /application\/(x-)?yaml|text\/yaml/.test(accept));
    if (!wantsYaml) {
      json ??= JSON.stringify(document(), null, 2);
      return new Response(json, { headers: { "content-type": "application/json" } });
    }
    yaml ??= (await import("yaml")).stringify(document());
    return new Response(yaml, { headers: { "content-type": "application/yaml" } });
  };
}
