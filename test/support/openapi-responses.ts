import Ajv2020 from "ajv/dist/2020.js";
import addFormats from "ajv-formats";

type Document = {
  paths: Record<string, Record<string, { responses: Record<string, { content?: Record<string, unknown> }> }>>;
};

const pointerSegment = (segment: string) => segment.replaceAll("~", "~0").replaceAll("/", "~1");

/**
 * Checks a response against what the service's own OpenAPI document says for that path, method and
 * status. Used on every response the integration tests receive.
 */
export function createResponseChecker(document: Record<string, unknown>) {
  const ajv = new Ajv2020({ strict: false, allErrors: true });
  addFormats(ajv);
  const id = `urn:openapi:${crypto.randomUUID()}`;
  ajv.addSchema({ ...document, $id: id });
  const doc = document as unknown as Document;
  const templates = Object.keys(doc.paths).map((template) => ({
    template,
    pattern: new RegExp(`^${template.replace(/\{[^}]+\}/g, "[^/]+")}$`),
  }));

  return function check(
    method: string,
    path: string,
    status: number,
    contentType: string | null,
    body: string,
  ): string[] {
    if (method === "HEAD" || method === "OPTIONS" || body === "") return [];
    const mediaType = (contentType ?? "").split(";")[0]?.trim() ?? "";
    const template = templates.find(({ pattern }) => pattern.test(path))?.template;
    const operation = template ? doc.paths[template]?.[method.toLowerCase()] : undefined;
    let pointer: string;
    if (!operation) {
      // Paths and methods the document does not list answer with a problem body.
      if (mediaType !== "application/problem+json")
        return [`${method} ${path} → ${status} ${mediaType}: undocumented`];
      pointer = "#/components/schemas/Problem";
    } else {
      const key = [String(status), `${String(status)[0]}XX`, "default"].find(
        (code) => operation.responses[code],
      );
      if (!key) return [`${method} ${template} → ${status}: status not documented`];
      const content = operation.responses[key]?.content ?? {};
      if (!(mediaType in content)) return [`${method} ${template} → ${status}: ${mediaType} not documented`];
      // Text answers (YAML, the Prometheus exposition) are documented as strings: nothing more to check.
      if (!mediaType.endsWith("json")) return [];
      pointer = `#/paths/${pointerSegment(template as string)}/${method.toLowerCase()}/responses/${key}/content/${pointerSegment(mediaType)}/schema`;
    }
    const validate = ajv.getSchema(`${id}${pointer}`);
    if (!validate) return [`no schema at ${pointer}`];
    let json: unknown;
    try {
      json = JSON.parse(body);
    } catch {
      return [`${method} ${path} → ${status}: body is not JSON`];
    }
    if (validate(json)) return [];
    return (validate.errors ?? []).map(
      (error) => `${method} ${path} → ${status}: ${error.instancePath} ${error.message}`,
    );
  };
}
