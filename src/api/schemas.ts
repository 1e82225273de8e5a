import { z } from "zod";
import { TEST_METRIC_TYPES } from "../telemetry/metrics.ts";

/**
 * The bodies this service sends and accepts, as zod schemas. Handlers type what they return with
 * these, and the route definitions (src/api/routes.ts) name them, so the OpenAPI document built from
 * those routes cannot drift from what the handlers send.
 */

export const problemSchema = z
  .object({
    type: z.string().meta({ description: "about:blank or urn:auth-service:problem:<kind>" }),
    title: z.string(),
    status: z.int().min(400).max(599),
    detail: z.string().optional(),
  })
  .meta({ id: "Problem", description: "RFC 9457 problem details" });

export const tokenResponseSchema = z
  .object({
    access_token: z.string().regex(/^[A-Za-z0-9_-]+\.[A-Za-z0-9_-]+\.[A-Za-z0-9_-]+$/),
    expires_in: z.int().min(60).max(3600).meta({ description: "Token lifetime in seconds" }),
    token_type: z.literal("Bearer"),
  })
  .meta({
    id: "TokenResponse",
    description: "A JWT Kong's jwt plugin accepts for the authenticated consumer",
  });
export type TokenResponse = z.infer<typeof tokenResponseSchema>;

const publicJwkSchema = z
  .object({
    kty: z.enum(["OKP", "EC", "RSA"]),
    kid: z.string(),
    alg: z.enum(["EdDSA", "ES256", "RS256"]),
    use: z.literal("sig"),
    crv: z.enum(["Ed25519", "P-256"]).optional(),
    x: z.string().optional(),
    y: z.string().optional(),
    n: z.string().optional(),
    e: z.string().optional(),
  })
  .meta({ description: "A public signing key (RFC 7517 §4); never a private member" });

export const jwksSchema = z.object({ keys: z.array(publicJwkSchema).min(1) }).meta({
  id: "JwkSet",
  description: "Every key tokens may be signed with, the active one included (RFC 7517 §5)",
});

export const oauthErrorSchema = z
  .object({
    error: z.enum([
      "invalid_request",
      "invalid_client",
      "invalid_scope",
      "unsupported_grant_type",
      "server_error",
      "temporarily_unavailable",
    ]),
    error_description: z.string().optional(),
  })
  .meta({ id: "OAuthError", description: "RFC 6749 §5.2 error (POST /tokens only)" });

/** RFC 6749 §4.4.2; other parameters are ignored (§3.2). */
export const tokenFormSchema = z.object({
  grant_type: z.literal("client_credentials"),
  scope: z.never().optional().meta({ description: "Refused with invalid_scope: tokens carry no scope" }),
});

const status = z.enum(["healthy", "degraded", "unhealthy"]);
const endpoints = z.object({ traces: z.string(), metrics: z.string(), logs: z.string() });

export const healthResponseSchema = z
  .object({
    status,
    timestamp: z.iso.datetime(),
    uptime: z.number().min(0),
    version: z.string(),
    environment: z.string(),
    dependencies: z.object({
      kong: z.object({
        status: status,
        mode: z.enum(["API_GATEWAY", "KONNECT"]),
        url: z.string(),
        responseTime: z.number().min(0),
        breaker: z.enum(["closed", "open", "half-open"]),
        failingSince: z.iso
          .datetime()
          .optional()
          .meta({ description: "When this instance first saw Kong fail in the current outage" }),
        error: z.string().optional(),
      }),
      cache: z.object({
        status,
        type: z.enum(["memory", "memory+redis"]),
        size: z.int().min(0),
        hits: z.int().min(0),
        misses: z.int().min(0),
        ttlMs: z.int().min(0),
      }),
      redis: z
        .object({
          status,
          mode: z.enum(["standalone", "sentinel", "cluster"]),
          url: z.string(),
          highAvailability: z.boolean(),
          invalidations: z.enum(["subscribed", "not subscribed"]).optional().meta({
            description:
              "Whether invalidations and rotations published by other instances reach this one; Redis is degraded while not",
          }),
        })
        .optional(),
      telemetry: z.object({
        status,
        mode: z.enum(["console", "otlp", "both"]),
        endpoints: endpoints.optional(),
      }),
    }),
  })
  .meta({ id: "Health" });
export type HealthResponse = z.infer<typeof healthResponseSchema>;

export const liveResponseSchema = z
  .object({ status: z.literal("alive"), timestamp: z.iso.datetime(), uptime: z.number().min(0) })
  .meta({ id: "Liveness" });

export const readyResponseSchema = z
  .object({
    status: z.enum(["ready", "not_ready"]),
    timestamp: z.iso.datetime().optional(),
    reason: z.string().optional(),
  })
  .meta({ id: "Readiness" });
export type ReadyResponse = z.infer<typeof readyResponseSchema>;

const exportRecord = z.object({
  at: z.iso.datetime(),
  items: z.int().min(0),
  durationMs: z.number().min(0),
  ok: z.boolean(),
});

export const telemetryHealthSchema = z
  .object({
    status,
    mode: z.enum(["console", "otlp", "both"]),
    endpoints: endpoints.optional(),
    exporters: z.record(z.enum(["traces", "metrics", "logs"]), z.enum(["active", "failing", "disabled"])),
    lastExports: z.record(z.enum(["traces", "metrics", "logs"]), exportRecord.nullable()),
    droppedSpans: z.int().min(0).meta({
      description: "Spans dropped since start because the export queue (OTEL_BSP_MAX_QUEUE_SIZE) was full",
    }),
  })
  .meta({ id: "TelemetryHealth" });
export type TelemetryHealth = z.infer<typeof telemetryHealthSchema>;

export const metricsHealthSchema = z
  .object({
    status,
    metricsEnabled: z.boolean(),
    exportInterval: z.int().min(0),
    lastExport: z.iso.datetime().nullable(),
    counters: z.object({
      http_requests_total: z.int().min(0),
      jwt_tokens_generated: z.int().min(0),
      kong_operations: z.int().min(0),
      cache_hits: z.int().min(0),
      cache_misses: z.int().min(0),
    }),
  })
  .meta({ id: "MetricsHealth" });
export type MetricsHealth = z.infer<typeof metricsHealthSchema>;

const count = z.int().min(0);
export const metricsOverviewSchema = z
  .object({
    uptime: z.number().min(0),
    requests: z.object({ total: count, success: count, errors: count, rate: z.number().min(0) }),
    tokens: z.object({
      generated: count,
      failed: count,
      generatedByAlgorithm: z
        .record(z.string(), count)
        .meta({ description: "jwt_tokens_generated{outcome=success} by algorithm" }),
      failedByReason: z
        .record(z.string(), count)
        .meta({ description: "jwt_tokens_generated{outcome=failure} by reason" }),
      averageTime: z.number().min(0).meta({ description: "Milliseconds per issued token" }),
    }),
    cache: z.object({
      hits: count,
      misses: count,
      hitRate: z.number().min(0).max(1),
      size: count,
      ttl: count.meta({ description: "Milliseconds" }),
      staleFallbacks: count,
      redis: z.enum(["disabled", "ready", "degraded", "down"]),
    }),
    circuitBreaker: z.object({
      state: z.enum(["closed", "open", "half-open"]),
      fires: count,
      failures: count,
      rejects: count,
      timeouts: count,
      successes: count,
      fallbacks: count,
    }),
    kong: z.object({ operations: z.object({ success: count, failure: count, rejected: count }) }),
    memory: z.object({ rss: count, heapTotal: count, heapUsed: count, external: count, arrayBuffers: count }),
  })
  .meta({ id: "MetricsOverview" });
export type MetricsOverview = z.infer<typeof metricsOverviewSchema>;

export const metricsTestBodySchema = z
  .strictObject({
    count: z.int().min(1).max(1000).default(1),
    type: z.enum(TEST_METRIC_TYPES, `must be one of ${TEST_METRIC_TYPES.join(", ")}`).default("test"),
  })
  .meta({ description: "Test metrics to record" });
export type MetricsTestBody = z.infer<typeof metricsTestBodySchema>;

export const metricsTestResponseSchema = z
  .object({
    success: z.literal(true),
    exported: z.boolean(),
    metrics: z.object({
      counters: z.array(z.string()),
      histograms: z.array(z.string()),
      values: z.object({ counter: count, histogram: z.array(z.number()) }),
    }),
  })
  .meta({ id: "MetricsTestResponse" });
export type MetricsTestResponse = z.infer<typeof metricsTestResponseSchema>;

export const metricsExportResponseSchema = z
  .object({
    success: z.boolean(),
    exported: z.object({ metrics: count, spans: count, timestamp: z.iso.datetime(), duration: count }),
  })
  .meta({ id: "MetricsExportResponse" });
export type MetricsExportResponse = z.infer<typeof metricsExportResponseSchema>;

export const metricsStatsResponseSchema = z
  .object({
    mode: z.enum(["console", "otlp", "both"]),
    exports: z.object({ total: count, successful: count, failed: count, successRate: z.number().nullable() }),
    lastExport: z
      .object({ timestamp: z.iso.datetime(), metrics: count, duration: z.number(), success: z.boolean() })
      .nullable(),
    errors: z.array(z.object({ timestamp: z.iso.datetime(), signal: z.string(), error: z.string() })),
  })
  .meta({ id: "MetricsStatsResponse" });
export type MetricsStatsResponse = z.infer<typeof metricsStatsResponseSchema>;

/** Request bodies of the profiling start and stop endpoints; the longest session is configured. */
export function profilingBodySchemas(maxSessionMs: number) {
  return {
    start: z.strictObject({
      heapSnapshot: z.boolean().optional(),
      maxDurationMs: z.int().min(100).max(maxSessionMs).optional(),
    }),
    stop: z.strictObject({ heapSnapshot: z.boolean().optional() }),
  };
}
type ProfilingBodies = ReturnType<typeof profilingBodySchemas>;
export type ProfilingStartBody = z.infer<ProfilingBodies["start"]>;
export type ProfilingStopBody = z.infer<ProfilingBodies["stop"]>;

/** Profiling answers are described loosely: their detail belongs to the profiler, not the API contract. */
export const profilingResponseSchema = z.looseObject({}).meta({ id: "ProfilingResponse" });

export const openApiDocumentSchema = z.looseObject({}).meta({ id: "OpenApiDocument" });

/**
 * The order the document lists its components in: every body this API can send, whichever routes
 * are mounted (a schema a route names but this list lacks is appended after them).
 */
export const DOCUMENTED_BODIES: readonly z.ZodType[] = [
  problemSchema,
  tokenResponseSchema,
  oauthErrorSchema,
  jwksSchema,
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
  openApiDocumentSchema,
];
