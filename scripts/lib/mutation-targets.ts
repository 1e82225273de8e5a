/**
 * What `bun run mutate <folder>` mutates, and the tests that run against each mutant. The command
 * runner reports no per-test coverage, so every mutant runs the whole list: each list holds the
 * unit tests of the folder plus the integration tests whose subject it is, and nothing slow that
 * does not exercise it.
 */
export interface MutationTarget {
  readonly mutate: readonly string[];
  readonly tests: readonly string[];
}

export const MUTATION_TARGETS: Readonly<Record<string, MutationTarget>> = {
  jwt: {
    mutate: ["src/jwt/**/*.ts"],
    // The service keys are parsed and refused through the configuration's rules, and signed with
    // and published through the whole service: those are where their behaviour shows.
    tests: [
      "test/unit/jwt",
      "test/unit/config/signing.test.ts",
      "test/integration/tokens.happy.test.ts",
      "test/integration/tokens.service-keys.test.ts",
      "test/integration/jwks.test.ts",
    ],
  },
  resilience: {
    mutate: ["src/resilience/**/*.ts"],
    tests: ["test/unit/resilience", "test/integration/resilience.kong-outage.test.ts"],
  },
  security: {
    mutate: ["src/security/**/*.ts"],
    tests: ["test/unit/security", "test/integration/redis.rate-sync.test.ts"],
  },
  config: {
    mutate: ["src/config/**/*.ts"],
    tests: ["test/unit/config", "test/unit/tooling.test.ts", "test/unit/delivery/k8s.test.ts"],
  },
  http: {
    mutate: ["src/http/**/*.ts"],
    tests: ["test/unit/http", "test/integration/http.test.ts", "test/integration/tokens.oauth.test.ts"],
  },
  cache: {
    mutate: ["src/cache/**/*.ts"],
    // The unit tests run each part against the real Redis, a redis-server of their own (stopped,
    // hung with SIGSTOP) and silent or black-holing listeners: what the integration tests prove
    // through the whole service, in a few seconds.
    tests: ["test/unit/cache"],
  },
  credentials: {
    mutate: ["src/credentials/**/*.ts"],
    // The unit tests run the service over the Kong emulator and a real Redis; the integration tests
    // add the unknown-consumer memory and refresh-ahead as src/app.ts sets them. Rotation and
    // retirement run over the emulator and real Redis in their unit tests; the admin test drives
    // them through the routes.
    tests: [
      "test/unit/credentials",
      "test/integration/tokens.unknown-consumer.test.ts",
      "test/integration/tokens.refresh-ahead.test.ts",
      "test/integration/admin.test.ts",
    ],
  },
  kong: {
    mutate: ["src/kong/**/*.ts"],
    // The adapter's unit tests talk HTTP to a scripted Bun.serve or the Kong emulator: every answer
    // Kong can give is covered there, in about a second, without the whole service around it.
    tests: ["test/unit/kong"],
  },
  handlers: {
    mutate: ["src/handlers/**/*.ts"],
    // GET /tokens is the subject of every tokens.* file, and of the trust, rate-limit, trace and log
    // tests that look at what the handler counts, refuses, records and logs; /health is the subject
    // of the health files.
    tests: [
      "test/unit/profiling/handlers.test.ts",
      "test/unit/handlers",
      "test/integration/tokens.happy.test.ts",
      "test/integration/tokens.error.test.ts",
      "test/integration/tokens.metrics.test.ts",
      "test/integration/tokens.oauth.test.ts",
      "test/integration/tokens.security.test.ts",
      "test/integration/tokens.unknown-consumer.test.ts",
      "test/integration/security.trust.test.ts",
      "test/integration/security.rate-limit.test.ts",
      "test/integration/observability.otlp.test.ts",
      "test/integration/logging.security.test.ts",
      "test/integration/resilience.kong-outage.test.ts",
      "test/integration/health.test.ts",
      "test/integration/health.kong-outage.test.ts",
      "test/integration/health.redis-url.test.ts",
      "test/integration/redis.subscription.test.ts",
      "test/integration/jwks.test.ts",
      "test/integration/http.test.ts",
      "test/integration/admin.test.ts",
    ],
  },
  openapi: {
    mutate: ["src/openapi/**/*.ts", "scripts/generate-docs.ts"],
    tests: ["test/unit/api", "test/integration/openapi.test.ts"],
  },
  telemetry: {
    mutate: ["src/telemetry/**/*.ts"],
    // The unit tests read what reaches the SDK through its Prometheus exposition (the deferred meter,
    // console telemetry, the exposition's names); the bundle's OTLP export is test/unit/delivery's.
    tests: ["test/unit/telemetry"],
  },
  api: {
    mutate: ["src/api/**/*.ts"],
    // The route definitions: the document they make (the drift check compares every word of it), and
    // the steps in front of /tokens, what each refuses and how it is counted.
    tests: [
      "test/unit/api",
      "test/integration/openapi.test.ts",
      "test/integration/tokens.metrics.test.ts",
      "test/integration/tokens.oauth.test.ts",
      "test/integration/security.trust.test.ts",
      "test/integration/security.rate-limit.test.ts",
      "test/integration/security.debug-routes.test.ts",
    ],
  },
};

/** The folders the mutation score is promised over (issue 13); `bun run mutate` runs every target. */
export const REQUIRED_TARGETS = [
  "http",
  "cache",
  "credentials",
  "kong",
  "security",
  "jwt",
  "resilience",
  "config",
] as const;
