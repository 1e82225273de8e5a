import { describe, expect, test } from "bun:test";
import { buildClient, type RedisLibrary } from "../../../src/cache/redis-clients.ts";
import { testConfig } from "../../support/config.ts";

/** What each node-redis factory was called with, and a stand-in client. */
function recordingLibrary() {
  const calls: { factory: string; options: Record<string, unknown> }[] = [];
  const factory = (name: string) => (options: Record<string, unknown>) => {
    calls.push({ factory: name, options });
    return { name };
  };
  const library = {
    createClient: factory("createClient"),
    createSentinel: factory("createSentinel"),
    createCluster: factory("createCluster"),
  } as unknown as RedisLibrary;
  return { library, calls };
}

const common = {
  REDIS_ENABLED: "true",
  REDIS_COMMAND_TIMEOUT_MS: "250",
  REDIS_CONNECT_TIMEOUT_MS: "1500",
  REDIS_RETRY_DELAY_MS: "100",
};
const link = (closed = false) => ({ retryIn: () => (closed ? false : 42), closed: () => closed });
type NodeOptions = { socket: { reconnectStrategy: (retries: number) => number | false } };

describe("buildClient", () => {
  test("standalone: a client of REDIS_URL, failing fast offline, bounded commands, the link's backoff", () => {
    const { library, calls } = recordingLibrary();
    const reconnection = link();
    const built = buildClient(
      library,
      testConfig({ ...common, REDIS_URL: "redis://r:6380", REDIS_DB: "2" }).redis,
      reconnection,
    );
    expect(built.readyEvent).toBe("ready");
    expect(calls).toEqual([
      {
        factory: "createClient",
        options: {
          url: "redis://r:6380",
          database: 2,
          disableOfflineQueue: true,
          commandOptions: { timeout: 250 },
          socket: { connectTimeout: 1500, reconnectStrategy: reconnection.retryIn },
        },
      },
    ]);
  });

  test("sentinel: the sentinels and master name, data-node and sentinel credentials and TLS kept apart", () => {
    const { library, calls } = recordingLibrary();
    const config = testConfig({
      ...common,
      REDIS_MODE: "sentinel",
      REDIS_SENTINELS: "s1:26379,s2:26380",
      REDIS_SENTINEL_MASTER_NAME: "main",
      REDIS_USERNAME: "svc",
      REDIS_PASSWORD: "data-pass",
      REDIS_SENTINEL_USERNAME: "watch",
      REDIS_SENTINEL_PASSWORD: "sentinel-pass",
      REDIS_SENTINEL_TLS: "true",
      REDIS_TLS: "true",
      REDIS_DB: "3",
    }).redis;
    const built = buildClient(library, config, link());
    expect(built.readyEvent).toBe("ready");
    expect(calls).toHaveLength(1);
    const { factory, options } = calls[0] as { factory: string; options: Record<string, unknown> };
    expect(factory).toBe("createSentinel");
    expect(options).toMatchObject({
      name: "main",
      sentinelRootNodes: [
        { host: "s1", port: 26379 },
        { host: "s2", port: 26380 },
      ],
      nodeClientOptions: {
        username: "svc",
        password: "data-pass",
        database: 3,
        disableOfflineQueue: true,
        commandOptions: { timeout: 250 },
        socket: { connectTimeout: 1500, tls: true },
      },
      sentinelClientOptions: {
        username: "watch",
        password: "sentinel-pass",
        socket: { connectTimeout: 1500, tls: true },
      },
    });
  });

  test("sentinel without credentials or TLS sends none", () => {
    const { library, calls } = recordingLibrary();
    const config = testConfig({
      ...common,
      REDIS_MODE: "sentinel",
      REDIS_SENTINELS: "s1:1",
      REDIS_SENTINEL_MASTER_NAME: "m",
    });
    buildClient(library, config.redis, link());
    const options = calls[0]?.options as {
      nodeClientOptions: Record<string, unknown>;
      sentinelClientOptions: Record<string, unknown>;
    };
    expect(options.sentinelClientOptions).toEqual({ socket: { connectTimeout: 1500 } });
    expect(Object.keys(options.nodeClientOptions).sort()).toEqual([
      "commandOptions",
      "database",
      "disableOfflineQueue",
      "socket",
    ]);
    expect("tls" in (options.nodeClientOptions.socket as object)).toBe(false);
  });

  test("cluster: the seed nodes with the node defaults, a quick slot refresh, ready once the slots are known", () => {
    const { library, calls } = recordingLibrary();
    const config = testConfig({
      ...common,
      REDIS_MODE: "cluster",
      REDIS_CLUSTER_NODES: "n1:7000,n2:7001",
      REDIS_TLS: "true",
    });
    const built = buildClient(library, config.redis, link());
    expect(built.readyEvent).toBe("connect");
    const options = calls[0]?.options as {
      rootNodes: { socket: Record<string, unknown> }[];
      defaults: Record<string, unknown>;
      topologyRefreshOnReconnectionAttemptStrategy: number;
    };
    expect(calls[0]?.factory).toBe("createCluster");
    expect(options.rootNodes.map((n) => [n.socket.host, n.socket.port, n.socket.tls])).toEqual([
      ["n1", 7000, true],
      ["n2", 7001, true],
    ]);
    expect(options.defaults).toMatchObject({
      disableOfflineQueue: true,
      commandOptions: { timeout: 250 },
      socket: { connectTimeout: 1500, tls: true },
    });
    expect(options.topologyRefreshOnReconnectionAttemptStrategy).toBe(200);
  });

  test("a node of a Sentinel or Cluster client reconnects doubling from REDIS_RETRY_DELAY_MS up to a second, and not once the link is closed", () => {
    for (const env of [
      { REDIS_MODE: "cluster", REDIS_CLUSTER_NODES: "n1:7000" },
      { REDIS_MODE: "sentinel", REDIS_SENTINELS: "s1:1", REDIS_SENTINEL_MASTER_NAME: "m" },
    ]) {
      const open = recordingLibrary();
      buildClient(open.library, testConfig({ ...common, ...env }).redis, link());
      const options = open.calls[0]?.options as { defaults?: NodeOptions; nodeClientOptions?: NodeOptions };
      const retry = (options.defaults ?? options.nodeClientOptions)?.socket.reconnectStrategy;
      expect([0, 1, 2, 3, 4, 50].map((retries) => retry?.(retries))).toEqual([
        100, 200, 400, 800, 1000, 1000,
      ]);

      const closed = recordingLibrary();
      buildClient(closed.library, testConfig({ ...common, ...env }).redis, link(true));
      const closedOptions = closed.calls[0]?.options as {
        defaults?: NodeOptions;
        nodeClientOptions?: NodeOptions;
      };
      expect((closedOptions.defaults ?? closedOptions.nodeClientOptions)?.socket.reconnectStrategy(0)).toBe(
        false,
      );
    }
  });
});
