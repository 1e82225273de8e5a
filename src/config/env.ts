/**
 * Step 2 of configuration: the explicit map from environment variable to configuration path.
 * One row per variable; nothing else in the code reads `process.env`.
 */
export interface EnvBinding {
  readonly name: string;
  readonly path: readonly [string, string];
  /** Secrets are never echoed, not even in validation messages or the start-up summary. */
  readonly secret?: boolean;
  /** One line for .env.example and docs/configuration.md. */
  readonly description: string;
  /** A value to show where there is no default. */
  readonly example?: string;
}

export const envBindings: readonly EnvBinding[] = [
  { name: "PORT", path: ["app", "port"], description: "TCP port the HTTP server listens on" },
  { name: "HOST", path: ["app", "host"], description: "Interface the HTTP server binds to" },
  {
    name: "NODE_ENV",
    path: ["app", "environment"],
    description: "Runtime environment; production turns on the strict rules, staging some of them",
  },
  {
    name: "LOG_LEVEL",
    path: ["app", "logLevel"],
    description: "Lowest log level written",
  },
  {
    name: "SHUTDOWN_TIMEOUT_MS",
    path: ["app", "shutdownTimeoutMs"],
    description:
      "Whole budget after SIGTERM: the drain window, then in-flight requests, before what still runs is cut",
  },
  {
    name: "SHUTDOWN_DRAIN_MS",
    path: ["app", "shutdownDrainMs"],
    description:
      "Drain window after SIGTERM: readiness fails, answers carry Connection: close, then the listener closes; " +
      "0 or less than SHUTDOWN_TIMEOUT_MS",
  },

  {
    name: "KONG_MODE",
    path: ["kong", "mode"],
    description: "API_GATEWAY (self-hosted Admin API) or KONNECT (Konnect control plane API)",
  },
  {
    name: "KONG_ADMIN_URL",
    path: ["kong", "adminUrl"],
    description: "Admin API base URL, or https://<region>.api.konghq.com/v2/control-planes/<id> for Konnect",
    example: "http://localhost:8001",
  },
  {
    name: "KONG_ADMIN_TOKEN",
    path: ["kong", "adminToken"],
    secret: true,
    description:
      "Kong-Admin-Token (Enterprise RBAC) or Konnect kpat_/spat_ token; optional for open-source Kong",
  },
  {
    name: "KONG_CONNECTION_TIMEOUT",
    path: ["kong", "connectionTimeoutMs"],
    description: "Timeout of one Kong Admin API call in milliseconds",
  },
  {
    name: "KONG_ANONYMOUS_CONSUMERS",
    path: ["kong", "anonymousConsumers"],
    description:
      "Comma-separated ids or usernames of Kong's anonymous consumer(s), as in the auth plugins' anonymous setting; never given a token",
  },

  {
    name: "KONG_JWT_AUTHORITY",
    path: ["jwt", "authority"],
    description: "Token issuer written to the iss claim",
    example: "https://sts-api.example.com/",
  },
  {
    name: "KONG_JWT_AUDIENCE",
    path: ["jwt", "audience"],
    description: "Token audience written to the aud claim",
    example: "http://api.example.com/",
  },
  {
    name: "KONG_JWT_ISSUER",
    path: ["jwt", "issuers"],
    description: "Comma-separated issuers; the first replaces the authority in iss",
  },
  {
    name: "KONG_JWT_KEY_CLAIM_NAME",
    path: ["jwt", "keyClaimName"],
    description: "Claim carrying the credential key; must equal the jwt plugin's key_claim_name",
  },
  {
    name: "JWT_EXPIRATION_MINUTES",
    path: ["jwt", "expirationMinutes"],
    description: "Token lifetime in minutes (1-60)",
  },
  {
    name: "KONG_JWT_CLOCK_SKEW_SECONDS",
    path: ["jwt", "clockSkewSeconds"],
    description:
      "How far a Kong node's clock may be behind or ahead of this service's; nbf is backdated by it, and the " +
      "jwt plugin's maximum_expiration must be at least JWT_EXPIRATION_MINUTES × 60 plus it",
  },
  {
    name: "KONG_JWT_SECRET_IS_BASE64",
    path: ["jwt", "secretIsBase64"],
    description: "Mirror of the jwt plugin's secret_is_base64: sign with the base64url-decoded secret",
  },
  {
    name: "JWT_UNIQUE_NAME_DOMAIN",
    path: ["jwt", "uniqueNameDomain"],
    description: "Prefix of the unique_name claim (<domain>#<username>)",
  },

  {
    name: "CACHE_TTL_SECONDS",
    path: ["cache", "ttlSeconds"],
    description: "How long a credential is used from cache before Kong is asked again",
  },
  {
    name: "CACHE_MAX_SIZE",
    path: ["cache", "maxSize"],
    description: "Most consumers kept in the memory cache (least recently used evicted)",
  },

  {
    name: "STALE_DATA_TOLERANCE_MINUTES",
    path: ["cache", "staleToleranceMinutes"],
    description: "How long past its TTL a credential is kept to sign with while Kong is unusable",
  },
  {
    name: "HIGH_AVAILABILITY",
    path: ["cache", "highAvailability"],
    description: "Also keep the stale copies in Redis, so a new instance can ride out a Kong outage",
  },
  {
    name: "CACHE_ENCRYPTION_KEY",
    path: ["cache", "encryptionKey"],
    secret: true,
    description: "32 bytes, base64: encrypts credential secrets stored in Redis (AES-256-GCM)",
  },
  {
    name: "CIRCUIT_BREAKER_TIMEOUT",
    path: ["breaker", "timeoutMs"],
    description: "Longest a Kong Admin API operation may take, retry included, before it counts as failed",
  },
  {
    name: "CIRCUIT_BREAKER_ERROR_THRESHOLD",
    path: ["breaker", "errorThresholdPercentage"],
    description: "Percentage of failed Kong operations in a 10 s window that opens the breaker",
  },
  {
    name: "CIRCUIT_BREAKER_RESET_TIMEOUT",
    path: ["breaker", "resetTimeoutMs"],
    description: "How long the breaker stays open before one trial call is let through",
  },
  {
    name: "REDIS_ENABLED",
    path: ["redis", "enabled"],
    description: "Use Redis as the shared second cache tier",
  },
  {
    name: "REDIS_URL",
    path: ["redis", "url"],
    description: "redis:// or rediss:// URL (rediss:// in production)",
  },
  { name: "REDIS_PASSWORD", path: ["redis", "password"], secret: true, description: "Redis AUTH password" },
  { name: "REDIS_DB", path: ["redis", "db"], description: "Redis logical database" },
  {
    name: "REDIS_MAX_RETRIES",
    path: ["redis", "maxRetries"],
    description: "Quick reconnection attempts before backing off to one attempt every few seconds",
  },
  {
    name: "REDIS_RETRY_DELAY_MS",
    path: ["redis", "retryDelayMs"],
    description: "Base delay between reconnection attempts",
  },
  {
    name: "REDIS_COMMAND_TIMEOUT_MS",
    path: ["redis", "commandTimeoutMs"],
    description: "Longest a request waits on one Redis command before carrying on without it",
  },
  {
    name: "REDIS_CONNECT_TIMEOUT_MS",
    path: ["redis", "connectTimeoutMs"],
    description: "Timeout of one connection attempt, from TCP connect to the end of the handshake",
  },
  {
    name: "REDIS_KEY_PREFIX",
    path: ["redis", "keyPrefix"],
    description: "Prefix of every key and channel, so several deployments can share one Redis",
  },
  {
    name: "TELEMETRY_MODE",
    path: ["telemetry", "mode"],
    description: "console: ECS logs to stdout only; otlp: export traces, metrics and logs; both",
  },
  {
    name: "OTEL_SERVICE_NAME",
    path: ["telemetry", "serviceName"],
    description: "service.name resource attribute",
  },
  {
    name: "OTEL_SERVICE_VERSION",
    path: ["telemetry", "serviceVersion"],
    description: "service.version resource attribute (defaults to the package version)",
  },
  {
    name: "OTEL_EXPORTER_OTLP_ENDPOINT",
    path: ["telemetry", "endpoint"],
    description: "OTLP/HTTP base URL; /v1/traces, /v1/metrics and /v1/logs are appended",
  },
  {
    name: "OTEL_EXPORTER_OTLP_TRACES_ENDPOINT",
    path: ["telemetry", "tracesEndpoint"],
    description: "Full OTLP/HTTP traces URL (overrides the base endpoint)",
  },
  {
    name: "OTEL_EXPORTER_OTLP_METRICS_ENDPOINT",
    path: ["telemetry", "metricsEndpoint"],
    description: "Full OTLP/HTTP metrics URL (overrides the base endpoint)",
  },
  {
    name: "OTEL_EXPORTER_OTLP_LOGS_ENDPOINT",
    path: ["telemetry", "logsEndpoint"],
    description: "Full OTLP/HTTP logs URL (overrides the base endpoint)",
  },
  {
    name: "OTEL_EXPORTER_OTLP_HEADERS",
    path: ["telemetry", "headers"],
    secret: true,
    description:
      "Headers sent with every OTLP export (key=value,key2=value2, values percent-encoded); read by the exporters",
  },
  {
    name: "OTEL_EXPORTER_OTLP_TRACES_HEADERS",
    path: ["telemetry", "tracesHeaders"],
    secret: true,
    description: "Headers sent with trace exports only, added to OTEL_EXPORTER_OTLP_HEADERS",
  },
  {
    name: "OTEL_EXPORTER_OTLP_METRICS_HEADERS",
    path: ["telemetry", "metricsHeaders"],
    secret: true,
    description: "Headers sent with metric exports only, added to OTEL_EXPORTER_OTLP_HEADERS",
  },
  {
    name: "OTEL_EXPORTER_OTLP_LOGS_HEADERS",
    path: ["telemetry", "logsHeaders"],
    secret: true,
    description: "Headers sent with log exports only, added to OTEL_EXPORTER_OTLP_HEADERS",
  },
  {
    name: "OTEL_EXPORTER_OTLP_TIMEOUT",
    path: ["telemetry", "exportTimeoutMs"],
    description: "Timeout of one OTLP export in milliseconds",
  },
  {
    name: "OTEL_BSP_MAX_EXPORT_BATCH_SIZE",
    path: ["telemetry", "maxExportBatchSize"],
    description: "Most spans or log records in one export",
  },
  {
    name: "OTEL_BSP_MAX_QUEUE_SIZE",
    path: ["telemetry", "maxQueueSize"],
    description: "Most spans or log records waiting for export; beyond it they are dropped",
  },
  {
    name: "OTEL_METRIC_EXPORT_INTERVAL",
    path: ["telemetry", "metricExportIntervalMs"],
    description: "Milliseconds between metric exports",
  },
  {
    name: "OTEL_TRACES_SAMPLER",
    path: ["telemetry", "sampler"],
    description: "Standard OpenTelemetry sampler name",
  },
  {
    name: "OTEL_TRACES_SAMPLER_ARG",
    path: ["telemetry", "samplerArg"],
    description: "Ratio for the traceidratio samplers (0-1)",
  },
  {
    name: "TRUSTED_GATEWAY_SECRET",
    path: ["security", "gatewaySecret"],
    secret: true,
    description: "Shared secret Kong adds to /tokens requests (request-transformer); at least 32 characters",
  },
  {
    name: "TRUSTED_GATEWAY_HEADER",
    path: ["security", "gatewayHeader"],
    description: "Header carrying TRUSTED_GATEWAY_SECRET",
  },
  {
    name: "TRUSTED_PROXY_CIDRS",
    path: ["security", "trustedProxyCidrs"],
    description: "Comma-separated CIDRs; /tokens answers only peers inside them (Kong's addresses)",
  },
  {
    name: "ALLOW_UNVERIFIED_GATEWAY",
    path: ["security", "allowUnverifiedGateway"],
    description: "In production, accept neither check because the network already isolates the service",
  },
  {
    name: "RATE_LIMIT_WINDOW_MS",
    path: ["security", "rateLimitWindowMs"],
    description: "Length of the per-consumer rate-limit window on /tokens",
  },
  {
    name: "RATE_LIMIT_MAX_REQUESTS",
    path: ["security", "rateLimitMaxRequests"],
    description: "Token requests one consumer may make per window",
  },
  {
    name: "RATE_LIMIT_SYNC_MS",
    path: ["security", "rateLimitSyncMs"],
    description: "How often instances share their counts through Redis (like Kong's sync_rate)",
  },
  {
    name: "RATE_LIMIT_MAX_CONSUMERS",
    path: ["security", "rateLimitMaxConsumers"],
    description: "Most consumers the rate limiter counts at once; beyond it the oldest windows are forgotten",
  },
  {
    name: "KONG_CONNECTION_POOL_SIZE",
    path: ["security", "kongConnectionPoolSize"],
    description: "Most concurrent Kong Admin API calls; more wait in a bounded queue, then get 503",
  },
  {
    name: "DEBUG_TOKEN",
    path: ["security", "debugToken"],
    secret: true,
    description:
      "Debug and profiling endpoints require it in X-Debug-Token; in staging they exist only when it is set, never in production",
  },
  {
    name: "PROFILING_ENABLED",
    path: ["profiling", "enabled"],
    description: "Mount the /debug/profiling endpoints (refused in production; needs DEBUG_TOKEN in staging)",
  },
  {
    name: "PROFILING_OUTPUT_DIR",
    path: ["profiling", "outputDir"],
    description: "Where CPU profiles and heap snapshots are written",
  },
  {
    name: "API_CORS",
    path: ["api", "cors"],
    description: "Allowed CORS origins: * or a comma-separated list",
  },
  { name: "API_TITLE", path: ["api", "title"], description: "OpenAPI info.title" },
  { name: "API_DESCRIPTION", path: ["api", "description"], description: "OpenAPI info.description" },
  { name: "API_VERSION", path: ["api", "version"], description: "OpenAPI info.version" },
  { name: "API_CONTACT_NAME", path: ["api", "contactName"], description: "OpenAPI info.contact.name" },
  { name: "API_CONTACT_EMAIL", path: ["api", "contactEmail"], description: "OpenAPI info.contact.email" },
  { name: "API_LICENSE_NAME", path: ["api", "licenseName"], description: "OpenAPI info.license.name" },
  {
    name: "API_LICENSE_IDENTIFIER",
    path: ["api", "licenseIdentifier"],
    description: "OpenAPI info.license.identifier (SPDX)",
  },
];

export function envNameFor(path: readonly PropertyKey[]): string | undefined {
  const [section, key] = path;
  return envBindings.find((binding) => binding.path[0] === section && binding.path[1] === key)?.name;
}
