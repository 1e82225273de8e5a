import { describe, expect, test } from "bun:test";
import { loadConfig } from "../../../src/config/index.ts";
import { baseEnv, problemsOf } from "../../support/config.ts";

/** REDIS_MODE and the settings each topology needs: what is read, and what an operator is told. */
type Env = Record<string, string | undefined>;
const on: Env = { ...baseEnv, REDIS_ENABLED: "true" };
const sentinel: Env = {
  ...on,
  REDIS_MODE: "sentinel",
  REDIS_SENTINELS: "s1:26379, s2:26380",
  REDIS_SENTINEL_MASTER_NAME: "mymaster",
};
const cluster: Env = { ...on, REDIS_MODE: "cluster", REDIS_CLUSTER_NODES: "10.0.0.1:7000,[::1]:7001" };
const prod: Env = {
  ...baseEnv,
  NODE_ENV: "production",
  KONG_ADMIN_URL: "https://kong-admin.internal.example.com:8444",
  KONG_ADMIN_TOKEN: "kpat_0123456789abcdef0123456789a",
  TRUSTED_GATEWAY_SECRET: Buffer.from(crypto.getRandomValues(new Uint8Array(32))).toString("base64"),
  REDIS_PASSWORD: "redis-password",
};

describe("REDIS_MODE", () => {
  test("is standalone by default, as before", () => {
    expect(loadConfig(on).redis.mode).toBe("standalone");
  });

  test("anything but standalone, sentinel or cluster is refused by name", () => {
    expect(problemsOf({ ...on, REDIS_MODE: "replica" })).toEqual([
      "REDIS_MODE: must be standalone, sentinel or cluster",
    ]);
  });
});

describe("REDIS_MODE=sentinel", () => {
  test("reads the sentinels as host and port, the master name, and the sentinel credentials", () => {
    const redis = loadConfig({
      ...sentinel,
      REDIS_SENTINEL_USERNAME: "watcher",
      REDIS_SENTINEL_PASSWORD: "sentinel-password",
      REDIS_SENTINEL_TLS: "true",
    }).redis;
    expect(redis.sentinels).toEqual([
      { host: "s1", port: 26379 },
      { host: "s2", port: 26380 },
    ]);
    expect(redis.sentinelMasterName).toBe("mymaster");
    expect(redis.sentinelUsername).toBe("watcher");
    expect(redis.sentinelPassword).toBe("sentinel-password");
    expect(redis.sentinelTls).toBe(true);
  });

  test("needs the sentinels and the master name, each said by its variable", () => {
    expect(problemsOf({ ...on, REDIS_MODE: "sentinel" })).toEqual([
      "REDIS_SENTINELS: is required with REDIS_MODE=sentinel: host:port of each Sentinel, comma-separated",
      "REDIS_SENTINEL_MASTER_NAME: is required with REDIS_MODE=sentinel: the name in the Sentinels' 'sentinel monitor' line",
    ]);
  });

  test("neither is needed while Redis is off or in another mode", () => {
    expect(problemsOf({ ...baseEnv, REDIS_ENABLED: "false", REDIS_MODE: "sentinel" })).toEqual([]);
    expect(problemsOf({ ...on, REDIS_MODE: "cluster", REDIS_CLUSTER_NODES: "a:1" })).toEqual([]);
  });

  test("an item that is not host:port is named, and a port out of range too", () => {
    expect(problemsOf({ ...sentinel, REDIS_SENTINELS: "s1:26379,s2,s3:0,s4:65536,s5:65535" })).toEqual([
      'REDIS_SENTINELS: has "s2", which is not host:port (port 1-65535)',
      'REDIS_SENTINELS: has "s3:0", which is not host:port (port 1-65535)',
      'REDIS_SENTINELS: has "s4:65536", which is not host:port (port 1-65535)',
    ]);
    expect(problemsOf({ ...sentinel, REDIS_SENTINELS: " , " })).toEqual([
      "REDIS_SENTINELS: must list at least one host:port",
    ]);
    // Whole items only: nothing before the host, nothing after the port.
    expect(problemsOf({ ...sentinel, REDIS_SENTINELS: "a/b:26379,s1:26379x" })).toEqual([
      'REDIS_SENTINELS: has "a/b:26379", which is not host:port (port 1-65535)',
      'REDIS_SENTINELS: has "s1:26379x", which is not host:port (port 1-65535)',
    ]);
    expect(problemsOf({ ...sentinel, REDIS_SENTINEL_MASTER_NAME: "my master" })).toEqual([
      "REDIS_SENTINEL_MASTER_NAME: must be 1-128 of A-Z a-z 0-9 _ . -",
    ]);
  });
});

describe("REDIS_MODE=cluster", () => {
  test("reads the seed nodes, an IPv6 address without its brackets, and the data-node credentials", () => {
    const redis = loadConfig({
      ...cluster,
      REDIS_USERNAME: "svc",
      REDIS_PASSWORD: "pass-word",
      REDIS_TLS: "true",
    }).redis;
    expect(redis.clusterNodes).toEqual([
      { host: "10.0.0.1", port: 7000 },
      { host: "::1", port: 7001 },
    ]);
    expect([redis.username, redis.password, redis.tls]).toEqual(["svc", "pass-word", true]);
  });

  test("needs the seed nodes, and database 0", () => {
    expect(problemsOf({ ...on, REDIS_MODE: "cluster" })).toEqual([
      "REDIS_CLUSTER_NODES: is required with REDIS_MODE=cluster: host:port of one or more nodes, comma-separated",
    ]);
    expect(problemsOf({ ...cluster, REDIS_DB: "1" })).toEqual([
      "REDIS_DB: must be 0 with REDIS_MODE=cluster: a cluster has one database",
    ]);
    expect(problemsOf({ ...on, REDIS_DB: "1" })).toEqual([]);
  });
});

describe("in production", () => {
  test("sentinel and cluster modes need REDIS_TLS, and take no rediss:// from REDIS_URL", () => {
    const message = "REDIS_TLS: must be true in production with REDIS_MODE=sentinel or cluster";
    expect(problemsOf({ ...sentinel, ...prod })).toEqual([message]);
    expect(problemsOf({ ...cluster, ...prod })).toEqual([message]);
    expect(problemsOf({ ...cluster, ...prod, REDIS_TLS: "true" })).toEqual([]);
    expect(problemsOf({ ...sentinel, ...prod, REDIS_TLS: "true" })).toEqual([]);
  });

  test("a password in REDIS_URL counts for standalone only", () => {
    const env = { ...cluster, ...prod, REDIS_TLS: "true", REDIS_PASSWORD: undefined };
    expect(problemsOf({ ...env, REDIS_URL: "rediss://:in-url@redis.example.com" })).toEqual([
      "REDIS_PASSWORD: is required in production (or a password in REDIS_URL): Redis holds the secrets tokens are signed with",
    ]);
  });
});
