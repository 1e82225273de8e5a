import { z } from "zod";
import type { Config } from "../config/index.ts";
import {
  healthResponseSchema,
  liveResponseSchema,
  metricsExportResponseSchema,
  metricsHealthSchema,
  metricsOverviewSchema,
  metricsStatsResponseSchema,
  metricsTestBodySchema,
  metricsTestResponseSchema,
  openApiDocumentSchema,
  problemSchema,
  profilingResponseSchema,
  readyResponseSchema,
  telemetryHealthSchema,
  tokenResponseSchema,
} from "./schemas.ts";

type JsonSchema = Record<string, unknown>;
type Schema = z.ZodType;

const RESPONSE_SCHEMAS: Schema[] = [
  problemSchema,
  tokenResponseSchema,
  healthResponseSchema,
  liveResponseSchema,
  readyResponseSchema,
  telemetryHealthSchema,
  metricsHealthSchema,
  metricsOverviewSchema,
  metricsTestResponseSchema,
  metricsExportResponseSchema,
  metricsStatsResponseSchema,
  profilingResponseSchema,
];

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
const retryAfter = { "Retry-After": { description: "Seconds to wait", schema: { type: "integer" } } };
const rateLimitHeaders = {
  "RateLimit-Limit": { description: "Requests allowed per window", schema: { type: "integer" } },
  "RateLimit-Remaining": { description: "Requests left in the window", schema: { type: "integer" } },
  "RateLimit-Reset": { description: "Seconds until the window resets", schema: { type: "integer" } },
};
const requestIdHeader = {
  "X-Request-Id": {
    description: "Echo of a sane incoming X-Request-Id, or a generated UUID",
    schema: { type: "string" },
  },
};

interface Operation {
  summary: string;
  tags: string[];
  ok: { status: number; schema: Schema; headers?: Record<string, unknown>; description: string };
  extra?: Record<string, { description: string; headers?: Record<string, unknown>; schema?: Schema }>;
  body?: JsonSchema;
  /** Also served as YAML (the document itself). */
  yaml?: boolean;
  parameters?: unknown[];
  security?: Record<string, string[]>[];
}

function operation(op: Operation) {
  const responses: Record<string, unknown> = {
    [op.ok.status]: {
      description: op.ok.description,
      headers: { ...requestIdHeader, ...op.ok.headers },
      content: {
        "application/json": { schema: ref(op.ok.schema) },
        ...(op.yaml ? { "application/yaml": { schema: { type: "string" } } } : {}),
      },
    },
  };
  for (const [status, extra] of Object.entries(op.extra ?? {})) {
    responses[status] = {
      description: extra.description,
      headers: { ...requestIdHeader, ...extra.headers },
      content: extra.schema ? { "application/json": { schema: ref(extra.schema) } } : problemContent,
    };
  }
  responses["4XX"] = { description: "Client error (404, 405, 413, ...)", content: problemContent };
  responses["5XX"] = { description: "Server error", content: problemContent };
  return {
    summary: op.summary,
    tags: op.tags,
    ...(op.parameters ? { parameters: op.parameters } : {}),
    ...(op.security ? { security: op.security } : {}),
    ...(op.body
      ? { requestBody: { required: false, content: { "application/json": { schema: op.body } } } }
      : {}),
    responses,
  };
}

export interface DocumentInput {
  readonly api: Config["api"];
  readonly security: Config["security"];
  /** The paths and methods actually mounted: the document describes nothing else. */
  readonly routes: Readonly<Record<string, readonly string[]>>;
  /** Request bodies of the profiling endpoints, when they are mounted. */
  readonly profilingBodies?: { start: Schema; stop: Schema };
}

/** The OpenAPI 3.1 document of the running service. */
export function buildOpenApiDocument(input: DocumentInput): JsonSchema {
  const { api, security } = input;
  const consumerParameters = [
    header(
      "X-Consumer-ID",
      "Kong consumer id (set by Kong's auth plugins)",
      { type: "string", format: "uuid" },
      true,
    ),
    header(
      "X-Consumer-Username",
      "Kong consumer username",
      { type: "string", minLength: 1, maxLength: 256 },
      true,
    ),
    header("X-Anonymous-Consumer", "Set to true by Kong for the anonymous consumer, which is refused", {
      type: "string",
    }),
  ];
  const tokenSecurity: Record<string, string[]> = security.gatewaySecret
    ? { kongConsumer: [], kongGateway: [] }
    : { kongConsumer: [] };
  const debug = security.debugToken ? [{ debugToken: [] }] : undefined;

  const catalogue: Record<string, Record<string, Operation>> = {
    "/": {
      GET: {
        summary: "This document (JSON; YAML with Accept: application/yaml or ?format=yaml)",
        tags: ["documentation"],
        ok: { status: 200, schema: openApiDocumentSchema, description: "OpenAPI 3.1" },
        yaml: true,
        parameters: [
          {
            name: "format",
            in: "query",
            required: false,
            schema: { type: "string", enum: ["json", "yaml"] },
          },
        ],
      },
    },
    "/tokens": {
      GET: {
        summary: "Issue a JWT for the consumer Kong authenticated",
        tags: ["tokens"],
        parameters: consumerParameters,
        security: [tokenSecurity],
        ok: { status: 200, schema: tokenResponseSchema, headers: rateLimitHeaders, description: "A token" },
        extra: {
          "401": {
            description: "Missing, malformed or anonymous consumer; unknown consumer; untrusted gateway",
          },
          "403": { description: "The peer is not one of TRUSTED_PROXY_CIDRS" },
          "429": { description: "Rate limit exceeded", headers: { ...retryAfter, ...rateLimitHeaders } },
          "500": { description: "The service cannot use Kong's Admin API (misconfiguration)" },
          "503": { description: "Kong unreachable and no stale credential", headers: retryAfter },
        },
      },
    },
    "/health": {
      GET: {
        summary: "Health with dependencies",
        tags: ["health"],
        ok: { status: 200, schema: healthResponseSchema, description: "healthy or degraded" },
        extra: { "503": { description: "unhealthy: no token can be issued", schema: healthResponseSchema } },
      },
    },
    "/health/live": {
      GET: {
        summary: "Liveness",
        tags: ["health"],
        ok: { status: 200, schema: liveResponseSchema, description: "Alive" },
      },
    },
    "/health/ready": {
      GET: {
        summary: "Readiness",
        tags: ["health"],
        ok: { status: 200, schema: readyResponseSchema, description: "Ready" },
        extra: { "503": { description: "Draining or unable to issue tokens", schema: readyResponseSchema } },
      },
    },
    "/health/telemetry": {
      GET: {
        summary: "Telemetry exporters",
        tags: ["health"],
        ok: { status: 200, schema: telemetryHealthSchema, description: "Status" },
      },
    },
    "/health/metrics": {
      GET: {
        summary: "Metrics export status",
        tags: ["health"],
        ok: { status: 200, schema: metricsHealthSchema, description: "Status" },
      },
    },
    "/metrics": {
      GET: {
        summary: "Service metrics as JSON",
        tags: ["metrics"],
        ok: { status: 200, schema: metricsOverviewSchema, description: "Metrics" },
      },
    },
    "/debug/metrics/test": {
      POST: {
        summary: "Record test metrics (not in production)",
        tags: ["debug"],
        body: jsonSchema(metricsTestBodySchema, "input"),
        ok: { status: 200, schema: metricsTestResponseSchema, description: "Recorded" },
        ...(debug ? { security: debug } : {}),
      },
    },
    "/debug/metrics/export": {
      POST: {
        summary: "Force an OTLP export (not in production)",
        tags: ["debug"],
        ok: { status: 200, schema: metricsExportResponseSchema, description: "Exported" },
        extra: { "409": { description: "TELEMETRY_MODE is console" } },
        ...(debug ? { security: debug } : {}),
      },
    },
    "/debug/metrics/stats": {
      GET: {
        summary: "Export statistics (not in production)",
        tags: ["debug"],
        ok: { status: 200, schema: metricsStatsResponseSchema, description: "Statistics" },
        ...(debug ? { security: debug } : {}),
      },
    },
    ...profilingOperations(input.profilingBodies, debug),
  };

  const paths: Record<string, Record<string, unknown>> = {};
  for (const [path, methods] of Object.entries(input.routes)) {
    const documented = catalogue[path];
    if (!documented) throw new Error(`route ${path} has no OpenAPI description`);
    const openApiPath = path.replace(/:([A-Za-z]+)/g, "{$1}");
    paths[openApiPath] = {};
    for (const method of methods) {
      const op = documented[method];
      if (!op) throw new Error(`route ${method} ${path} has no OpenAPI description`);
      (paths[openApiPath] as Record<string, unknown>)[method.toLowerCase()] = operation(op);
    }
  }

  // One registry of the response bodies: each becomes a component, and refers to the others by $ref.
  const registry = z.registry<{ id: string }>();
  for (const schema of [...RESPONSE_SCHEMAS, openApiDocumentSchema])
    registry.add(schema, { id: idOf(schema) });
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
    ],
    paths,
    components: {
      schemas,
      securitySchemes: {
        kongConsumer: {
          type: "apiKey",
          in: "header",
          name: "X-Consumer-ID",
          description:
            "Set by Kong's key-auth plugin after it verified the client's apikey, with X-Consumer-Username. " +
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
        ...(debug ? { debugToken: { type: "apiKey", in: "header", name: "X-Debug-Token" } } : {}),
      },
    },
  };
}

function header(name: string, description: string, schema: JsonSchema, required = false) {
  return { name, in: "header", required, description, schema };
}

function profilingOperations(
  bodies: DocumentInput["profilingBodies"],
  debug: Record<string, string[]>[] | undefined,
): Record<string, Record<string, Operation>> {
  if (!bodies) return {};
  const common = { tags: ["debug"], ...(debug ? { security: debug } : {}) };
  const ok = (description: string, status = 200) => ({
    status,
    schema: profilingResponseSchema,
    description,
  });
  const busy = { "409": { description: "A session is already running, or none is" } };
  return {
    "/debug/profiling/start": {
      POST: {
        summary: "Start a profiling session",
        ...common,
        body: jsonSchema(bodies.start, "input"),
        ok: ok("Started", 201),
        extra: busy,
      },
    },
    "/debug/profiling/stop": {
      POST: {
        summary: "Stop the session and write its files",
        ...common,
        body: jsonSchema(bodies.stop, "input"),
        ok: ok("Stopped"),
        extra: busy,
      },
    },
    "/debug/profiling/status": { GET: { summary: "Profiling status", ...common, ok: ok("Status") } },
    "/debug/profiling/reports": { GET: { summary: "List reports", ...common, ok: ok("Reports") } },
    "/debug/profiling/reports/:name": {
      GET: {
        summary: "Download a .cpuprofile or .heapsnapshot",
        ...common,
        parameters: [{ name: "name", in: "path", required: true, schema: { type: "string" } }],
        ok: ok("The file"),
      },
    },
    "/debug/profiling/cleanup": { POST: { summary: "Delete all reports", ...common, ok: ok("Deleted") } },
  };
}
