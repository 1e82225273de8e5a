/**
 * Step 1 of configuration: every value the service runs with when the environment is silent.
 * Values without a safe default (Kong URL, token, JWT authority and audience) are absent on purpose,
 * so validation names them instead of the service starting against the wrong Kong.
 */
import pkg from "../../package.json" with { type: "json" };

export const defaults = {
  app: {
    port: 3000,
    host: "0.0.0.0",
    environment: "development",
    logLevel: "info",
    shutdownTimeoutMs: 10_000,
    // Kubernetes takes a few seconds to take a terminating pod out of kube-proxy's and Kong's targets.
    shutdownDrainMs: 5_000,
  },
  kong: {
    mode: "API_GATEWAY",
    adminUrl: undefined,
    adminToken: undefined,
    connectionTimeoutMs: 5_000,
  },
  jwt: {
    authority: undefined,
    audience: undefined,
    issuers: undefined,
    keyClaimName: "key",
    expirationMinutes: 15,
    clockSkewSeconds: 30,
    secretIsBase64: false,
    uniqueNameDomain: "example.com",
  },
  cache: {
    ttlSeconds: 300,
    maxSize: 1000,
    staleToleranceMinutes: 60,
    highAvailability: false,
    encryptionKey: undefined,
  },
  breaker: {
    timeoutMs: 500,
    errorThresholdPercentage: 50,
    resetTimeoutMs: 30_000,
  },
  redis: {
    enabled: false,
    url: "redis://localhost:6379",
    password: undefined,
    db: 0,
    maxRetries: 3,
    retryDelayMs: 100,
    commandTimeoutMs: 500,
    connectTimeoutMs: 10_000,
    keyPrefix: "auth-service",
  },
  telemetry: {
    mode: "console",
    serviceName: "authentication-service",
    serviceVersion: pkg.version,
    endpoint: undefined,
    tracesEndpoint: undefined,
    metricsEndpoint: undefined,
    logsEndpoint: undefined,
    exportTimeoutMs: 10_000,
    maxExportBatchSize: 512,
    maxQueueSize: 2048,
    metricExportIntervalMs: 10_000,
    sampler: "parentbased_always_on",
    samplerArg: 1,
  },
  security: {
    gatewaySecret: undefined,
    gatewayHeader: "X-Gateway-Secret",
    trustedProxyCidrs: undefined,
    allowUnverifiedGateway: false,
    rateLimitWindowMs: 60_000,
    rateLimitMaxRequests: 1000,
    rateLimitSyncMs: 100,
    kongConnectionPoolSize: 10,
    debugToken: undefined,
  },
  profiling: {
    enabled: false,
    outputDir: "profiling",
  },
  api: {
    cors: "*",
    title: "Authentication Service API",
    description: "Issues short-lived JWTs for Kong consumers, accepted by Kong's jwt plugin",
    version: "1.0.0",
    contactName: "Platform Team",
    contactEmail: "platform@example.com",
    licenseName: "Proprietary",
    licenseIdentifier: "UNLICENSED",
  },
} as const;
