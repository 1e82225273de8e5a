import type { PageError } from "./pagination.ts";
import type { StoreError } from "./store.ts";
import { KONG_VERSION, type KongMode } from "./types.ts";

const STATUS_TITLES: Record<number, string> = {
  400: "Bad Request",
  401: "Unauthorized",
  403: "Forbidden",
  404: "Not Found",
  405: "Method Not Allowed",
  409: "Conflict",
  429: "Too Many Requests",
  500: "Internal Server Error",
  502: "Bad Gateway",
  503: "Service Unavailable",
  504: "Gateway Timeout",
};

function titleOf(status: number): string {
  return STATUS_TITLES[status] ?? "Error";
}

/**
 * Kong's `schema_violation` message: one error inline, several counted; entity-check errors
 * (`@entity`) as they are, then field errors sorted by field.
 */
function schemaMessage(fields: Record<string, string>, entity: string[] = []): string {
  const parts = [
    ...entity,
    ...Object.keys(fields)
      .sort()
      .map((name) => `${name}: ${fields[name]}`),
  ];
  return parts.length === 1
    ? `schema violation (${parts[0]})`
    : `${parts.length} schema violations (${parts.join("; ")})`;
}

/** Kong's own error bodies (`kong/db/errors.lua`), which Konnect wraps in a problem document. */
function kongErrorBody(error: StoreError | PageError): Record<string, unknown> {
  switch (error.kind) {
    case "schema":
      return {
        code: 2,
        name: "schema violation",
        message: schemaMessage(error.fields, error.entity),
        fields: error.entity ? { "@entity": error.entity, ...error.fields } : error.fields,
      };
    case "primary_key":
      return {
        code: 3,
        name: "primary key violation",
        message: `primary key violation on key '{id="${error.id}"}'`,
        fields: { id: error.id },
      };
    case "unique":
      return {
        code: 5,
        name: "unique constraint violation",
        message: `UNIQUE violation detected on '{key="${error.key}"}'`,
        fields: { key: error.key },
      };
    case "offset":
      return { code: 7, name: "invalid offset", message: error.message };
    case "size":
      return { code: 9, name: "invalid size", message: error.message };
  }
}

/** Renders every answer in the dialect of the emulated product. */
export class Responder {
  constructor(private readonly mode: KongMode) {}

  json(status: number, body: unknown, headers: Record<string, string> = {}): Response {
    const contentType = this.mode === "KONNECT" ? "application/json" : "application/json; charset=utf-8";
    return new Response(JSON.stringify(body), {
      status,
      headers: { "content-type": contentType, ...this.productHeaders(), ...headers },
    });
  }

  noContent(): Response {
    return new Response(null, { status: 204, headers: this.productHeaders() });
  }

  /** `message` is Kong's text; Konnect carries the same text as the problem's `detail`. */
  error(status: number, message: string, extra: Record<string, unknown> = {}): Response {
    if (this.mode === "API_GATEWAY") return this.json(status, { message });
    return this.problem(status, message, extra);
  }

  notFound(): Response {
    return this.error(404, "Not found");
  }

  methodNotAllowed(): Response {
    return this.error(405, "Method not allowed");
  }

  unauthorized(): Response {
    if (this.mode === "KONNECT") return this.problem(401, "Invalid credentials");
    return this.json(401, { message: "Invalid credentials. Token or User credentials required" });
  }

  badJson(): Response {
    return this.error(400, "Cannot parse JSON body");
  }

  storeError(error: StoreError | PageError): Response {
    const status = error.kind === "unique" ? 409 : 400;
    const body = kongErrorBody(error);
    if (this.mode === "API_GATEWAY") return this.json(status, body);
    const invalid =
      error.kind === "schema"
        ? { invalid_parameters: Object.entries(error.fields).map(([field, reason]) => ({ field, reason })) }
        : {};
    return this.problem(status, String(body.message), invalid);
  }

  fault(status: number, body: unknown, headers: Record<string, string> = {}): Response {
    if (status === 204 || status === 304) return new Response(null, { status, headers });
    if (typeof body === "string") {
      return new Response(body, { status, headers: { "content-type": "text/plain", ...headers } });
    }
    if (body !== undefined) return this.json(status, body, headers);
    const message = status >= 500 ? "An unexpected error occurred" : titleOf(status);
    if (this.mode === "API_GATEWAY") return this.json(status, { message }, headers);
    return this.problem(status, message, {}, headers);
  }

  private problem(
    status: number,
    detail: string,
    extra: Record<string, unknown> = {},
    headers: Record<string, string> = {},
  ): Response {
    const body = {
      status,
      title: titleOf(status),
      type: `https://httpstatuses.com/${status}`,
      instance: `kong:trace:${crypto.getRandomValues(new Uint32Array(2)).join("")}`,
      detail,
      ...extra,
    };
    return new Response(JSON.stringify(body), {
      status,
      headers: { "content-type": "application/problem+json", ...headers },
    });
  }

  private productHeaders(): Record<string, string> {
    return this.mode === "API_GATEWAY" ? { server: `kong/${KONG_VERSION}` } : {};
  }
}
