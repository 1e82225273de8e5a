import { isIP } from "node:net";
import { z } from "zod";
import {
  COMPOSE_DEMO_GATEWAY_SECRET,
  isLowVariety,
  isWeakKey,
  reachesThisHost,
  tooWideCidrs,
  WIDEST_IPV4_PREFIX,
  WIDEST_IPV6_PREFIX,
} from "./weak-values.ts";

/**
 * Step 4 of configuration: what a valid configuration is. Environment values arrive as strings, so
 * numbers and booleans are coerced here; the production rules live at the end, where they can see
 * the whole object and report every broken rule at once.
 */

/** The schema-level `error` answers for a non-number and a fraction; the range checks keep their own. */
const int = (min: number, max: number) =>
  z.coerce
    .number({ error: "must be a whole number" })
    .int()
    .min(min, `must be at least ${min}`)
    .max(max, `must be at most ${max}`);
const bool = z.union([z.boolean(), z.stringbool()], { error: "must be true or false" });
const text = (max = 512) => z.string().trim().min(1).max(max);
const httpUrl = z.url({ protocol: /^https?$/, error: "must be an http:// or https:// URL" });

/**
 * Claims the signer always writes; the credential key may share only `iss` with them
 * (docs/kong-facts.md#choice-claims).
 */
const RESERVED_CLAIMS = ["sub", "aud", "jti", "iat", "nbf", "exp", "name", "unique_name"] as const;

const keyClaimName = z
  .string()
  .regex(/^[A-Za-z_][A-Za-z0-9_.-]{0,63}$/, "must be a plain claim name such as key, iss or kid")
  .refine((name) => !(RESERVED_CLAIMS as readonly string[]).includes(name), {
    message: `must not be one of the claims the token already carries (${RESERVED_CLAIMS.join(", ")})`,
  });

/** "a, b,c" → ["a", "b", "c"]: every list variable is comma-separated, blanks ignored. */
const splitList = (value: string) =>
  value
    .split(",")
    .map((item) => item.trim())
    .filter(Boolean);

const issuers = z
  .string()
  .transform(splitList)
  .pipe(z.array(text(2048)).min(1, "must name at least one issuer"));

const cors = z
  .string()
  .trim()
  .min(1)
  .transform((value) => (value === "*" ? ("*" as const) : splitList(value)))
  .pipe(
    z.union([
      z.literal("*"),
      z
        .array(z.url({ protocol: /^https?$/, error: "must be * or a comma-separated list of origins" }))
        .min(1),
    ]),
  );

/**
 * 32 random bytes, base64 or base64url (Buffer's base64 decoder reads both alphabets and skips
 * spaces); kept as bytes so the value itself never travels further.
 */
const encryptionKey = z.string().transform((value, ctx) => {
  const bytes = Buffer.from(value, "base64");
  if (bytes.length !== 32) {
    ctx.addIssue("must be 32 bytes, base64-encoded (openssl rand -base64 32)");
    return z.NEVER;
  }
  return new Uint8Array(bytes);
});

/**
 * OTEL_EXPORTER_OTLP_*HEADERS as the exporters read them (key=value pairs, comma-separated, values
 * percent-encoded). Never refused: the exporters read the variable themselves; the service keeps the
 * values only to scrub them from logs.
 */
const otlpHeaders = z.string().transform((value) => {
  const headers: Record<string, string> = {};
  for (const pair of splitList(value)) {
    const split = pair.indexOf("=");
    if (split <= 0) continue;
    const raw = pair.slice(split + 1).trim();
    headers[pair.slice(0, split).trim()] = percentDecoded(raw);
  }
  return headers;
});

export function percentDecoded(value: string): string {
  try {
    return decodeURIComponent(value);
  } catch {
    return value;
  }
}

/** Comma-separated IPv4/IPv6 CIDRs; a bare address means just that host. */
const cidrs = z
  .string()
  .transform(splitList)
  .pipe(
    z
      .array(
        z
          .string()
          .refine(isCidr, { message: "must be comma-separated CIDRs such as 10.0.0.0/8 or fd00::/8" }),
      )
      .min(1, "must name at least one CIDR"),
  );

export const configSchema = z
  .object({
    app: z.object({
      port: int(0, 65535),
      host: text(255),
      environment: z.enum(["development", "staging", "production", "test"]),
      logLevel: z.enum(["error", "warn", "info", "http", "verbose", "debug", "silly"]),
      shutdownTimeoutMs: int(0, 120_000),
      shutdownDrainMs: int(0, 120_000),
    }),
    kong: z.object({
      mode: z.enum(["API_GATEWAY", "KONNECT"]),
      adminUrl: httpUrl.transform((url) => url.replace(/\/+$/, "")),
      adminToken: z
        .string()
        .trim()
        .transform((token) => token.replace(/^Bearer\s+/i, ""))
        // fetch refuses any other header byte on every call, which would look like a Kong outage.
        .refine(
          (token) => /^[\x20-\x7e]*$/.test(token),
          "must be printable ASCII (it is sent in an HTTP header)",
        )
        .optional(),
      connectionTimeoutMs: int(100, 60_000),
      anonymousConsumers: z
        .string()
        .transform(splitList)
        .pipe(z.array(text(256)).min(1, "must name at least one consumer id or username")),
    }),
    jwt: z
      .object({
        authority: httpUrl,
        audience: text(2048),
        issuers: issuers.optional(),
        keyClaimName,
        expirationMinutes: int(1, 60),
        clockSkewSeconds: int(0, 300),
        secretIsBase64: bool,
        uniqueNameDomain: text(253),
      })
      // A Kong node ahead by the tolerance must still see the token unexpired
      // (docs/kong-facts.md#choice-clock-skew).
      .refine((jwt) => jwt.clockSkewSeconds < jwt.expirationMinutes * 60, {
        path: ["clockSkewSeconds"],
        message:
          "must be less than the token lifetime (JWT_EXPIRATION_MINUTES × 60): a Kong node that far ahead sees every token expired",
      }),
    cache: z.object({
      ttlSeconds: int(1, 86_400),
      maxSize: int(1, 10_000_000),
      staleToleranceMinutes: int(1, 120),
      highAvailability: bool,
      encryptionKey: encryptionKey.optional(),
    }),
    breaker: z.object({
      timeoutMs: int(100, 10_000),
      errorThresholdPercentage: int(1, 100),
      resetTimeoutMs: int(1_000, 300_000),
    }),
    redis: z.object({
      enabled: bool,
      url: z.url({ protocol: /^rediss?$/, error: "must be a redis:// or rediss:// URL" }),
      password: z.string().min(1).optional(),
      db: int(0, 15),
      maxRetries: int(1, 10),
      retryDelayMs: int(50, 5_000),
      commandTimeoutMs: int(10, 30_000),
      connectTimeoutMs: int(100, 30_000),
      keyPrefix: z.string().regex(/^[A-Za-z0-9_.-]{1,64}$/, "must be 1-64 of A-Z a-z 0-9 _ . -"),
    }),
    telemetry: z.object({
      mode: z.enum(["console", "otlp", "both"]),
      serviceName: text(255),
      serviceVersion: text(64),
      endpoint: httpUrl.optional(),
      tracesEndpoint: httpUrl.optional(),
      metricsEndpoint: httpUrl.optional(),
      logsEndpoint: httpUrl.optional(),
      headers: otlpHeaders.optional(),
      tracesHeaders: otlpHeaders.optional(),
      metricsHeaders: otlpHeaders.optional(),
      logsHeaders: otlpHeaders.optional(),
      exportTimeoutMs: int(1_000, 60_000),
      maxExportBatchSize: int(1, 5_000),
      maxQueueSize: int(1, 50_000),
      metricExportIntervalMs: int(100, 3_600_000),
      sampler: z.enum([
        "always_on",
        "always_off",
        "traceidratio",
        "parentbased_always_on",
        "parentbased_always_off",
        "parentbased_traceidratio",
      ]),
      samplerArg: z.coerce.number({ error: "must be a number" }).min(0).max(1),
    }),
    security: z.object({
      gatewaySecret: z.string().min(32, "must be at least 32 characters").optional(),
      gatewayHeader: z.string().regex(/^[A-Za-z0-9-]{1,64}$/, "must be an HTTP header name"),
      trustedProxyCidrs: cidrs.optional(),
      allowUnverifiedGateway: bool,
      rateLimitWindowMs: int(1_000, 3_600_000),
      rateLimitMaxRequests: int(1, 1_000_000),
      rateLimitSyncMs: int(10, 10_000),
      rateLimitMaxConsumers: int(1_000, 10_000_000),
      kongConnectionPoolSize: int(1, 500),
      debugToken: z.string().min(16, "must be at least 16 characters").optional(),
    }),
    profiling: z.object({
      enabled: bool,
      outputDir: text(1024),
    }),
    api: z.object({
      cors,
      title: text(),
      description: text(2048),
      version: text(64),
      contactName: text(),
      contactEmail: z.email(),
      licenseName: text(),
      licenseIdentifier: text(128),
    }),
  })
  // Runs even when fields above failed, so one start-up lists every problem. A failed field keeps its
  // value as read (a coerced number may be NaN, which no comparison below holds for), and every
  // section is there: loadConfig starts from the defaults, which have them all.
  .superRefine(
    (config, ctx) => {
      const problem = (path: [string, string], message: string) =>
        // Stryker disable next-line StringLiteral: the issue code is never shown; the operator reads the variable and message.
        ctx.addIssue({ code: "custom", path, message });
      const { kong, jwt, app, telemetry, security, redis, profiling } = config;
      const adminUrl = parseUrl(kong.adminUrl);

      if (kong.mode === "KONNECT") {
        if (!kong.adminToken)
          problem(["kong", "adminToken"], "is required in KONNECT mode (a kpat_ or spat_ token)");
        if (adminUrl && !/\/v2\/control-planes\/[^/]+\/?$/.test(adminUrl.pathname)) {
          problem(
            ["kong", "adminUrl"],
            "must be https://<region>.api.konghq.com/v2/control-planes/<id> in KONNECT mode",
          );
        }
      }
      if (config.cache.highAvailability === true && redis.enabled !== true) {
        problem(
          ["cache", "highAvailability"],
          "needs REDIS_ENABLED=true: the stale copies are kept in Redis",
        );
      }
      if (telemetry.mode !== "console") {
        for (const signal of ["traces", "metrics", "logs"] as const) {
          if (!telemetry.endpoint && !telemetry[`${signal}Endpoint`]) {
            problem(
              ["telemetry", `${signal}Endpoint`],
              `is needed in TELEMETRY_MODE=${telemetry.mode} (or set OTEL_EXPORTER_OTLP_ENDPOINT)`,
            );
          }
        }
      }
      if (telemetry.maxExportBatchSize > telemetry.maxQueueSize) {
        problem(["telemetry", "maxExportBatchSize"], "must not exceed OTEL_BSP_MAX_QUEUE_SIZE");
      }
      if (app.shutdownDrainMs > 0 && app.shutdownDrainMs >= app.shutdownTimeoutMs) {
        problem(
          ["app", "shutdownDrainMs"],
          `must be less than SHUTDOWN_TIMEOUT_MS (${app.shutdownTimeoutMs}), which also covers the requests ` +
            "still running when the drain ends; or 0 to close the listener at once",
        );
      }
      if (jwt.keyClaimName === "iss" && jwt.issuers) {
        problem(
          ["jwt", "issuers"],
          "cannot be set when KONG_JWT_KEY_CLAIM_NAME is iss: iss carries the credential key",
        );
      }

      const environment = app.environment;
      // Staging faces traffic as production does; only a developer's machine and tests may go without.
      if (
        (environment === "production" || environment === "staging") &&
        !security.gatewaySecret &&
        !security.trustedProxyCidrs &&
        security.allowUnverifiedGateway !== true
      ) {
        problem(
          ["security", "gatewaySecret"],
          `${environment} needs a trust boundary with Kong: set TRUSTED_GATEWAY_SECRET (and Kong's request-transformer ` +
            "to send it) or TRUSTED_PROXY_CIDRS (Kong's addresses), or ALLOW_UNVERIFIED_GATEWAY=true if the network " +
            "already lets only Kong reach this service",
        );
      }
      if (environment === "staging" && profiling.enabled === true && !security.debugToken) {
        problem(
          ["security", "debugToken"],
          "is required with PROFILING_ENABLED=true outside development and test: a heap snapshot holds every " +
            "secret the service has in memory",
        );
      }

      if (environment !== "production") return;
      if (profiling.enabled === true) problem(["profiling", "enabled"], "must be false in production");
      if (adminUrl?.protocol === "http:") problem(["kong", "adminUrl"], "must use https in production");
      if (adminUrl && reachesThisHost(adminUrl.hostname))
        problem(["kong", "adminUrl"], "must not point at localhost in production");
      if (adminUrl && (adminUrl.username || adminUrl.password)) {
        problem(["kong", "adminUrl"], "must not carry credentials; use KONG_ADMIN_TOKEN");
      }
      if (typeof kong.adminToken !== "string" || kong.adminToken.length < 32) {
        problem(["kong", "adminToken"], "must be at least 32 characters in production");
      }
      if (parseUrl(jwt.authority)?.protocol === "http:") {
        problem(["jwt", "authority"], "must use https in production");
      }
      if (telemetry.mode !== "console") {
        for (const key of ["endpoint", "tracesEndpoint", "metricsEndpoint", "logsEndpoint"] as const) {
          if (parseUrl(telemetry[key])?.protocol === "http:")
            problem(["telemetry", key], "must use https in production");
        }
      }
      if (/localhost|test/i.test(telemetry.serviceName)) {
        problem(["telemetry", "serviceName"], "must not mention localhost or test in production");
      }
      if (/^(dev|latest)$/i.test(telemetry.serviceVersion)) {
        problem(["telemetry", "serviceVersion"], "must be a real version, not dev or latest, in production");
      }
      if (redis.enabled === true && parseUrl(redis.url)?.protocol === "redis:") {
        problem(["redis", "url"], "must use rediss:// (TLS) in production");
      }
      if (redis.enabled === true && !redis.password && !parseUrl(redis.url)?.password) {
        problem(
          ["redis", "password"],
          "is required in production (or a password in REDIS_URL): Redis holds the secrets tokens are signed with",
        );
      }
      // Only well-formed entries are measured: a malformed one is reported above, and would throw here.
      const cidrs = security.trustedProxyCidrs;
      const wide = Array.isArray(cidrs) ? tooWideCidrs(cidrs.filter(isCidr)) : [];
      if (wide.length > 0) {
        problem(
          ["security", "trustedProxyCidrs"],
          `${wide.join(", ")} ${wide.length > 1 ? "admit" : "admits"} far more than Kong; list Kong's addresses, no range wider than ` +
            `/${WIDEST_IPV4_PREFIX} (IPv4) or /${WIDEST_IPV6_PREFIX} (IPv6)`,
        );
      }
      const secret = security.gatewaySecret;
      if (secret === COMPOSE_DEMO_GATEWAY_SECRET) {
        problem(
          ["security", "gatewaySecret"],
          "is the docker-compose demo value, public with the repository; generate one: openssl rand -base64 32",
        );
      } else if (typeof secret === "string" && isLowVariety(secret)) {
        problem(
          ["security", "gatewaySecret"],
          "is easy to guess (few distinct characters or a repeated pattern); generate one: openssl rand -base64 32",
        );
      }
      const key = config.cache.encryptionKey;
      if (key instanceof Uint8Array && isWeakKey(key)) {
        problem(
          ["cache", "encryptionKey"],
          "is not random (too few distinct bytes); generate one: openssl rand -base64 32",
        );
      }
    },
    { when: () => true },
  );

export type Config = z.output<typeof configSchema>;

function isCidr(value: string): boolean {
  // split() always returns at least one part.
  const [address, prefix, ...rest] = value.split("/") as [string, ...string[]];
  const family = isIP(address);
  if (family === 0 || rest.length > 0) return false;
  if (prefix === undefined) return true;
  if (!/^\d{1,3}$/.test(prefix)) return false;
  return Number(prefix) <= (family === 4 ? 32 : 128);
}

/** `undefined` (a variable not set) reads as the text "undefined", which is no URL either. */
function parseUrl(value: string | undefined): URL | null {
  return URL.parse(String(value));
}
