import { tmpdir } from "node:os";
import { join } from "node:path";
import { createClient, createCluster } from "redis";
import {
  clusterMasters,
  killNode,
  type RedisNode,
  sentinelMaster,
  serviceEnv,
  startTopology,
  stopTopology,
  type Topology,
  type TopologyKind,
} from "../../scripts/lib/redis-topology.ts";
import { KongEmulator } from "./kong-emulator.ts";
import { redisHealth, uniquePrefix } from "./redis.ts";
import { type Stack, startStack } from "./stack.ts";
import { waitFor } from "./wait.ts";

/**
 * A real Sentinel setup or Cluster for a test file (started in beforeAll, stopped in afterAll) on
 * ports of its own, apart from the defaults of scripts/redis-topology.ts, so a soak or a local trial
 * on the defaults never meets the tests. A leftover of a run that died is stopped first.
 */
const PORTS = {
  sentinel: { port: 6395, sentinelPort: 26393 },
  cluster: { port: 7110, busPort: 17110 },
} as const;
/** A second Sentinel setup, with passwords, beside the first. */
const PASSWORD_PORTS = { port: 6397, sentinelPort: 26396 } as const;
/** Starting takes 2-3 s here; a loaded machine may take several times that. */
export const TOPOLOGY_START_MS = 60_000;

export async function startTestTopology(kind: TopologyKind, password?: string) {
  const dir = join(tmpdir(), `auth-service-test-redis-${kind}${password ? "-password" : ""}`);
  stopTopology(dir);
  const ports = password && kind === "sentinel" ? PASSWORD_PORTS : PORTS[kind];
  const topology = await startTopology(kind, {
    dir,
    ...ports,
    ...(password ? { password } : {}),
    timeoutMs: TOPOLOGY_START_MS - 5_000,
  });
  return {
    topology,
    env: serviceEnv(topology),
    stop: () => void stopTopology(dir),
  };
}

export type TestTopology = Awaited<ReturnType<typeof startTestTopology>>;

/** A plain client to one node, for what a test does behind the service's back (publish, inspect). */
export async function nodeClient(port: number, password?: string) {
  const client = createClient({
    url: `redis://127.0.0.1:${port}`,
    ...(password ? { password } : {}),
    socket: { reconnectStrategy: false },
  });
  client.on("error", () => {});
  await client.connect();
  return client;
}

/** A client that reaches every key of the topology: the master the sentinels name, or the whole cluster. */
export async function dataClient(topology: Topology) {
  if (topology.kind === "sentinel") {
    const master = await sentinelMaster(topology);
    if (master === undefined) throw new Error("no sentinel names a master");
    return nodeClient(master);
  }
  const cluster = createCluster({
    rootNodes: topology.nodes.map((n) => ({ url: `redis://${n.host}:${n.port}` })),
    defaults: { socket: { reconnectStrategy: false } },
  });
  cluster.on("error", () => {});
  await cluster.connect();
  return cluster;
}

/** Publishes on every node given that answers; the number of receivers each reported. */
export async function publishOnEach(ports: readonly number[], channel: string, message: string) {
  const receivers: number[] = [];
  for (const port of ports) {
    const client = await nodeClient(port);
    try {
      receivers.push(await client.publish(channel, message));
    } finally {
      client.destroy();
    }
  }
  return receivers;
}

/** How many subscribers `channel` has, summed over the nodes given (each counts only its own). */
export async function subscribersOn(ports: readonly number[], channel: string): Promise<number> {
  let total = 0;
  for (const port of ports) {
    const client = await nodeClient(port).catch(() => undefined);
    if (!client) continue;
    try {
      const counts = await client.pubSubNumSub(channel);
      total += Number(counts[channel] ?? 0);
    } finally {
      client.destroy();
    }
  }
  return total;
}

/** Two instances of the service sharing one emulated Kong and one key prefix on the topology. */
export async function twoInstances(topology: TestTopology, env: Record<string, string> = {}) {
  const emulator = KongEmulator.start();
  const prefix = uniquePrefix("topology");
  const instances: Stack[] = [];
  for (let i = 0; i < 2; i++) {
    const stack = await startStack({
      emulator,
      env: { REDIS_ENABLED: "true", REDIS_KEY_PREFIX: prefix, LOG_LEVEL: "info", ...topology.env, ...env },
    });
    instances.push(stack);
    await waitFor(() => stack.app.redisStatus() === "ready", "the service to connect to Redis", 15_000);
  }
  return {
    emulator,
    prefix,
    a: instances[0] as Stack,
    b: instances[1] as Stack,
    instances,
    async stop() {
      for (const instance of instances) await instance.stop();
      await emulator.stop();
    },
  };
}

export type TwoInstances = Awaited<ReturnType<typeof twoInstances>>;

export { clusterMasters, killNode, type RedisNode, redisHealth, sentinelMaster, type Topology };
