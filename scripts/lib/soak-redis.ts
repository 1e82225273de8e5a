/**
 * The Redis a soak runs against, and its failover: a real Sentinel setup (master, replica, three
 * sentinels; scripts/lib/redis-topology.ts) whose master is SIGKILLed, or (SOAK_REDIS=standalone) one
 * redis-server killed and restarted empty on the same port.
 */
import { tmpdir } from "node:os";
import { join } from "node:path";
import { startOwnRedis } from "../../test/support/redis.ts";
import {
  killNode,
  sentinelMaster,
  serviceEnv,
  startTopology,
  stopTopology,
  until,
} from "./redis-topology.ts";

export interface SoakRedis {
  readonly description: string;
  /** The service settings that reach it. */
  readonly env: Record<string, string>;
  /** Where INFO and DBSIZE are read: the current master. */
  dataUrl(): Promise<string | undefined>;
  /** Makes the failover happen; each step is reported through `event` as it happens. */
  failover(event: (text: string) => void): Promise<void>;
  stop(): Promise<void>;
}

/** Ports of the soak's own Sentinel setup, away from the tests' and the script's defaults. */
const SENTINEL_PORTS = { port: 6384, sentinelPort: 26384 } as const;
const STANDALONE_DOWN_MS = 3_000;

export async function startSoakRedis(kind: "sentinel" | "standalone"): Promise<SoakRedis> {
  return kind === "sentinel" ? sentinel() : standalone();
}

async function sentinel(): Promise<SoakRedis> {
  const dir = join(tmpdir(), "auth-service-soak-sentinel");
  stopTopology(dir);
  const topology = await startTopology("sentinel", { dir, ...SENTINEL_PORTS, timeoutMs: 60_000 });
  return {
    description: `Sentinel (master ${topology.nodes[0]?.port}, replica ${topology.nodes[1]?.port}, 3 sentinels)`,
    env: serviceEnv(topology),
    async dataUrl() {
      const port = await sentinelMaster(topology);
      return port === undefined ? undefined : `redis://127.0.0.1:${port}`;
    },
    async failover(event) {
      const master = await sentinelMaster(topology);
      const node = topology.nodes.find((n) => n.port === master);
      if (!node) throw new Error(`no data node on the master's port ${master}`);
      const killedAt = performance.now();
      killNode(node);
      event(`Sentinel master ${node.port} killed (SIGKILL)`);
      await until(
        async () => {
          const now = await sentinelMaster(topology);
          return now !== undefined && now !== node.port;
        },
        "the sentinels to promote the replica",
        60_000,
      );
      event(`replica promoted after ${((performance.now() - killedAt) / 1000).toFixed(1)} s`);
    },
    async stop() {
      stopTopology(dir);
    },
  };
}

async function standalone(): Promise<SoakRedis> {
  const redis = await startOwnRedis();
  return {
    description: `standalone ${redis.url}`,
    env: { REDIS_URL: redis.url },
    async dataUrl() {
      return redis.url;
    },
    async failover(event) {
      await redis.stop();
      event("Redis killed");
      await Bun.sleep(STANDALONE_DOWN_MS);
      await redis.start();
      event("Redis back (empty)");
    },
    stop: () => redis.stop(),
  };
}
