import { describe, expect, test } from "bun:test";
import { ConfigError, loadConfig } from "../../../src/config/index.ts";
import { settingRows } from "../../../src/config/schema.ts";
import { secretValues, telemetrySecretValues } from "../../../src/config/secrets.ts";
import { createRedactor } from "../../../src/telemetry/redact.ts";
import { baseEnv, testConfig } from "../../support/config.ts";

/**
 * What the log redactor is told to scrub (app.ts hands secretValues to the logger, sdk.ts hands
 * telemetrySecretValues to the exporters' error handler). Each secret is checked as a bare word in a
 * message, where no URL or key-name rule would catch it.
 */
const scrubbed = (secrets: readonly string[], secret: string) =>
  createRedactor(secrets).scrubString(`Kong said: rejected ${secret} (status 401)`);

describe("every secret variable is scrubbed from logs", () => {
  test("the secret variables are exactly these", () => {
    expect(settingRows.filter((row) => row.setting.secret).map((row) => row.setting.env)).toEqual([
      "KONG_ADMIN_TOKEN",
      "SERVICE_KEYS_JWKS",
      "CACHE_ENCRYPTION_KEY",
      "REDIS_SENTINEL_PASSWORD",
      "REDIS_PASSWORD",
      "OTEL_EXPORTER_OTLP_HEADERS",
      "OTEL_EXPORTER_OTLP_TRACES_HEADERS",
      "OTEL_EXPORTER_OTLP_METRICS_HEADERS",
      "OTEL_EXPORTER_OTLP_LOGS_HEADERS",
      "TRUSTED_GATEWAY_SECRET",
      "ADMIN_TOKEN",
      "DEBUG_TOKEN",
    ]);
  });

  test.each([
    ["KONG_ADMIN_TOKEN", "kpat_admin-token-0123456789abcdef", "kpat_admin-token-0123456789abcdef"],
    ["KONG_ADMIN_TOKEN", "Bearer spat_bearer-token-0123456789", "spat_bearer-token-0123456789"],
    ["REDIS_PASSWORD", "redis-password-0123", "redis-password-0123"],
    ["REDIS_SENTINEL_PASSWORD", "sentinel-password-0123", "sentinel-password-0123"],
    [
      "TRUSTED_GATEWAY_SECRET",
      "gateway-secret-0123456789abcdefghijklmnop",
      "gateway-secret-0123456789abcdefghijklmnop",
    ],
    ["DEBUG_TOKEN", "debug-token-0123456789", "debug-token-0123456789"],
  ])("%s=%s: %s never reaches a log line", (name, value, secret) => {
    const secrets = secretValues(testConfig({ [name]: value }));
    expect(secrets).toContain(secret);
    expect(scrubbed(secrets, secret)).toBe("Kong said: rejected [REDACTED] (status 401)");
  });

  test("CACHE_ENCRYPTION_KEY: the key as written (base64) never reaches a log line", () => {
    const key = Buffer.from(Array.from({ length: 32 }, (_, i) => (i * 37 + 11) % 256)).toString("base64");
    const secrets = secretValues(testConfig({ CACHE_ENCRYPTION_KEY: key }));
    expect(secrets).toEqual([key]);
    expect(scrubbed(secrets, key)).toBe("Kong said: rejected [REDACTED] (status 401)");
  });

  test("every secret variable set gives the redactor something to scrub", () => {
    for (const { setting } of settingRows.filter((row) => row.setting.secret)) {
      const value =
        setting.env === "CACHE_ENCRYPTION_KEY"
          ? Buffer.alloc(32, 7).toString("base64")
          : "x=s3cr3t-value-0123456789abcdefghij";
      expect(secretValues(testConfig({ [setting.env]: value })).length).toBeGreaterThan(0);
    }
  });

  test("the password inside REDIS_URL, as Redis receives it (percent-decoded)", () => {
    const secrets = secretValues(
      testConfig({ REDIS_URL: "redis://app:p%40ss-word-42@redis.example.com:6379" }),
    );
    expect(secrets).toEqual(["p@ss-word-42"]);
    expect(scrubbed(secrets, "p@ss-word-42")).not.toContain("p@ss-word-42");
  });

  test.each([
    "OTEL_EXPORTER_OTLP_HEADERS",
    "OTEL_EXPORTER_OTLP_TRACES_HEADERS",
    "OTEL_EXPORTER_OTLP_METRICS_HEADERS",
    "OTEL_EXPORTER_OTLP_LOGS_HEADERS",
  ])("%s: every header value, decoded, and the credentials after an auth scheme", (name) => {
    const config = testConfig({
      [name]: "x-api-key=k%3Dey-0123, authorization=Bearer otlp-token-0123, =orphan, novalue",
    });
    const expected = ["k=ey-0123", "Bearer otlp-token-0123", "otlp-token-0123"];
    expect(telemetrySecretValues(config.telemetry)).toEqual(expected);
    expect(secretValues(config)).toEqual(expected);
    for (const secret of expected) expect(scrubbed(secretValues(config), secret)).not.toContain(secret);
  });

  test("a header value that is not valid percent-encoding is kept as written, and still scrubbed", () => {
    const config = testConfig({ OTEL_EXPORTER_OTLP_HEADERS: "x-api-key=100%-secret-value" });
    expect(config.telemetry.headers).toEqual({ "x-api-key": "100%-secret-value" });
    expect(secretValues(config)).toEqual(["100%-secret-value"]);
  });

  test("a header whose value has more than a scheme and credentials is scrubbed whole only", () => {
    const config = testConfig({ OTEL_EXPORTER_OTLP_HEADERS: "authorization=Digest a b, x=9token" });
    expect(secretValues(config)).toEqual(["Digest a b", "9token"]);
  });

  test("a URL password that is not valid percent-encoding is scrubbed as written", () => {
    const secrets = secretValues(
      testConfig({ REDIS_URL: "redis://app:50%off-secret@redis.example.com:6379" }),
    );
    expect(secrets).toEqual(["50%off-secret"]);
  });

  test("credentials after an auth scheme are found however many spaces separate them", () => {
    const config = testConfig({ OTEL_EXPORTER_OTLP_HEADERS: "authorization=Bearer%20%20spaced-token-01" });
    expect(secretValues(config)).toEqual(["Bearer  spaced-token-01", "spaced-token-01"]);
  });

  test("an empty header value is nothing to scrub", () => {
    expect(secretValues(testConfig({ OTEL_EXPORTER_OTLP_HEADERS: "x-empty=, x-key=value-0123" }))).toEqual([
      "value-0123",
    ]);
  });

  test.each([
    "OTEL_EXPORTER_OTLP_ENDPOINT",
    "OTEL_EXPORTER_OTLP_TRACES_ENDPOINT",
    "OTEL_EXPORTER_OTLP_METRICS_ENDPOINT",
    "OTEL_EXPORTER_OTLP_LOGS_ENDPOINT",
  ])("the password in %s", (name) => {
    const config = testConfig({ [name]: "https://collector:otlp%2Fpass@otel.example.com:4318" });
    expect(telemetrySecretValues(config.telemetry)).toEqual(["otlp/pass"]);
    expect(secretValues(config)).toEqual(["otlp/pass"]);
  });

  test("nothing to scrub when no secret is set, and a URL without a password adds nothing", () => {
    expect(
      secretValues(testConfig({ OTEL_EXPORTER_OTLP_ENDPOINT: "https://user@otel.example.com" })),
    ).toEqual([]);
    expect(secretValues(testConfig())).toEqual([]);
  });

  test("all of them at once, in one list", () => {
    const config = testConfig({
      KONG_ADMIN_TOKEN: "admin-token-value",
      REDIS_PASSWORD: "redis-password-value",
      REDIS_URL: "redis://:url-password@redis:6379",
      TRUSTED_GATEWAY_SECRET: "gateway-secret-value-0123456789abcdef",
      DEBUG_TOKEN: "debug-token-value-01",
      OTEL_EXPORTER_OTLP_HEADERS: "k=header-value",
    });
    expect(secretValues(config).sort()).toEqual(
      [
        "admin-token-value",
        "redis-password-value",
        "url-password",
        "gateway-secret-value-0123456789abcdef",
        "debug-token-value-01",
        "header-value",
      ].sort(),
    );
  });
});

describe("a refused secret is never echoed in the start-up error", () => {
  test.each([
    ["KONG_ADMIN_TOKEN", "short-admin-token", { NODE_ENV: "production", ALLOW_UNVERIFIED_GATEWAY: "true" }],
    ["TRUSTED_GATEWAY_SECRET", "short-gateway-secret", {}],
    ["DEBUG_TOKEN", "short-debug", {}],
    ["CACHE_ENCRYPTION_KEY", "dG9vLXNob3J0LWtleQ==", {}],
  ])("%s", (name, value, extra) => {
    let error: unknown;
    try {
      loadConfig({ ...baseEnv, ...extra, [name]: value });
    } catch (caught) {
      error = caught;
    }
    expect(error).toBeInstanceOf(ConfigError);
    const { message, problems } = error as ConfigError;
    expect(problems.some((problem) => problem.startsWith(`${name}: `))).toBe(true);
    expect(message).not.toContain(value);
  });
});
