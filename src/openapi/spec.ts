import { z } from "zod";
import { DOCUMENTED_BODIES, problemSchema } from "../api/schemas.ts";
import type { Config } from "../config/index.ts";
import { CONSUMER_HEADERS } from "../http/consumer-identity.ts";
import type { Route } from "../http/route.ts";

type JsonSchema = Record<string, unknown>;
type Schema = z.ZodType;

function jsonSchema(schema: Schema, io: "input" | "output"): JsonSchema {
  const {
    $schema: _dialect,
    id: _id,
    ...rest
  } = z.toJSONSchema(schema, { io, target: "draft-2020-12" }) as JsonSchema;
  return rest;
}

function idOf(schema: Schema): string {
  const id = (schema.meta() as { id?: string } | undefined)?.id;
  if (!id) throw new Error("response schemas carry an id");
  return id;
}

const ref = (schema: Schema) => ({ $ref: `#/components/schemas/${idOf(schema)}` });
const problemContent = { "application/problem+json": { schema: ref(problemSchema) } };
const requestIdHeader = {
  "X-Request-Id": {
    description: "Echo of a sane incoming X-Request-Id, or a generated UUID",
    schema: { type: "string" },
  },
};

function responsesOf(route: Route): Record<string, unknown> {
  const errorContent = route.errors
    ? { [route.errors.mediaType]: { schema: ref(route.errors.schema) } }
    : problemContent;
  const responses: Record<string, unknown> = {
    [route.ok.status]: {
      description: route.ok.description,
      headers: { ...requestIdHeader, ...route.ok.headers },
      content: {
        "application/json": { schema: ref(route.ok.schema) },
        ...Object.fromEntries(
          (route.also ?? []).map(({ mediaType, description }) => [
            mediaType,
            { schema: { type: "string", description } },
          ]),
        ),
      },
    },
  };
  for (const [status, extra] of Object.entries(route.extra ?? {})) {
    responses[status] = {
      description: extra.description,
      headers: { ...requestIdHeader, ...extra.headers },
      content: extra.schema ? { "application/json": { schema: ref(extra.schema) } } : errorContent,
    };
  }
  responses["4XX"] = { description: "Client error (404, 405, 413, ...)", content: errorContent };
  responses["5XX"] = { description: "Server error", content: errorContent };
  return responses;
}

/** The route's own parameters after those its path template names. */
function parametersOf(route: Route): unknown[] {
  const inPath = [...route.path.matchAll(/:([A-Za-z]+)/g)].map(([, name]) => ({
    name,
    in: "path",
    required: true,
    schema: { type: "string" },
  }));
  return [...inPath, ...(route.parameters ?? [])];
}

function operation(route: Route) {
  const parameters = parametersOf(route);
  return {
    summary: route.summary,
    tags: route.tags,
    ...(parameters.length > 0 ? { parameters } : {}),
    ...(route.security ? { security: route.security } : {}),
    ...(route.body
      ? {
          requestBody: {
            // A body the schema accepts as `{}` may be left out (src/http/body.ts reads none as `{}`).
            required: !route.body.safeParse({}).success,
            content: {
              [route.bodyMediaType ?? "application/json"]: { schema: jsonSchema(route.body, "input") },
            },
          },
        }
      : {}),
    responses: responsesOf(route),
  };
}

function pathsOf(routes: readonly Route[]): Record<string, Record<string, unknown>> {
  const paths: Record<string, Record<string, unknown>> = {};
  for (const route of routes) {
    const openApiPath = route.path.replace(/:([A-Za-z]+)/g, "{$1}");
    paths[openApiPath] ??= {};
    paths[openApiPath][route.method.toLowerCase()] = operation(route);
  }
  return paths;
}

/** Every body the API sends, as components referring to each other by $ref. */
function componentSchemas(routes: readonly Route[]): Record<string, JsonSchema> {
  const named = routes.flatMap((route) => [
    route.ok.schema,
    ...Object.values(route.extra ?? {}).flatMap((extra) => (extra.schema ? [extra.schema] : [])),
  ]);
  const registry = z.registry<{ id: string }>();
  for (const schema of new Set([...DOCUMENTED_BODIES, ...named])) registry.add(schema, { id: idOf(schema) });
  const { schemas } = z.toJSONSchema(registry, {
    io: "output",
    target: "draft-2020-12",
    uri: (id) => `#/components/schemas/${id}`,
  }) as { schemas: Record<string, JsonSchema> };
  for (const schema of Object.values(schemas)) {
    delete schema.$schema;
    delete schema.id;
    delete schema.$id;
  }
  return schemas;
}

function securitySchemes(security: Config["security"]): Record<string, unknown> {
  return {
    kongConsumer: {
      type: "apiKey",
      in: "header",
      name: CONSUMER_HEADERS.id,
      description:
        `Set by Kong's key-auth or basic-auth plugin after it verified the client's credential, with ${CONSUMER_HEADERS.username}. ` +
        "Clients never send these themselves; Kong clears any they send.",
    },
    ...(security.gatewaySecret
      ? {
          kongGateway: {
            type: "apiKey",
            in: "header",
            name: security.gatewayHeader,
            description:
              "Shared secret Kong's request-transformer adds to prove the request came through Kong",
          },
        }
      : {}),
    ...(security.debugToken ? { debugToken: { type: "apiKey", in: "header", name: "X-Debug-Token" } } : {}),
    ...(security.adminToken
      ? { adminToken: { type: "http", scheme: "bearer", description: "ADMIN_TOKEN; /admin routes only" } }
      : {}),
  };
}

export interface DocumentInput {
  readonly api: Config["api"];
  readonly security: Config["security"];
  /** The routes mounted: the document describes them and nothing else. */
  readonly routes: readonly Route[];
}

/** The OpenAPI 3.1 document of the running service. */
export function buildOpenApiDocument({ api, security, routes }: DocumentInput): JsonSchema {
  return {
    openapi: "3.1.0",
    info: {
      title: api.title,
      description: api.description,
      version: api.version,
      contact: { name: api.contactName, email: api.contactEmail },
      license: { name: api.licenseName, identifier: api.licenseIdentifier },
    },
    servers: [{ url: "/", description: "This service, behind Kong" }],
    tags: [
      { name: "tokens", description: "JWT issuance" },
      { name: "health", description: "Probes and dependency status" },
      { name: "metrics", description: "Service metrics" },
      { name: "documentation", description: "This document" },
      { name: "debug", description: "Development only; absent in production" },
      { name: "admin", description: "Credential operations; only where ADMIN_TOKEN is set" },
    ],
    paths: pathsOf(routes),
    components: { schemas: componentSchemas(routes), securitySchemes: securitySchemes(security) },
  };
}
