import { z } from "zod";
import { type Problem, setting } from "../setting.ts";
import { bool, int, parseUrl, splitList } from "../values.ts";

/** The shared cache tier: which Redis (standalone, Sentinel or Cluster), how to reach it, how long to wait. */

export interface RedisAddress {
  readonly host: string;
  readonly port: number;
}

const ADDRESS = /^(?<host>\[[0-9A-Fa-f:.]+\]|[A-Za-z0-9.-]+):(?<port>[0-9]{1,5})$/;

/** "host:port" (an IPv6 host in brackets) → the address, or nothing when it is not one. */
function parseAddress(item: string): RedisAddress | undefined {
  const groups = ADDRESS.exec(item)?.groups;
  const port = Number(groups?.port);
  if (!groups?.host || port < 1 || port > 65_535) return undefined;
  const host = groups.host.startsWith("[") ? groups.host.slice(1, -1) : groups.host;
  return { host, port };
}

/** "host:port, host:port" → addresses; each item is checked, and named when it is wrong. */
const addresses = z
  .string()
  .transform((value, ctx): RedisAddress[] => {
    const items = splitList(value);
    if (items.length === 0) ctx.addIssue("must list at least one host:port");
    const parsed = items.map(parseAddress);
    items.forEach((item, i) => {
      if (!parsed[i]) ctx.addIssue(`has "${item}", which is not host:port (port 1-65535)`);
    });
    // Every item parsed when no issue was raised (the value is dropped otherwise).
    return parsed as RedisAddress[];
  })
  .optional();

type Mode = "standalone" | "sentinel" | "cluster";
interface RedisView {
  readonly enabled?: unknown;
  readonly mode?: Mode;
  readonly url?: string;
}
const inMode = (redis: RedisView, mode: Mode) => redis.enabled === true && redis.mode === mode;
/** Sentinel and Cluster take their addresses from lists, so TLS is a setting rather than rediss://. */
const listed = (redis: RedisView) => inMode(redis, "sentinel") || inMode(redis, "cluster");

export const redis = {
  enabled: setting({
    env: "REDIS_ENABLED",
    schema: bool.prefault(false),
    description: "Use Redis as the shared second cache tier",
  }),
  mode: setting({
    env: "REDIS_MODE",
    schema: z
      .enum(["standalone", "sentinel", "cluster"], { error: "must be standalone, sentinel or cluster" })
      .prefault("standalone"),
    description: "standalone (REDIS_URL), sentinel (REDIS_SENTINELS) or cluster (REDIS_CLUSTER_NODES)",
  }),
  url: setting({
    env: "REDIS_URL",
    schema: z
      .url({ protocol: /^rediss?$/, error: "must be a redis:// or rediss:// URL" })
      .prefault("redis://localhost:6379"),
    description: "redis:// or rediss:// URL of a standalone Redis (rediss:// in production)",
    production: [
      (url, config): Problem =>
        inMode(config.redis, "standalone") && parseUrl(url)?.protocol === "redis:"
          ? "must use rediss:// (TLS) in production"
          : undefined,
    ],
  }),
  sentinels: setting({
    env: "REDIS_SENTINELS",
    schema: addresses,
    example: "sentinel-1:26379,sentinel-2:26379,sentinel-3:26379",
    description: "host:port of each Sentinel, comma-separated (REDIS_MODE=sentinel)",
    rules: [
      (sentinels, config): Problem =>
        inMode(config.redis, "sentinel") && sentinels === undefined
          ? "is required with REDIS_MODE=sentinel: host:port of each Sentinel, comma-separated"
          : undefined,
    ],
  }),
  sentinelMasterName: setting({
    env: "REDIS_SENTINEL_MASTER_NAME",
    schema: z
      .string()
      .regex(/^[A-Za-z0-9_.-]{1,128}$/, "must be 1-128 of A-Z a-z 0-9 _ . -")
      .optional(),
    example: "mymaster",
    description: "The master name the Sentinels monitor (REDIS_MODE=sentinel)",
    rules: [
      (name, config): Problem =>
        inMode(config.redis, "sentinel") && name === undefined
          ? "is required with REDIS_MODE=sentinel: the name in the Sentinels' 'sentinel monitor' line"
          : undefined,
    ],
  }),
  sentinelUsername: setting({
    env: "REDIS_SENTINEL_USERNAME",
    schema: z.string().min(1).optional(),
    description: "ACL user the service authenticates as to the Sentinels",
  }),
  sentinelPassword: setting({
    env: "REDIS_SENTINEL_PASSWORD",
    schema: z.string().min(1).optional(),
    secret: true,
    description: "Password of the Sentinels (their requirepass), when they have one",
  }),
  sentinelTls: setting({
    env: "REDIS_SENTINEL_TLS",
    schema: bool.prefault(false),
    description: "Talk TLS to the Sentinels",
  }),
  clusterNodes: setting({
    env: "REDIS_CLUSTER_NODES",
    schema: addresses,
    example: "redis-1:6379,redis-2:6379,redis-3:6379",
    description:
      "host:port of some Cluster nodes to discover the rest from, comma-separated (REDIS_MODE=cluster)",
    rules: [
      (nodes, config): Problem =>
        inMode(config.redis, "cluster") && nodes === undefined
          ? "is required with REDIS_MODE=cluster: host:port of one or more nodes, comma-separated"
          : undefined,
    ],
  }),
  tls: setting({
    env: "REDIS_TLS",
    schema: bool.prefault(false),
    description: "Talk TLS to the data nodes with REDIS_MODE=sentinel or cluster (standalone: use rediss://)",
    production: [
      (tls, config): Problem =>
        listed(config.redis) && tls !== true
          ? "must be true in production with REDIS_MODE=sentinel or cluster"
          : undefined,
    ],
  }),
  username: setting({
    env: "REDIS_USERNAME",
    schema: z.string().min(1).optional(),
    description: "Redis ACL user (standalone: or in REDIS_URL)",
  }),
  password: setting({
    env: "REDIS_PASSWORD",
    schema: z.string().min(1).optional(),
    secret: true,
    description: "Redis AUTH password of the data nodes",
    production: [
      (password, config): Problem =>
        config.redis.enabled === true &&
        !password &&
        !(inMode(config.redis, "standalone") && parseUrl(config.redis.url)?.password)
          ? "is required in production (or a password in REDIS_URL): Redis holds the secrets tokens are signed with"
          : undefined,
    ],
  }),
  db: setting({
    env: "REDIS_DB",
    schema: int(0, 15).prefault(0),
    description: "Redis logical database (0 with REDIS_MODE=cluster)",
    rules: [
      (db, config): Problem =>
        inMode(config.redis, "cluster") && db !== 0
          ? "must be 0 with REDIS_MODE=cluster: a cluster has one database"
          : undefined,
    ],
  }),
  maxRetries: setting({
    env: "REDIS_MAX_RETRIES",
    schema: int(1, 10).prefault(3),
    description: "Quick reconnection attempts before backing off to one attempt every few seconds",
  }),
  retryDelayMs: setting({
    env: "REDIS_RETRY_DELAY_MS",
    schema: int(50, 5_000).prefault(100),
    description: "Base delay between reconnection attempts",
  }),
  commandTimeoutMs: setting({
    env: "REDIS_COMMAND_TIMEOUT_MS",
    schema: int(10, 30_000).prefault(500),
    description: "Longest a request waits on one Redis command before carrying on without it",
  }),
  connectTimeoutMs: setting({
    env: "REDIS_CONNECT_TIMEOUT_MS",
    schema: int(100, 30_000).prefault(10_000),
    description: "Timeout of one connection attempt, from TCP connect to the end of the handshake",
  }),
  failoverWaitMs: setting({
    env: "REDIS_FAILOVER_WAIT_MS",
    schema: int(0, 60_000).prefault(10_000),
    description:
      "Sentinel/Cluster: how long provisioning a new consumer waits for Redis's lock through a failover before going on without it",
  }),
  keyPrefix: setting({
    env: "REDIS_KEY_PREFIX",
    schema: z
      .string()
      .regex(/^[A-Za-z0-9_.-]{1,64}$/, "must be 1-64 of A-Z a-z 0-9 _ . -")
      .prefault("auth-service"),
    description: "Prefix of every key and channel, so several deployments can share one Redis",
  }),
};
