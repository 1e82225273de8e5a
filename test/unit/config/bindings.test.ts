import { describe, expect, test } from "bun:test";
import { envNameFor, settingRows } from "../../../src/config/schema.ts";
import { testConfig } from "../../support/config.ts";

/**
 * Every setting comes from one environment variable (docs/configuration.md says so), so every
 * problem the start-up error lists can be led by the variable to change.
 */
describe("the table of settings", () => {
  test("every variable sets one field, and no two fields share a variable", () => {
    const names = settingRows.map((row) => row.setting.env);
    expect(new Set(names).size).toBe(names.length);
    expect(new Set(settingRows.map((row) => row.path.join("."))).size).toBe(settingRows.length);
  });

  test("every field of the loaded configuration has its row, and every row its field", () => {
    const loaded = Object.entries(testConfig()).flatMap(([section, values]) =>
      Object.keys(values).map((key) => `${section}.${key}`),
    );
    // Optional fields that are unset do not appear in the loaded object.
    const rows = settingRows.map((row) => row.path.join("."));
    expect(loaded.filter((field) => !rows.includes(field))).toEqual([]);
    expect(rows.filter((field) => !loaded.includes(field))).toEqual([
      "kong.adminToken",
      "jwt.issuers",
      "signing.jwks",
      "signing.jwksFile",
      "signing.activeKid",
      "signing.workers",
      "cache.encryptionKey",
      "redis.sentinels",
      "redis.sentinelMasterName",
      "redis.sentinelUsername",
      "redis.sentinelPassword",
      "redis.clusterNodes",
      "redis.username",
      "redis.password",
      "telemetry.endpoint",
      "telemetry.tracesEndpoint",
      "telemetry.metricsEndpoint",
      "telemetry.logsEndpoint",
      "telemetry.headers",
      "telemetry.tracesHeaders",
      "telemetry.metricsHeaders",
      "telemetry.logsHeaders",
      "security.gatewaySecret",
      "security.trustedProxyCidrs",
      "security.adminToken",
      "security.debugToken",
      "profiling.autoGenerate",
    ]);
  });

  test("the Kong connection pool is a Kong setting", () => {
    expect(testConfig({ KONG_CONNECTION_POOL_SIZE: "7" }).kong.connectionPoolSize).toBe(7);
    expect(envNameFor(["kong", "connectionPoolSize"])).toBe("KONG_CONNECTION_POOL_SIZE");
  });

  test("a field is named by its variable; a path no variable sets has no name", () => {
    expect(envNameFor(["redis", "url"])).toBe("REDIS_URL");
    expect(envNameFor(["api", "cors", 0])).toBe("API_CORS");
    expect(envNameFor(["redis", "hostname"])).toBeUndefined();
  });
});
