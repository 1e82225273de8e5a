import { describe, expect, test } from "bun:test";
import { ConfigError, loadConfig } from "../../../src/config/index.ts";
import { baseEnv, problemsOf } from "../../support/config.ts";

/**
 * The rules that look at several settings at once, and the production and staging rules: each one
 * refuses what it should with the message an operator reads (the whole message: it is the contract),
 * and accepts what only looks like it.
 */
type Env = Record<string, string | undefined>;

const RANDOM_SECRET = Buffer.from(crypto.getRandomValues(new Uint8Array(32))).toString("base64");
const TOKEN_32 = "kpat_0123456789abcdef0123456789a";

const prodEnv: Env = {
  ...baseEnv,
  NODE_ENV: "production",
  KONG_ADMIN_URL: "https://kong-admin.internal.example.com:8444",
  KONG_ADMIN_TOKEN: TOKEN_32,
  TRUSTED_GATEWAY_SECRET: RANDOM_SECRET,
};
const stagingEnv: Env = { ...baseEnv, NODE_ENV: "staging", TRUSTED_GATEWAY_SECRET: RANDOM_SECRET };

const accepted = (env: Env) => expect(problemsOf(env)).toEqual([]);

describe("the start-up error", () => {
  test("lists every problem on its own line, each led by its variable", () => {
    let error: unknown;
    try {
      loadConfig({ ...baseEnv, PORT: "-1", KONG_JWT_AUDIENCE: undefined });
    } catch (caught) {
      error = caught;
    }
    expect(error).toBeInstanceOf(ConfigError);
    expect((error as ConfigError).name).toBe("ConfigError");
    expect((error as ConfigError).message).toBe(
      "Invalid configuration:\n  - PORT: must be at least 0\n  - KONG_JWT_AUDIENCE: is required",
    );
  });

  test("a value given but not valid is described, not called missing", () => {
    expect(problemsOf({ ...baseEnv, PORT: "abc" })).toEqual(["PORT: must be a whole number"]);
    expect(problemsOf({ ...baseEnv, KONG_ADMIN_URL: "kong:8001" })).toEqual([
      "KONG_ADMIN_URL: must be an http:// or https:// URL",
    ]);
    expect(problemsOf({ ...baseEnv, KONG_MODE: "gateway" })).toEqual([expect.stringMatching(/^KONG_MODE: /)]);
    expect(problemsOf({ ...baseEnv, KONG_MODE: "gateway" })).not.toContain("KONG_MODE: is required");
  });
});

describe("rules across settings, in every environment", () => {
  test("KONNECT mode: a token is required", () => {
    const env = {
      ...baseEnv,
      KONG_MODE: "KONNECT",
      KONG_ADMIN_URL: "https://eu.api.konghq.com/v2/control-planes/9f1c2a",
    };
    expect(problemsOf(env)).toEqual([
      "KONG_ADMIN_TOKEN: is required in KONNECT mode (a kpat_ or spat_ token)",
    ]);
    accepted({ ...env, KONG_ADMIN_TOKEN: "kpat_x" });
    // Self-hosted open-source Kong needs none.
    accepted({ ...baseEnv, KONG_MODE: "API_GATEWAY" });
  });

  test.each([
    "https://us.api.konghq.com/",
    "https://us.api.konghq.com/v2/control-planes/",
    "https://us.api.konghq.com/v2/control-planes/9f1c2a/nodes",
    "https://us.api.konghq.com/v2/control-planes9f1c2a",
  ])("KONNECT mode: KONG_ADMIN_URL=%s is not a control plane: refused", (url) => {
    expect(
      problemsOf({ ...baseEnv, KONG_MODE: "KONNECT", KONG_ADMIN_TOKEN: "kpat_x", KONG_ADMIN_URL: url }),
    ).toEqual([
      "KONG_ADMIN_URL: must be https://<region>.api.konghq.com/v2/control-planes/<id> in KONNECT mode",
    ]);
  });

  test("KONNECT mode: KONG_ADMIN_URL unset or no URL is reported as such, not as a wrong control plane", () => {
    const konnect = { ...baseEnv, KONG_MODE: "KONNECT", KONG_ADMIN_TOKEN: "kpat_x" };
    expect(problemsOf({ ...konnect, KONG_ADMIN_URL: undefined })).toEqual(["KONG_ADMIN_URL: is required"]);
    expect(problemsOf({ ...konnect, KONG_ADMIN_URL: "eu.api.konghq.com" })).toEqual([
      "KONG_ADMIN_URL: must be an http:// or https:// URL",
    ]);
  });

  test.each([
    "https://us.api.konghq.com/v2/control-planes/9f1c2a",
    "https://us.api.konghq.com/v2/control-planes/9f1c2a/",
    "https://eu.api.konghq.com/v2/control-planes/0b7e-44",
  ])("KONNECT mode: KONG_ADMIN_URL=%s is accepted", (url) => {
    accepted({ ...baseEnv, KONG_MODE: "KONNECT", KONG_ADMIN_TOKEN: "kpat_x", KONG_ADMIN_URL: url });
  });

  test("HIGH_AVAILABILITY needs Redis", () => {
    expect(problemsOf({ ...baseEnv, HIGH_AVAILABILITY: "true" })).toEqual([
      "HIGH_AVAILABILITY: needs REDIS_ENABLED=true: the stale copies are kept in Redis",
    ]);
    expect(problemsOf({ ...baseEnv, HIGH_AVAILABILITY: "true", REDIS_ENABLED: "false" })).toHaveLength(1);
    accepted({ ...baseEnv, HIGH_AVAILABILITY: "true", REDIS_ENABLED: "true" });
    accepted({ ...baseEnv, HIGH_AVAILABILITY: "false", REDIS_ENABLED: "false" });
  });

  test.each(["otlp", "both"])("TELEMETRY_MODE=%s: each signal needs an endpoint", (mode) => {
    expect(problemsOf({ ...baseEnv, TELEMETRY_MODE: mode })).toEqual(
      ["TRACES", "METRICS", "LOGS"].map(
        (signal) =>
          `OTEL_EXPORTER_OTLP_${signal}_ENDPOINT: is needed in TELEMETRY_MODE=${mode} (or set OTEL_EXPORTER_OTLP_ENDPOINT)`,
      ),
    );
    accepted({ ...baseEnv, TELEMETRY_MODE: mode, OTEL_EXPORTER_OTLP_ENDPOINT: "http://collector:4318" });
    accepted({
      ...baseEnv,
      TELEMETRY_MODE: mode,
      OTEL_EXPORTER_OTLP_TRACES_ENDPOINT: "http://collector:4318/v1/traces",
      OTEL_EXPORTER_OTLP_METRICS_ENDPOINT: "http://collector:4318/v1/metrics",
      OTEL_EXPORTER_OTLP_LOGS_ENDPOINT: "http://collector:4318/v1/logs",
    });
    expect(
      problemsOf({
        ...baseEnv,
        TELEMETRY_MODE: mode,
        OTEL_EXPORTER_OTLP_TRACES_ENDPOINT: "http://collector:4318/v1/traces",
        OTEL_EXPORTER_OTLP_LOGS_ENDPOINT: "http://collector:4318/v1/logs",
      }),
    ).toEqual([
      `OTEL_EXPORTER_OTLP_METRICS_ENDPOINT: is needed in TELEMETRY_MODE=${mode} (or set OTEL_EXPORTER_OTLP_ENDPOINT)`,
    ]);
  });

  test("TELEMETRY_MODE=console needs no endpoint", () => {
    accepted({ ...baseEnv, TELEMETRY_MODE: "console" });
  });

  test("an export batch may be as large as the queue, not larger", () => {
    accepted({ ...baseEnv, OTEL_BSP_MAX_EXPORT_BATCH_SIZE: "100", OTEL_BSP_MAX_QUEUE_SIZE: "100" });
    expect(
      problemsOf({ ...baseEnv, OTEL_BSP_MAX_EXPORT_BATCH_SIZE: "101", OTEL_BSP_MAX_QUEUE_SIZE: "100" }),
    ).toEqual(["OTEL_BSP_MAX_EXPORT_BATCH_SIZE: must not exceed OTEL_BSP_MAX_QUEUE_SIZE"]);
  });

  test("the drain window must end before SHUTDOWN_TIMEOUT_MS, or be 0", () => {
    accepted({ ...baseEnv, SHUTDOWN_TIMEOUT_MS: "3000", SHUTDOWN_DRAIN_MS: "2999" });
    accepted({ ...baseEnv, SHUTDOWN_TIMEOUT_MS: "3000", SHUTDOWN_DRAIN_MS: "0" });
    expect(problemsOf({ ...baseEnv, SHUTDOWN_TIMEOUT_MS: "3000", SHUTDOWN_DRAIN_MS: "3000" })).toEqual([
      "SHUTDOWN_DRAIN_MS: must be less than SHUTDOWN_TIMEOUT_MS (3000), which also covers the requests still " +
        "running when the drain ends; or 0 to close the listener at once",
    ]);
  });

  test("a separate issuer cannot be configured when the key claim is iss", () => {
    const env = {
      ...baseEnv,
      KONG_JWT_KEY_CLAIM_NAME: "iss",
      KONG_JWT_ISSUER: "https://issuer.example.com/",
    };
    expect(problemsOf(env)).toEqual([
      "KONG_JWT_ISSUER: cannot be set when KONG_JWT_KEY_CLAIM_NAME is iss: iss carries the credential key",
    ]);
    accepted({ ...env, KONG_JWT_KEY_CLAIM_NAME: "kid" });
    accepted({ ...env, KONG_JWT_ISSUER: undefined });
  });

  test("the key claim may not be a claim the token already carries", () => {
    expect(problemsOf({ ...baseEnv, KONG_JWT_KEY_CLAIM_NAME: "unique_name" })).toEqual([
      "KONG_JWT_KEY_CLAIM_NAME: must not be one of the claims the token already carries " +
        "(sub, aud, jti, iat, nbf, exp, name, unique_name)",
    ]);
    expect(problemsOf({ ...baseEnv, KONG_JWT_KEY_CLAIM_NAME: "9key" })).toEqual([
      "KONG_JWT_KEY_CLAIM_NAME: must be a plain claim name such as key, iss or kid",
    ]);
    for (const name of ["kid", "_k", "x.y-z_1", "subject", "k".repeat(64)]) {
      expect(loadConfig({ ...baseEnv, KONG_JWT_KEY_CLAIM_NAME: name }).jwt.keyClaimName).toBe(name);
    }
    expect(problemsOf({ ...baseEnv, KONG_JWT_KEY_CLAIM_NAME: "k".repeat(65) })).toHaveLength(1);
  });
});

describe("trust boundary with Kong: production and staging", () => {
  test.each(["production", "staging"])(
    "%s without one is refused, saying every way to set it",
    (NODE_ENV) => {
      const env = {
        ...(NODE_ENV === "production" ? prodEnv : stagingEnv),
        TRUSTED_GATEWAY_SECRET: undefined,
      };
      expect(problemsOf(env)).toEqual([
        `TRUSTED_GATEWAY_SECRET: ${NODE_ENV} needs a trust boundary with Kong: set TRUSTED_GATEWAY_SECRET (and ` +
          "Kong's request-transformer to send it) or TRUSTED_PROXY_CIDRS (Kong's addresses), or " +
          "ALLOW_UNVERIFIED_GATEWAY=true if the network already lets only Kong reach this service",
      ]);
      expect(problemsOf({ ...env, ALLOW_UNVERIFIED_GATEWAY: "false" })).toHaveLength(1);
      accepted({ ...env, TRUSTED_GATEWAY_SECRET: RANDOM_SECRET });
      accepted({ ...env, TRUSTED_PROXY_CIDRS: "10.1.0.0/16" });
      accepted({ ...env, ALLOW_UNVERIFIED_GATEWAY: "true" });
    },
  );

  test.each(["development", "test"])("%s needs none", (NODE_ENV) => {
    accepted({ ...baseEnv, NODE_ENV });
  });
});

describe("profiling outside development", () => {
  test("staging profiles only behind DEBUG_TOKEN", () => {
    expect(problemsOf({ ...stagingEnv, PROFILING_ENABLED: "true" })).toEqual([
      "DEBUG_TOKEN: is required with PROFILING_ENABLED=true outside development and test: a heap snapshot " +
        "holds every secret the service has in memory",
    ]);
    accepted({ ...stagingEnv, PROFILING_ENABLED: "true", DEBUG_TOKEN: "a-debug-token-0123" });
    accepted({ ...stagingEnv, PROFILING_ENABLED: "false" });
  });

  test("production never profiles, DEBUG_TOKEN or not", () => {
    expect(problemsOf({ ...prodEnv, PROFILING_ENABLED: "true" })).toEqual([
      "PROFILING_ENABLED: must be false in production",
    ]);
    expect(problemsOf({ ...prodEnv, PROFILING_ENABLED: "true", DEBUG_TOKEN: "a-debug-token-0123" })).toEqual([
      "PROFILING_ENABLED: must be false in production",
    ]);
  });
});

describe("production-only rules", () => {
  test("staging is not held to them", () => {
    accepted({
      ...stagingEnv,
      KONG_ADMIN_URL: "http://user:pw@localhost:8001",
      KONG_ADMIN_TOKEN: "short",
      KONG_JWT_AUTHORITY: "http://sts.example.com/",
      TELEMETRY_MODE: "otlp",
      OTEL_EXPORTER_OTLP_ENDPOINT: "http://collector:4318",
      OTEL_SERVICE_NAME: "auth-test",
      OTEL_SERVICE_VERSION: "dev",
      REDIS_ENABLED: "true",
      REDIS_URL: "redis://redis:6379",
      TRUSTED_PROXY_CIDRS: "0.0.0.0/0",
      TRUSTED_GATEWAY_SECRET: "a".repeat(40),
      CACHE_ENCRYPTION_KEY: Buffer.alloc(32).toString("base64"),
    });
  });

  test("a sound production configuration is accepted", () => {
    accepted(prodEnv);
  });

  test.each(["KONG_ADMIN_URL", "KONG_JWT_AUTHORITY"])(
    "%s unset: reported as required, the production URL rules do not trip over it",
    (name) => {
      expect(problemsOf({ ...prodEnv, [name]: undefined })).toEqual([`${name}: is required`]);
    },
  );

  test("REDIS_URL that is no URL: reported once, with the password still required", () => {
    const redis = { ...prodEnv, REDIS_ENABLED: "true", REDIS_URL: "redis host:6380" };
    expect(problemsOf({ ...redis, REDIS_PASSWORD: "redis-password" })).toEqual([
      "REDIS_URL: must be a redis:// or rediss:// URL",
    ]);
    expect(problemsOf(redis)).toEqual([
      "REDIS_URL: must be a redis:// or rediss:// URL",
      "REDIS_PASSWORD: is required in production (or a password in REDIS_URL): Redis holds the secrets tokens " +
        "are signed with",
    ]);
  });

  test.each([
    ["https://kong@kong.example.com", "a user name"],
    ["https://:secret@kong.example.com", "a password"],
    ["https://kong:secret@kong.example.com", "both"],
  ])("KONG_ADMIN_URL=%s carries %s: refused", (url) => {
    expect(problemsOf({ ...prodEnv, KONG_ADMIN_URL: url })).toEqual([
      "KONG_ADMIN_URL: must not carry credentials; use KONG_ADMIN_TOKEN",
    ]);
  });

  test("KONG_ADMIN_URL over http is refused, https accepted", () => {
    expect(problemsOf({ ...prodEnv, KONG_ADMIN_URL: "http://kong.example.com:8001" })).toEqual([
      "KONG_ADMIN_URL: must use https in production",
    ]);
    accepted({ ...prodEnv, KONG_ADMIN_URL: "https://kong.example.com:8444" });
  });

  test("KONG_ADMIN_TOKEN: 32 characters accepted, 31 refused, none refused", () => {
    expect(TOKEN_32).toHaveLength(32);
    accepted({ ...prodEnv, KONG_ADMIN_TOKEN: TOKEN_32 });
    for (const token of [TOKEN_32.slice(1), undefined]) {
      expect(problemsOf({ ...prodEnv, KONG_ADMIN_TOKEN: token })).toEqual([
        "KONG_ADMIN_TOKEN: must be at least 32 characters in production",
      ]);
    }
  });

  test("KONG_JWT_AUTHORITY over http is refused, https accepted", () => {
    expect(problemsOf({ ...prodEnv, KONG_JWT_AUTHORITY: "http://sts.example.com/" })).toEqual([
      "KONG_JWT_AUTHORITY: must use https in production",
    ]);
    accepted({ ...prodEnv, KONG_JWT_AUTHORITY: "https://sts.example.com/" });
  });

  test.each([
    ["OTEL_EXPORTER_OTLP_ENDPOINT", "http://collector:4318"],
    ["OTEL_EXPORTER_OTLP_TRACES_ENDPOINT", "http://collector:4318/v1/traces"],
    ["OTEL_EXPORTER_OTLP_METRICS_ENDPOINT", "http://collector:4318/v1/metrics"],
    ["OTEL_EXPORTER_OTLP_LOGS_ENDPOINT", "http://collector:4318/v1/logs"],
  ])("%s over http is refused when telemetry is exported, not with console output", (name, url) => {
    const otlp = {
      ...prodEnv,
      TELEMETRY_MODE: "both",
      OTEL_EXPORTER_OTLP_ENDPOINT: "https://collector:4318",
    };
    expect(problemsOf({ ...otlp, [name]: url })).toEqual([`${name}: must use https in production`]);
    accepted({ ...otlp, [name]: url.replace("http:", "https:") });
    accepted({ ...prodEnv, TELEMETRY_MODE: "console", [name]: url });
  });

  test.each(["auth-test", "AUTH-TEST", "LocalHost-auth", "contest-service"])(
    "OTEL_SERVICE_NAME=%s is refused",
    (name) => {
      expect(problemsOf({ ...prodEnv, OTEL_SERVICE_NAME: name })).toEqual([
        "OTEL_SERVICE_NAME: must not mention localhost or test in production",
      ]);
    },
  );

  test.each(["dev", "DEV", "latest", "Latest"])("OTEL_SERVICE_VERSION=%s is refused", (version) => {
    expect(problemsOf({ ...prodEnv, OTEL_SERVICE_VERSION: version })).toEqual([
      "OTEL_SERVICE_VERSION: must be a real version, not dev or latest, in production",
    ]);
  });

  test.each(["1.4.2", "1.0.0-dev", "dev.7", "latest-2", "2024.05-latest"])(
    "OTEL_SERVICE_VERSION=%s is a real version: accepted",
    (version) => {
      accepted({ ...prodEnv, OTEL_SERVICE_VERSION: version, OTEL_SERVICE_NAME: "authentication-service" });
    },
  );

  test("Redis, when enabled, must use TLS and a password", () => {
    const redis = { ...prodEnv, REDIS_ENABLED: "true", REDIS_PASSWORD: "redis-password" };
    expect(problemsOf({ ...redis, REDIS_URL: "redis://redis.example.com:6379" })).toEqual([
      "REDIS_URL: must use rediss:// (TLS) in production",
    ]);
    expect(
      problemsOf({ ...redis, REDIS_URL: "rediss://redis.example.com", REDIS_PASSWORD: undefined }),
    ).toEqual([
      "REDIS_PASSWORD: is required in production (or a password in REDIS_URL): Redis holds the secrets tokens " +
        "are signed with",
    ]);
    accepted({ ...redis, REDIS_URL: "rediss://redis.example.com" });
    accepted({ ...redis, REDIS_URL: "rediss://:in-url@redis.example.com", REDIS_PASSWORD: undefined });
    // Disabled, its URL and password do not matter.
    accepted({ ...prodEnv, REDIS_ENABLED: "false", REDIS_URL: "redis://redis.example.com:6379" });
  });

  test("TRUSTED_PROXY_CIDRS wider than Kong needs: every one named, with the widest allowed", () => {
    expect(problemsOf({ ...prodEnv, TRUSTED_PROXY_CIDRS: "10.0.0.0/7" })).toEqual([
      "TRUSTED_PROXY_CIDRS: 10.0.0.0/7 admits far more than Kong; list Kong's addresses, no range wider than " +
        "/8 (IPv4) or /7 (IPv6)",
    ]);
    expect(problemsOf({ ...prodEnv, TRUSTED_PROXY_CIDRS: "0.0.0.0/0, 10.1.2.3/32, fc00::/6" })).toEqual([
      "TRUSTED_PROXY_CIDRS: 0.0.0.0/0, fc00::/6 admit far more than Kong; list Kong's addresses, no range " +
        "wider than /8 (IPv4) or /7 (IPv6)",
    ]);
  });

  test.each(["10.0.0.0/33", "not-an-ip/8", "fd00::/129", "10.0.0.0/abc", "10.0.0.0/"])(
    "TRUSTED_PROXY_CIDRS=%s is malformed: the start-up error says so, naming the variable",
    (cidrs) => {
      expect(problemsOf({ ...prodEnv, TRUSTED_PROXY_CIDRS: cidrs })).toEqual([
        "TRUSTED_PROXY_CIDRS: must be comma-separated CIDRs such as 10.0.0.0/8 or fd00::/8",
      ]);
    },
  );

  test("TRUSTED_PROXY_CIDRS with a malformed entry and a too-wide one: both reported", () => {
    expect(problemsOf({ ...prodEnv, TRUSTED_PROXY_CIDRS: "0.0.0.0/0, 10.0.0.0/33" })).toEqual([
      "TRUSTED_PROXY_CIDRS: must be comma-separated CIDRs such as 10.0.0.0/8 or fd00::/8",
      "TRUSTED_PROXY_CIDRS: 0.0.0.0/0 admits far more than Kong; list Kong's addresses, no range wider than " +
        "/8 (IPv4) or /7 (IPv6)",
    ]);
  });

  test.each([
    "10.0.0.0/8",
    "fc00::/7",
    "fd00::1",
    "10.1.2.3",
    "::ffff:10.0.0.0/104",
    "2001:db8::/32",
    "11.0.0.0/8",
  ])("TRUSTED_PROXY_CIDRS=%s is narrow enough: accepted", (cidrs) => {
    accepted({ ...prodEnv, TRUSTED_PROXY_CIDRS: cidrs });
  });

  test("TRUSTED_GATEWAY_SECRET: the docker-compose demo value and guessable values are refused, each saying why", () => {
    expect(
      problemsOf({ ...prodEnv, TRUSTED_GATEWAY_SECRET: "local-demo-gateway-secret-not-for-production" }),
    ).toEqual([
      "TRUSTED_GATEWAY_SECRET: is the docker-compose demo value, public with the repository; generate one: " +
        "openssl rand -base64 32",
    ]);
    expect(problemsOf({ ...prodEnv, TRUSTED_GATEWAY_SECRET: "x".repeat(32) })).toEqual([
      "TRUSTED_GATEWAY_SECRET: is easy to guess (few distinct characters or a repeated pattern); generate one: " +
        "openssl rand -base64 32",
    ]);
  });

  test("CACHE_ENCRYPTION_KEY that is not random is refused, saying how to make one", () => {
    const key = Buffer.alloc(32, 7).toString("base64");
    expect(problemsOf({ ...prodEnv, CACHE_ENCRYPTION_KEY: key })).toEqual([
      "CACHE_ENCRYPTION_KEY: is not random (too few distinct bytes); generate one: openssl rand -base64 32",
    ]);
  });
});
