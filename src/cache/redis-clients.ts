import type { createClient, createCluster, createSentinel } from "redis";
import type { Config } from "../config/index.ts";

/**
 * What the service asks of Redis, whichever the topology: a standalone client, a Sentinel client
 * (which follows the master Sentinel names) or a Cluster client (which routes each key to its shard).
 * Replies are `unknown`: every caller checks what comes back, as it would any input.
 */
/** The ZADD conditions the retirement store uses. */
export interface ZAddOptions {
  readonly condition: "NX" | "XX";
  readonly comparison?: "GT";
}

export interface RedisClient {
  readonly isOpen: boolean;
  readonly isReady: boolean;
  get(key: string): Promise<unknown>;
  set(
    key: string,
    value: string,
    options: { condition?: "NX"; expiration: { type: "PX"; value: number } },
  ): Promise<unknown>;
  del(key: string): Promise<unknown>;
  eval(script: string, options: { keys: string[]; arguments: string[] }): Promise<unknown>;
  ping(): Promise<unknown>;
  publish(channel: string, message: string): Promise<unknown>;
  zAdd(key: string, member: { score: number; value: string }, options: ZAddOptions): Promise<unknown>;
  zRem(key: string, member: string): Promise<unknown>;
  zScore(key: string, member: string): Promise<unknown>;
  subscribe(channel: string, listener: (message: string) => void): Promise<unknown>;
  connect(): Promise<unknown>;
  close(): Promise<unknown>;
  destroy(): unknown;
  on(event: string, listener: (error: unknown) => void): unknown;
}

export interface RedisLibrary {
  readonly createClient: typeof createClient;
  readonly createSentinel: typeof createSentinel;
  readonly createCluster: typeof createCluster;
}

export interface BuiltClient {
  readonly client: RedisClient;
  /**
   * The event that says the client takes commands: 'ready' (after the handshake) for a standalone or
   * Sentinel client, 'connect' (after the slots are discovered) for a Cluster client.
   */
  readonly readyEvent: "ready" | "connect";
}

/** How long a Cluster client waits after a node starts reconnecting before asking for the slots again. */
const CLUSTER_REFRESH_AFTER_MS = 200;
/**
 * Slowest reconnection of one node of a Sentinel or Cluster client. The node may be gone for good (a
 * master replaced by its replica): its retries are what make a Cluster client ask for the slots again,
 * so they stay frequent rather than backing off to the standalone client's 5 s.
 */
const NODE_RETRY_MAX_MS = 1_000;

export interface Reconnection {
  /** The link's own backoff for a standalone client; false once the link is closed. */
  readonly retryIn: () => number | false;
  readonly closed: () => boolean;
}

/** A node's reconnection: quick doubling from REDIS_RETRY_DELAY_MS up to a second, while the link lives. */
function nodeRetry(config: Config["redis"], { closed }: Reconnection) {
  return (retries: number) =>
    closed() ? false : Math.min(NODE_RETRY_MAX_MS, config.retryDelayMs * 2 ** Math.min(retries, 10));
}

/** The connection options every node of any topology gets: fail fast while offline, bounded commands. */
function nodeOptions(config: Config["redis"], retryIn: (retries: number) => number | false, tls: boolean) {
  const { username, password, connectTimeoutMs, commandTimeoutMs } = config;
  return {
    ...(username ? { username } : {}),
    ...(password ? { password } : {}),
    disableOfflineQueue: true,
    commandOptions: { timeout: commandTimeoutMs },
    socket: {
      connectTimeout: connectTimeoutMs,
      reconnectStrategy: retryIn,
      ...(tls ? { tls: true as const } : {}),
    },
  };
}

function sentinelClient(library: RedisLibrary, config: Config["redis"], reconnection: Reconnection) {
  const { sentinelUsername, sentinelPassword, sentinelTls, connectTimeoutMs } = config;
  return library.createSentinel({
    // Stryker disable next-line StringLiteral: never used; REDIS_MODE=sentinel requires the master name.
    name: config.sentinelMasterName ?? "",
    // Stryker disable next-line ArrayDeclaration: never used; REDIS_MODE=sentinel requires the sentinels.
    sentinelRootNodes: (config.sentinels ?? []).map(({ host, port }) => ({ host, port })),
    nodeClientOptions: {
      ...nodeOptions(config, nodeRetry(config, reconnection), config.tls),
      database: config.db,
    },
    sentinelClientOptions: {
      ...(sentinelUsername ? { username: sentinelUsername } : {}),
      ...(sentinelPassword ? { password: sentinelPassword } : {}),
      socket: { connectTimeout: connectTimeoutMs, ...(sentinelTls ? { tls: true as const } : {}) },
    },
  });
}

function clusterClient(library: RedisLibrary, config: Config["redis"], reconnection: Reconnection) {
  const defaults = nodeOptions(config, nodeRetry(config, reconnection), config.tls);
  return library.createCluster({
    // Stryker disable next-line ArrayDeclaration: never used; REDIS_MODE=cluster requires the seed nodes.
    rootNodes: (config.clusterNodes ?? []).map(({ host, port }) => ({
      socket: { ...defaults.socket, host, port },
    })),
    defaults,
    // The facts in docs/operations.md: by default a client finds a promoted replica ~5 s after a
    // master is lost; asking for the slots again soon after a node drops makes that under a second.
    topologyRefreshOnReconnectionAttemptStrategy: CLUSTER_REFRESH_AFTER_MS,
  });
}

/** A client for the configured topology, not yet connected. */
export function buildClient(
  library: RedisLibrary,
  config: Config["redis"],
  reconnection: Reconnection,
): BuiltClient {
  if (config.mode === "sentinel")
    return { client: sentinelClient(library, config, reconnection), readyEvent: "ready" };
  if (config.mode === "cluster")
    return { client: clusterClient(library, config, reconnection), readyEvent: "connect" };
  const { url, db } = config;
  return {
    client: library.createClient({ url, database: db, ...nodeOptions(config, reconnection.retryIn, false) }),
    readyEvent: "ready",
  };
}
