import { describe, expect, test } from "bun:test";
import { baseEnv, problemsOf, testConfig } from "../../support/config.ts";

// How each kind of value is read from its string, and the message a malformed one gets.

const problemOf = (name: string, value: string) => problemsOf({ ...baseEnv, [name]: value });

describe("switches", () => {
  test.each([
    ["true", true],
    ["false", false],
    ["1", true],
    ["0", false],
  ])("REDIS_ENABLED=%s reads as %p", (value, expected) => {
    expect(testConfig({ REDIS_ENABLED: value }).redis.enabled).toBe(expected);
  });

  test.each(["KONG_JWT_SECRET_IS_BASE64", "REDIS_ENABLED", "PROFILING_ENABLED", "ALLOW_UNVERIFIED_GATEWAY"])(
    "%s=maybe: must be true or false",
    (name) => {
      expect(problemOf(name, "maybe")).toEqual([`${name}: must be true or false`]);
    },
  );
});

describe("text", () => {
  test("surrounding spaces are dropped", () => {
    const config = testConfig({ HOST: "  127.0.0.1 ", KONG_JWT_AUDIENCE: " http://api.example.com/ " });
    expect(config.app.host).toBe("127.0.0.1");
    expect(config.jwt.audience).toBe("http://api.example.com/");
  });

  test("a value longer than its limit is refused", () => {
    expect(testConfig({ HOST: "h".repeat(255) }).app.host).toHaveLength(255);
    expect(problemOf("HOST", "h".repeat(256))).toEqual([expect.stringMatching(/^HOST: /)]);
  });
});

describe("URLs", () => {
  test("KONG_ADMIN_URL: trailing slashes are dropped so paths join cleanly", () => {
    expect(testConfig({ KONG_ADMIN_URL: "http://kong:8001///" }).kong.adminUrl).toBe("http://kong:8001");
    expect(testConfig({ KONG_ADMIN_URL: "http://kong:8001/admin/" }).kong.adminUrl).toBe(
      "http://kong:8001/admin",
    );
  });

  test.each([
    "KONG_ADMIN_URL",
    "KONG_JWT_AUTHORITY",
    "OTEL_EXPORTER_OTLP_ENDPOINT",
    "OTEL_EXPORTER_OTLP_TRACES_ENDPOINT",
    "OTEL_EXPORTER_OTLP_METRICS_ENDPOINT",
    "OTEL_EXPORTER_OTLP_LOGS_ENDPOINT",
  ])("%s must be http(s)", (name) => {
    expect(problemOf(name, "grpc://collector:4317")).toEqual([`${name}: must be an http:// or https:// URL`]);
  });

  test.each(["xhttp://kong:8001", "httpx://kong:8001", "shttps://kong:8001", "httpss://kong:8001"])(
    "KONG_ADMIN_URL=%s only looks like http(s): refused",
    (url) => {
      expect(problemOf("KONG_ADMIN_URL", url)).toEqual([
        "KONG_ADMIN_URL: must be an http:// or https:// URL",
      ]);
    },
  );

  test.each(["xhttps://app.example.com", "httpx://app.example.com"])(
    "API_CORS=%s only looks like an http(s) origin: refused",
    (origin) => {
      expect(problemOf("API_CORS", origin)).toEqual([
        "API_CORS: must be * or a comma-separated list of origins",
      ]);
    },
  );

  test.each(["xredis://redis:6379", "redisx://redis:6379", "rediss2://redis:6379"])(
    "REDIS_URL=%s only looks like redis(s): refused",
    (url) => {
      expect(problemOf("REDIS_URL", url)).toEqual(["REDIS_URL: must be a redis:// or rediss:// URL"]);
    },
  );

  test("REDIS_URL must be redis:// or rediss://", () => {
    expect(problemOf("REDIS_URL", "https://redis:6379")).toEqual([
      "REDIS_URL: must be a redis:// or rediss:// URL",
    ]);
    expect(testConfig({ REDIS_URL: "rediss://redis:6380" }).redis.url).toBe("rediss://redis:6380");
  });
});

describe("the admin token", () => {
  test.each([
    ["Bearer kpat_abc", "kpat_abc"],
    ["bearer   kpat_abc", "kpat_abc"],
    ["  kpat_abc  ", "kpat_abc"],
    ["Bearerkpat_abc", "Bearerkpat_abc"],
    ["kpat_Bearer abc", "kpat_Bearer abc"],
    ["rbac token with spaces~", "rbac token with spaces~"],
  ])("KONG_ADMIN_TOKEN=%p is sent as %p", (value, expected) => {
    expect(testConfig({ KONG_ADMIN_TOKEN: value }).kong.adminToken).toBe(expected);
  });

  test.each([
    "kpat_abc\ndef",
    "kpat_abc\rdef",
    "kpat_abc\u0000def",
    "kpat_abc\tdef",
    "kpat_abc\u007fdef",
    "kpat_abcé",
  ])("KONG_ADMIN_TOKEN=%p cannot travel in an HTTP header: refused at start-up, never echoed", (value) => {
    // fetch would refuse the header on every call, which the adapter can only report as an outage.
    expect(problemOf("KONG_ADMIN_TOKEN", value)).toEqual([
      "KONG_ADMIN_TOKEN: must be printable ASCII (it is sent in an HTTP header)",
    ]);
  });
});

describe("lists", () => {
  test("KONG_ANONYMOUS_CONSUMERS: comma-separated, blanks ignored; at least one", () => {
    expect(testConfig().kong.anonymousConsumers).toEqual(["anonymous"]);
    expect(testConfig({ KONG_ANONYMOUS_CONSUMERS: " anon , ,guest," }).kong.anonymousConsumers).toEqual([
      "anon",
      "guest",
    ]);
    expect(problemOf("KONG_ANONYMOUS_CONSUMERS", " , ")).toEqual([
      "KONG_ANONYMOUS_CONSUMERS: must name at least one consumer id or username",
    ]);
  });

  test("KONG_JWT_ISSUER: at least one issuer", () => {
    expect(problemOf("KONG_JWT_ISSUER", ",,")).toEqual(["KONG_JWT_ISSUER: must name at least one issuer"]);
  });

  test("API_CORS: * alone, or origins", () => {
    expect(testConfig({ API_CORS: " * " }).api.cors).toBe("*");
    expect(testConfig({ API_CORS: "https://a.example.com,,http://b.example.com:8080" }).api.cors).toEqual([
      "https://a.example.com",
      "http://b.example.com:8080",
    ]);
    expect(problemOf("API_CORS", "*, https://a.example.com")).toEqual([
      "API_CORS: must be * or a comma-separated list of origins",
    ]);
    expect(problemOf("API_CORS", "ftp://a.example.com")).toEqual([
      "API_CORS: must be * or a comma-separated list of origins",
    ]);
    expect(problemOf("API_CORS", ",")).toHaveLength(1);
  });

  test("TRUSTED_PROXY_CIDRS: at least one", () => {
    expect(problemOf("TRUSTED_PROXY_CIDRS", " ,")).toEqual([
      "TRUSTED_PROXY_CIDRS: must name at least one CIDR",
    ]);
  });

  test.each(["10.0.0.0/32", "10.0.0.0/0", "::/128", "fd00::/64", "192.168.1.7", "::1"])(
    "TRUSTED_PROXY_CIDRS=%s is a CIDR",
    (cidr) => {
      expect(testConfig({ TRUSTED_PROXY_CIDRS: cidr }).security.trustedProxyCidrs).toEqual([cidr]);
    },
  );

  test.each([
    "10.0.0.0/33",
    "10.0.0.0/64",
    "::/129",
    "10.0.0.0/8/8",
    "10.0.0.0/",
    "10.0.0.0/0008",
    "10.0.0.0/8a",
    "10.0.0.0/-8",
    "a10.0.0.0/8",
    "kong.internal/32",
  ])("TRUSTED_PROXY_CIDRS=%s is not a CIDR", (cidr) => {
    expect(problemOf("TRUSTED_PROXY_CIDRS", cidr)).toEqual([
      "TRUSTED_PROXY_CIDRS: must be comma-separated CIDRs such as 10.0.0.0/8 or fd00::/8",
    ]);
  });
});

describe("names and secrets with a shape", () => {
  test("TRUSTED_GATEWAY_HEADER: an HTTP header name of up to 64 characters", () => {
    expect(testConfig({ TRUSTED_GATEWAY_HEADER: `X-${"a".repeat(62)}` }).security.gatewayHeader).toHaveLength(
      64,
    );
    for (const value of [`X-${"a".repeat(63)}`, "X Gateway", "X_Gateway", "X-Gateway:"]) {
      expect(problemOf("TRUSTED_GATEWAY_HEADER", value)).toEqual([
        "TRUSTED_GATEWAY_HEADER: must be an HTTP header name",
      ]);
    }
  });

  test("REDIS_KEY_PREFIX: 1-64 safe characters", () => {
    expect(testConfig({ REDIS_KEY_PREFIX: "a.b-c_D9" }).redis.keyPrefix).toBe("a.b-c_D9");
    expect(testConfig({ REDIS_KEY_PREFIX: "p".repeat(64) }).redis.keyPrefix).toHaveLength(64);
    for (const value of ["p".repeat(65), "a:b", "a b", "a/b"]) {
      expect(problemOf("REDIS_KEY_PREFIX", value)).toEqual([
        "REDIS_KEY_PREFIX: must be 1-64 of A-Z a-z 0-9 _ . -",
      ]);
    }
  });

  test("TRUSTED_GATEWAY_SECRET: at least 32 characters", () => {
    const secret = "0123456789abcdefghijklmnopqrstuv";
    expect(testConfig({ TRUSTED_GATEWAY_SECRET: secret }).security.gatewaySecret).toBe(secret);
    expect(problemOf("TRUSTED_GATEWAY_SECRET", secret.slice(1))).toEqual([
      "TRUSTED_GATEWAY_SECRET: must be at least 32 characters",
    ]);
  });

  test("DEBUG_TOKEN: at least 16 characters", () => {
    expect(testConfig({ DEBUG_TOKEN: "0123456789abcdef" }).security.debugToken).toBe("0123456789abcdef");
    expect(problemOf("DEBUG_TOKEN", "0123456789abcde")).toEqual([
      "DEBUG_TOKEN: must be at least 16 characters",
    ]);
  });

  test("OTLP headers: key=value pairs, trimmed, percent-decoded", () => {
    expect(testConfig({ OTEL_EXPORTER_OTLP_HEADERS: " api-key = a%20b ,x=1=2" }).telemetry.headers).toEqual({
      "api-key": "a b",
      x: "1=2",
    });
  });
});
