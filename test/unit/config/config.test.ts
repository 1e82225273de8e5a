import { describe, expect, test } from "bun:test";
import { ConfigError, loadConfig } from "../../../src/config/index.ts";
import { baseEnv, problemsOf, testConfig } from "../../support/config.ts";

const PROD_TOKEN = "kpat_0123456789abcdef0123456789abcdef0123";
const prodEnv: Record<string, string | undefined> = {
  ...baseEnv,
  NODE_ENV: "production",
  KONG_ADMIN_URL: "https://kong-admin.internal.example.com:8444",
  KONG_ADMIN_TOKEN: PROD_TOKEN,
  TRUSTED_GATEWAY_SECRET: "a-gateway-secret-of-32-characters-or-more",
};

describe("configuration defaults", () => {
  test("a minimal environment yields the documented defaults", () => {
    const config = testConfig();
    expect(config.app.port).toBe(3000);
    expect(config.app.host).toBe("0.0.0.0");
    expect(config.kong.mode).toBe("API_GATEWAY");
    expect(config.kong.connectionTimeoutMs).toBe(5000);
    expect(config.jwt.keyClaimName).toBe("key");
    expect(config.jwt.expirationMinutes).toBe(15);
    expect(config.jwt.clockSkewSeconds).toBe(30);
    expect(config.jwt.secretIsBase64).toBe(false);
    expect(config.jwt.uniqueNameDomain).toBe("example.com");
    expect(config.jwt.issuers).toBeUndefined();
    expect(config.cache).toEqual({
      ttlSeconds: 300,
      refreshAheadRatio: 0.8,
      maxSize: 1000,
      staleToleranceMinutes: 60,
      highAvailability: false,
    });
    expect(config.breaker).toEqual({ timeoutMs: 500, errorThresholdPercentage: 50, resetTimeoutMs: 30_000 });
    expect(config.redis).toMatchObject({
      enabled: false,
      db: 0,
      keyPrefix: "auth-service",
      commandTimeoutMs: 500,
    });
    expect(config.api.cors).toBe("*");
  });

  test("NODE_ENV defaults to development when unset", () => {
    expect(testConfig({ NODE_ENV: undefined }).app.environment).toBe("development");
  });

  test("empty variables count as unset", () => {
    expect(testConfig({ PORT: "", JWT_EXPIRATION_MINUTES: "  " }).app.port).toBe(3000);
  });

  test("values are coerced from strings", () => {
    const config = testConfig({
      PORT: "8080",
      KONG_JWT_SECRET_IS_BASE64: "true",
      CACHE_TTL_SECONDS: "60",
      KONG_JWT_ISSUER: "https://a.example.com/, https://b.example.com/",
      API_CORS: "https://app.example.com, http://localhost:5173",
    });
    expect(config.app.port).toBe(8080);
    expect(config.jwt.secretIsBase64).toBe(true);
    expect(config.cache.ttlSeconds).toBe(60);
    expect(config.jwt.issuers).toEqual(["https://a.example.com/", "https://b.example.com/"]);
    expect(config.api.cors).toEqual(["https://app.example.com", "http://localhost:5173"]);
  });

  test("the admin URL loses trailing slashes and a Bearer prefix is stripped from the token", () => {
    const config = testConfig({ KONG_ADMIN_URL: "http://kong:8001/", KONG_ADMIN_TOKEN: "Bearer abc" });
    expect(config.kong.adminUrl).toBe("http://kong:8001");
    expect(config.kong.adminToken).toBe("abc");
  });

  test("the encryption key is decoded to 32 bytes, from base64 or base64url", () => {
    const raw = crypto.getRandomValues(new Uint8Array(32));
    expect(
      testConfig({ CACHE_ENCRYPTION_KEY: Buffer.from(raw).toString("base64") }).cache.encryptionKey,
    ).toEqual(raw);
    expect(
      testConfig({ CACHE_ENCRYPTION_KEY: Buffer.from(raw).toString("base64url") }).cache.encryptionKey,
    ).toEqual(raw);
  });

  test("CIDR lists accept IPv4, IPv6 and bare addresses", () => {
    expect(
      testConfig({ TRUSTED_PROXY_CIDRS: "10.0.0.0/8, 192.168.1.7, fd00::/8,::1" }).security.trustedProxyCidrs,
    ).toEqual(["10.0.0.0/8", "192.168.1.7", "fd00::/8", "::1"]);
  });

  test("OTLP endpoints: the base endpoint or one per signal", () => {
    expect(
      testConfig({ TELEMETRY_MODE: "otlp", OTEL_EXPORTER_OTLP_ENDPOINT: "http://collector:4318" }).telemetry
        .mode,
    ).toBe("otlp");
    const problems = problemsOf({
      ...baseEnv,
      TELEMETRY_MODE: "both",
      OTEL_EXPORTER_OTLP_TRACES_ENDPOINT: "http://collector:4318/v1/traces",
    });
    expect(problems.some((problem) => problem.startsWith("OTEL_EXPORTER_OTLP_METRICS_ENDPOINT:"))).toBe(true);
    expect(problems.some((problem) => problem.startsWith("OTEL_EXPORTER_OTLP_LOGS_ENDPOINT:"))).toBe(true);
  });

  test("HIGH_AVAILABILITY with Redis enabled is accepted", () => {
    expect(testConfig({ HIGH_AVAILABILITY: "true", REDIS_ENABLED: "true" }).cache.highAvailability).toBe(
      true,
    );
  });

  test("the result is deeply frozen", () => {
    const config = testConfig();
    expect(Object.isFrozen(config)).toBe(true);
    expect(Object.isFrozen(config.kong)).toBe(true);
    expect(() => {
      (config.kong as { mode: string }).mode = "KONNECT";
    }).toThrow();
  });
});

describe("configuration rules", () => {
  test.each([
    ["KONG_MODE", "GATEWAY"],
    ["KONG_ADMIN_URL", "not a url"],
    ["KONG_ADMIN_URL", "ftp://kong:21"],
    ["KONG_JWT_AUTHORITY", "sts"],
    ["JWT_EXPIRATION_MINUTES", "0"],
    ["JWT_EXPIRATION_MINUTES", "61"],
    ["JWT_EXPIRATION_MINUTES", "1.5"],
    ["KONG_JWT_CLOCK_SKEW_SECONDS", "-1"],
    ["KONG_JWT_CLOCK_SKEW_SECONDS", "301"],
    ["KONG_JWT_CLOCK_SKEW_SECONDS", "2.5"],
    ["PORT", "abc"],
    ["PORT", "70000"],
    ["NODE_ENV", "prod"],
    ["LOG_LEVEL", "loud"],
    ["KONG_JWT_SECRET_IS_BASE64", "maybe"],
    ["KONG_JWT_KEY_CLAIM_NAME", "sub"],
    ["KONG_JWT_KEY_CLAIM_NAME", "exp"],
    ["KONG_JWT_KEY_CLAIM_NAME", "has space"],
    ["CACHE_TTL_SECONDS", "0"],
    ["CACHE_MAX_SIZE", "-1"],
    ["CACHE_REFRESH_AHEAD_RATIO", "1"],
    ["CACHE_REFRESH_AHEAD_RATIO", "0.3"],
    ["CACHE_REFRESH_AHEAD_RATIO", "often"],
    ["KONG_CONNECTION_TIMEOUT", "10"],
    ["API_CORS", "not-an-origin"],
    ["API_CONTACT_EMAIL", "nobody"],
    ["CIRCUIT_BREAKER_TIMEOUT", "50"],
    ["CIRCUIT_BREAKER_ERROR_THRESHOLD", "101"],
    ["CIRCUIT_BREAKER_RESET_TIMEOUT", "500"],
    ["STALE_DATA_TOLERANCE_MINUTES", "121"],
    ["REDIS_URL", "http://redis:6379"],
    ["REDIS_DB", "16"],
    ["REDIS_MAX_RETRIES", "0"],
    ["REDIS_KEY_PREFIX", "has space"],
    ["CACHE_ENCRYPTION_KEY", "c2hvcnQ="],
    ["HIGH_AVAILABILITY", "true"],
    ["TRUSTED_GATEWAY_SECRET", "too-short"],
    ["TRUSTED_GATEWAY_HEADER", "Bad Header"],
    ["TRUSTED_PROXY_CIDRS", "10.0.0.0/33"],
    ["TRUSTED_PROXY_CIDRS", "not-an-ip"],
    ["TRUSTED_PROXY_CIDRS", "fd00::/129"],
    ["RATE_LIMIT_MAX_REQUESTS", "0"],
    ["RATE_LIMIT_WINDOW_MS", "10"],
    ["SHUTDOWN_DRAIN_MS", "-1"],
    ["KONG_CONNECTION_POOL_SIZE", "0"],
    ["DEBUG_TOKEN", "short"],
    ["TELEMETRY_MODE", "loud"],
    ["OTEL_TRACES_SAMPLER", "sometimes"],
    ["OTEL_TRACES_SAMPLER_ARG", "2"],
  ])("%s=%s is refused and named", (name, value) => {
    const problems = problemsOf({ ...baseEnv, [name]: value });
    expect(problems.some((problem) => problem.startsWith(`${name}:`))).toBe(true);
  });

  test.each([
    ["PORT", "abc", "must be a whole number"],
    ["JWT_EXPIRATION_MINUTES", "1.5", "must be a whole number"],
    ["PORT", "70000", "must be at most 65535"],
    ["RATE_LIMIT_MAX_REQUESTS", "0", "must be at least 1"],
    ["RATE_LIMIT_MAX_REQUESTS", "100000000", "must be at most 1000000"],
  ])("%s=%s says what is wrong with it", (name, value, message) => {
    expect(problemsOf({ ...baseEnv, [name]: value })).toContain(`${name}: ${message}`);
  });

  test("NODE_ENV=local, which the specification names, is refused with the environment to use instead", () => {
    expect(problemsOf({ ...baseEnv, NODE_ENV: "local" })).toEqual([
      "NODE_ENV: local is not an environment of this service: use development (what bun run local and " +
        "bun run dev:development set), which allows everything local would",
    ]);
    expect(problemsOf({ ...baseEnv, NODE_ENV: "prod" })).toEqual([
      "NODE_ENV: must be development, staging, production or test",
    ]);
  });

  test.each(["true", "false"])(
    "PROFILING_AUTO_GENERATE=%s is refused, naming where the reports every session writes are listed",
    (value) => {
      expect(problemsOf({ ...baseEnv, PROFILING_ENABLED: "true", PROFILING_AUTO_GENERATE: value })).toEqual([
        "PROFILING_AUTO_GENERATE: is not a setting of this service: every profiling session writes its reports " +
          "when it stops (on request, at its time limit or at shutdown); list them with bun run profile:reports " +
          "(GET /debug/profiling/reports)",
      ]);
      expect(testConfig({ PROFILING_AUTO_GENERATE: "" }).profiling.enabled).toBe(false);
    },
  );

  test.each(["KONG_ADMIN_URL", "KONG_JWT_AUTHORITY", "KONG_JWT_AUDIENCE"])("%s is required", (name) => {
    expect(problemsOf({ ...baseEnv, [name]: undefined })).toContain(`${name}: is required`);
  });

  test("the key claim may be iss, and then no separate issuer may be configured", () => {
    expect(testConfig({ KONG_JWT_KEY_CLAIM_NAME: "iss" }).jwt.keyClaimName).toBe("iss");
    const problems = problemsOf({
      ...baseEnv,
      KONG_JWT_KEY_CLAIM_NAME: "iss",
      KONG_JWT_ISSUER: "https://x/",
    });
    expect(problems.some((problem) => problem.startsWith("KONG_JWT_ISSUER:"))).toBe(true);
  });

  test("the clock-skew tolerance must be shorter than the token lifetime, or a Kong node that far ahead sees it expired", () => {
    expect(
      testConfig({ JWT_EXPIRATION_MINUTES: "1", KONG_JWT_CLOCK_SKEW_SECONDS: "59" }).jwt.clockSkewSeconds,
    ).toBe(59);
    expect(
      problemsOf({ ...baseEnv, JWT_EXPIRATION_MINUTES: "1", KONG_JWT_CLOCK_SKEW_SECONDS: "60" }),
    ).toEqual([
      "KONG_JWT_CLOCK_SKEW_SECONDS: must be less than the token lifetime (JWT_EXPIRATION_MINUTES × 60): " +
        "a Kong node that far ahead sees every token expired",
    ]);
  });

  test("the drain window fits inside SHUTDOWN_TIMEOUT_MS, or is 0", () => {
    expect(testConfig().app).toMatchObject({ shutdownDrainMs: 5000, shutdownTimeoutMs: 10_000 });
    expect(testConfig({ SHUTDOWN_TIMEOUT_MS: "1000", SHUTDOWN_DRAIN_MS: "0" }).app.shutdownDrainMs).toBe(0);
    expect(testConfig({ SHUTDOWN_TIMEOUT_MS: "0", SHUTDOWN_DRAIN_MS: "0" }).app.shutdownDrainMs).toBe(0);
    for (const drain of ["3000", "4000"]) {
      const problems = problemsOf({ ...baseEnv, SHUTDOWN_TIMEOUT_MS: "3000", SHUTDOWN_DRAIN_MS: drain });
      expect(problems).toEqual([
        expect.stringMatching(/^SHUTDOWN_DRAIN_MS: must be less than SHUTDOWN_TIMEOUT_MS \(3000\)/),
      ]);
    }
    // The default window does not fit a short timeout: the start-up error says which variable to lower.
    expect(problemsOf({ ...baseEnv, SHUTDOWN_TIMEOUT_MS: "2000" })[0]).toStartWith("SHUTDOWN_DRAIN_MS:");
  });

  test("KONNECT needs a token and a control-plane URL", () => {
    const problems = problemsOf({
      ...baseEnv,
      KONG_MODE: "KONNECT",
      KONG_ADMIN_URL: "https://us.api.konghq.com/",
    });
    expect(problems.some((problem) => problem.startsWith("KONG_ADMIN_TOKEN:"))).toBe(true);
    expect(problems.some((problem) => problem.startsWith("KONG_ADMIN_URL:"))).toBe(true);
    const ok = testConfig({
      KONG_MODE: "KONNECT",
      KONG_ADMIN_URL: "https://eu.api.konghq.com/v2/control-planes/9f1c2a",
      KONG_ADMIN_TOKEN: PROD_TOKEN,
    });
    expect(ok.kong.mode).toBe("KONNECT");
  });
});

describe("production rules", () => {
  test("a sound production configuration is accepted", () => {
    expect(loadConfig(prodEnv).app.environment).toBe("production");
  });

  test("production refuses a configuration with no trust boundary, saying what to set", () => {
    const problems = problemsOf({ ...prodEnv, TRUSTED_GATEWAY_SECRET: undefined });
    const message = problems.find((problem) => problem.startsWith("TRUSTED_GATEWAY_SECRET:"));
    expect(message).toContain("TRUSTED_PROXY_CIDRS");
    expect(message).toContain("ALLOW_UNVERIFIED_GATEWAY=true");
    expect(() =>
      loadConfig({ ...prodEnv, TRUSTED_GATEWAY_SECRET: undefined, TRUSTED_PROXY_CIDRS: "10.0.0.0/8" }),
    ).not.toThrow();
    expect(() =>
      loadConfig({ ...prodEnv, TRUSTED_GATEWAY_SECRET: undefined, ALLOW_UNVERIFIED_GATEWAY: "true" }),
    ).not.toThrow();
  });

  test("profiling is refused in production", () => {
    expect(problemsOf({ ...prodEnv, PROFILING_ENABLED: "true" })).toContain(
      "PROFILING_ENABLED: must be false in production",
    );
  });

  test("production Redis must use TLS", () => {
    expect(
      problemsOf({ ...prodEnv, REDIS_ENABLED: "true", REDIS_URL: "redis://redis.example.com:6379" }),
    ).toContain("REDIS_URL: must use rediss:// (TLS) in production");
  });

  test.each([
    ["OTEL_EXPORTER_OTLP_ENDPOINT", "http://collector:4318", "must use https in production"],
    ["OTEL_SERVICE_NAME", "auth-test", "must not mention localhost or test in production"],
    ["OTEL_SERVICE_VERSION", "latest", "must be a real version, not dev or latest, in production"],
  ])("telemetry in production: %s=%s → %s", (name, value, message) => {
    const env = {
      ...prodEnv,
      TELEMETRY_MODE: "otlp",
      OTEL_EXPORTER_OTLP_ENDPOINT: "https://collector:4318",
      [name]: value,
    };
    expect(problemsOf(env)).toContain(`${name}: ${message}`);
  });

  test.each([
    "OTEL_EXPORTER_OTLP_TRACES_ENDPOINT",
    "OTEL_EXPORTER_OTLP_METRICS_ENDPOINT",
    "OTEL_EXPORTER_OTLP_LOGS_ENDPOINT",
  ])("telemetry in production: a per-signal %s over http:// is refused like the shared one", (name) => {
    const env = {
      ...prodEnv,
      TELEMETRY_MODE: "otlp",
      OTEL_EXPORTER_OTLP_ENDPOINT: "https://collector:4318",
      [name]: "http://collector:4318/v1/signal",
    };
    expect(problemsOf(env)).toEqual([`${name}: must use https in production`]);
    expect(() => loadConfig({ ...env, [name]: "https://collector:4318/v1/signal" })).not.toThrow();
  });

  test("telemetry in production: with console output only, no endpoint rule applies", () => {
    expect(() =>
      loadConfig({
        ...prodEnv,
        TELEMETRY_MODE: "console",
        OTEL_EXPORTER_OTLP_ENDPOINT: "http://collector:4318",
      }),
    ).not.toThrow();
  });

  test.each([
    "https://localhost.example.com:8444",
    "https://kong-localhost.example.com",
    "https://10.127.0.1:8444",
    "https://[fd00::1]:8444",
  ])("KONG_ADMIN_URL=%s only looks like loopback: accepted in production", (url) => {
    expect(loadConfig({ ...prodEnv, KONG_ADMIN_URL: url }).kong.adminUrl).toBe(url);
  });

  test("production with Redis over TLS and a password is accepted", () => {
    const config = loadConfig({
      ...prodEnv,
      REDIS_ENABLED: "true",
      REDIS_URL: "rediss://redis.example.com:6380",
      REDIS_PASSWORD: "a-redis-password",
    });
    expect(config.redis.enabled).toBe(true);
  });

  test.each([
    ["KONG_ADMIN_URL", "http://kong-admin.example.com:8001", "must use https in production"],
    ["KONG_ADMIN_URL", "https://localhost:8444", "must not point at localhost in production"],
    ["KONG_ADMIN_URL", "https://127.0.0.5:8444", "must not point at localhost in production"],
    ["KONG_ADMIN_URL", "https://[::1]:8444", "must not point at localhost in production"],
    ["KONG_ADMIN_URL", "https://0.0.0.0:8444", "must not point at localhost in production"],
    ["KONG_ADMIN_URL", "https://kong.localhost:8444", "must not point at localhost in production"],
    ["KONG_ADMIN_URL", "https://LOCALHOST:8444", "must not point at localhost in production"],
    [
      "KONG_ADMIN_URL",
      "https://user:pw@kong.example.com",
      "must not carry credentials; use KONG_ADMIN_TOKEN",
    ],
    ["KONG_ADMIN_TOKEN", "too-short", "must be at least 32 characters in production"],
    ["KONG_ADMIN_TOKEN", undefined, "must be at least 32 characters in production"],
    ["KONG_JWT_AUTHORITY", "http://sts.example.com/", "must use https in production"],
  ])("%s=%s → %s", (name, value, message) => {
    expect(problemsOf({ ...prodEnv, [name]: value })).toContain(`${name}: ${message}`);
  });

  test("one error lists every problem, each with its variable, and never a secret's value", () => {
    const secret = "s3cr3t-admin-token";
    const env = {
      ...prodEnv,
      KONG_ADMIN_URL: "http://localhost:8001",
      KONG_ADMIN_TOKEN: secret,
      KONG_JWT_AUTHORITY: "http://sts.example.com/",
      KONG_JWT_AUDIENCE: undefined,
      JWT_EXPIRATION_MINUTES: "600",
    };
    let error: unknown;
    try {
      loadConfig(env);
    } catch (caught) {
      error = caught;
    }
    expect(error).toBeInstanceOf(ConfigError);
    const { problems, message } = error as ConfigError;
    expect(problems).toEqual(
      expect.arrayContaining([
        "KONG_ADMIN_URL: must use https in production",
        "KONG_ADMIN_URL: must not point at localhost in production",
        "KONG_ADMIN_TOKEN: must be at least 32 characters in production",
        "KONG_JWT_AUTHORITY: must use https in production",
        "KONG_JWT_AUDIENCE: is required",
      ]),
    );
    expect(problems.some((problem) => problem.startsWith("JWT_EXPIRATION_MINUTES:"))).toBe(true);
    expect(message).not.toContain(secret);
    expect(message).not.toContain("    at ");
  });
});
