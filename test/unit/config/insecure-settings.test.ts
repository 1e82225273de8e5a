import { describe, expect, test } from "bun:test";
import { readFileSync } from "node:fs";
import { loadConfig } from "../../../src/config/index.ts";
import { baseEnv, problemsOf } from "../../support/config.ts";

type Env = Record<string, string | undefined>;

const RANDOM_SECRET = Buffer.from(crypto.getRandomValues(new Uint8Array(32))).toString("base64");
const RANDOM_KEY = Buffer.from(crypto.getRandomValues(new Uint8Array(32))).toString("base64");

const prodEnv: Env = {
  ...baseEnv,
  NODE_ENV: "production",
  KONG_ADMIN_URL: "https://kong-admin.internal.example.com:8444",
  KONG_ADMIN_TOKEN: "kpat_0123456789abcdef0123456789abcdef0123",
  TRUSTED_GATEWAY_SECRET: RANDOM_SECRET,
};

const stagingEnv: Env = { ...baseEnv, NODE_ENV: "staging" };

/** The one problem reported for `name`; fails the test if there is none. */
function problemFor(env: Env, name: string): string {
  const problems = problemsOf(env);
  const found = problems.find((problem) => problem.startsWith(`${name}: `));
  if (!found) throw new Error(`no problem names ${name}; got:\n${problems.join("\n")}`);
  return found;
}

/** The default gateway secret of the local docker-compose stack. */
function composeDemoSecret(): string {
  const compose = readFileSync(new URL("../../../docker-compose.yml", import.meta.url), "utf8");
  const value = /\$\{TRUSTED_GATEWAY_SECRET:-([^}]+)\}/.exec(compose)?.[1];
  if (!value) throw new Error("docker-compose.yml no longer has a default gateway secret");
  return value;
}

describe("staging (item 8)", () => {
  test("staging refuses a configuration with no trust boundary, naming TRUSTED_GATEWAY_SECRET", () => {
    const message = problemFor(stagingEnv, "TRUSTED_GATEWAY_SECRET");
    expect(message).toContain("TRUSTED_PROXY_CIDRS");
    expect(message).toContain("ALLOW_UNVERIFIED_GATEWAY=true");
    for (const boundary of [
      { TRUSTED_GATEWAY_SECRET: RANDOM_SECRET },
      { TRUSTED_PROXY_CIDRS: "10.0.0.0/8" },
      { ALLOW_UNVERIFIED_GATEWAY: "true" },
    ]) {
      expect(loadConfig({ ...stagingEnv, ...boundary }).app.environment).toBe("staging");
    }
  });

  test("staging refuses PROFILING_ENABLED=true without DEBUG_TOKEN, naming DEBUG_TOKEN", () => {
    const env = { ...stagingEnv, TRUSTED_GATEWAY_SECRET: RANDOM_SECRET, PROFILING_ENABLED: "true" };
    expect(problemFor(env, "DEBUG_TOKEN")).toContain("PROFILING_ENABLED");
    expect(loadConfig({ ...env, DEBUG_TOKEN: "a-debug-token-for-staging" }).profiling.enabled).toBe(true);
  });

  test("development and test may profile without DEBUG_TOKEN", () => {
    for (const NODE_ENV of ["development", "test"]) {
      expect(loadConfig({ ...baseEnv, NODE_ENV, PROFILING_ENABLED: "true" }).profiling.enabled).toBe(true);
    }
  });
});

describe("production refuses insecure settings (item 11)", () => {
  test("a sound production configuration with every optional part set is still accepted", () => {
    const config = loadConfig({
      ...prodEnv,
      TRUSTED_PROXY_CIDRS: "10.0.0.0/8, 172.30.80.10/32, fd00::/8, fc00::/7, ::ffff:10.0.0.0/104, 10.1.2.3",
      REDIS_ENABLED: "true",
      REDIS_URL: "rediss://redis.example.com:6380",
      REDIS_PASSWORD: "a-redis-password",
      CACHE_ENCRYPTION_KEY: RANDOM_KEY,
      HIGH_AVAILABILITY: "true",
      TELEMETRY_MODE: "both",
      OTEL_EXPORTER_OTLP_ENDPOINT: "https://collector.example.com:4318",
    });
    expect(config.app.environment).toBe("production");
    for (const KONG_ADMIN_URL of [
      "https://10.0.0.5:8444",
      "https://[fd00::5]:8444",
      "https://127.example.com",
      "https://localhost-kong.example.com",
    ]) {
      expect(loadConfig({ ...prodEnv, KONG_ADMIN_URL }).kong.adminUrl).toBe(KONG_ADMIN_URL);
    }
    for (const url of [
      "rediss://:a-redis-password@redis.example.com",
      "rediss://app:pw-123@redis.example.com",
    ]) {
      expect(loadConfig({ ...prodEnv, REDIS_ENABLED: "true", REDIS_URL: url }).redis.enabled).toBe(true);
    }
  });

  test.each([
    "0.0.0.0/0",
    "::/0",
    "10.0.0.0/8, 0.0.0.0/0",
    "0.0.0.0/1",
    "10.0.0.0/7",
    "::ffff:0:0/96",
    "::ffff:10.0.0.0/103",
    "::/64",
    "2000::/3",
  ])("TRUSTED_PROXY_CIDRS=%s admits far more than Kong: refused", (cidrs) => {
    const message = problemFor({ ...prodEnv, TRUSTED_PROXY_CIDRS: cidrs }, "TRUSTED_PROXY_CIDRS");
    expect(message).toContain("wider than");
  });

  test.each([
    ["one repeated character", "a".repeat(40)],
    ["two alternating characters", "ab".repeat(20)],
    ["a short repeated pattern", "0123456789".repeat(4)],
    ["the docker-compose demo value", composeDemoSecret()],
  ])("TRUSTED_GATEWAY_SECRET that is %s: refused, without echoing it", (_, secret) => {
    const message = problemFor({ ...prodEnv, TRUSTED_GATEWAY_SECRET: secret }, "TRUSTED_GATEWAY_SECRET");
    expect(message).not.toContain(secret);
    expect(message).toContain("openssl rand");
  });

  test("rediss:// without a password (neither REDIS_PASSWORD nor in REDIS_URL): refused, naming REDIS_PASSWORD", () => {
    const env = { ...prodEnv, REDIS_ENABLED: "true", REDIS_URL: "rediss://redis.example.com:6380" };
    expect(problemFor(env, "REDIS_PASSWORD")).toContain("REDIS_URL");
    expect(
      problemFor({ ...env, REDIS_URL: "rediss://app@redis.example.com" }, "REDIS_PASSWORD"),
    ).toBeDefined();
  });

  test.each([
    ["all zero", new Uint8Array(32)],
    ["one repeated byte", new Uint8Array(32).fill(0xa5)],
    ["a two-byte pattern", new Uint8Array(32).map((_, i) => (i % 2 ? 0x01 : 0xfe))],
  ])("CACHE_ENCRYPTION_KEY %s: refused, without echoing it", (_, bytes) => {
    const key = Buffer.from(bytes).toString("base64");
    const message = problemFor({ ...prodEnv, CACHE_ENCRYPTION_KEY: key }, "CACHE_ENCRYPTION_KEY");
    expect(message).not.toContain(key);
    expect(message).toContain("openssl rand -base64 32");
  });

  test.each([
    "https://[::ffff:127.0.0.1]:8444",
    "https://[::ffff:7f00:1]",
    "https://localhost.",
    "https://localhost.:8444",
    "https://kong.localhost./",
    "https://[::]",
    "https://[::ffff:0:0]",
    "https://[0:0:0:0:0:0:0:1]",
    "https://[::127.0.0.1]",
    "https://0.0.0.0:8444",
    "https://0/",
    "https://2130706433/",
    "https://0x7f.1/",
    "https://017700000001/",
    "https://127.1/",
    "https://127.0.0.10/",
    "https://127.0.0.1.:8444",
    "https://loc%61lhost/",
    "https://localhost.localdomain",
    "https://ip6-localhost",
    "https://ip6-loopback:8444",
    "https://localhost../",
    "https://kong.localhost../",
  ])("KONG_ADMIN_URL=%s reaches this host: refused", (url) => {
    expect(problemsOf({ ...prodEnv, KONG_ADMIN_URL: url })).toContain(
      "KONG_ADMIN_URL: must not point at localhost in production",
    );
  });

  test.each([
    "https://kong-admin:8444",
    "https://10.0.0.5:8444",
    "https://1.0.0.0/",
    "https://126.255.255.255/",
    "https://128.0.0.1/",
    "https://200.0.0.127/",
    "https://127.0.0.1.example.com/",
    "https://[::ffff:128.0.0.1]",
    "https://[2001:db8::1]:8444",
  ])("KONG_ADMIN_URL=%s is another host: accepted", (url) => {
    expect(problemsOf({ ...prodEnv, KONG_ADMIN_URL: url })).not.toContain(
      "KONG_ADMIN_URL: must not point at localhost in production",
    );
  });
});
