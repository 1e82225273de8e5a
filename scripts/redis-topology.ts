/**
 * Starts and stops real Redis topologies on loopback (see scripts/lib/redis-topology.ts).
 *
 *   bun scripts/redis-topology.ts start sentinel [--dir D] [--port 6390] [--sentinel-port 26390] [--password P]
 *   bun scripts/redis-topology.ts start cluster  [--dir D] [--port 7100] [--bus-port 17100] [--password P]
 *   bun scripts/redis-topology.ts status <kind> [--dir D]
 *   bun scripts/redis-topology.ts stop <kind> [--dir D]
 *
 * start waits for readiness and prints one JSON object: the nodes, the sentinels, and `env`, the
 * settings that point the service at the topology. It is idempotent: a topology already up in the
 * directory is printed as it is. The directory defaults to $TMPDIR/auth-service-redis-<kind>.
 */
import { tmpdir } from "node:os";
import { join } from "node:path";
import {
  readTopology,
  serviceEnv,
  startTopology,
  stopTopology,
  type Topology,
  type TopologyKind,
} from "./lib/redis-topology.ts";

function usage(message: string): never {
  console.error(
    `${message}\nusage: bun scripts/redis-topology.ts start|stop|status sentinel|cluster [--dir D] [--port N] [--sentinel-port N] [--bus-port N] [--password P]`,
  );
  process.exit(2);
}

function option(args: string[], name: string): string | undefined {
  const i = args.indexOf(name);
  if (i < 0) return undefined;
  const value = args[i + 1];
  if (value === undefined || value.startsWith("--")) usage(`${name} needs a value`);
  return value;
}

function portOption(args: string[], name: string): number | undefined {
  const value = option(args, name);
  if (value === undefined) return undefined;
  const port = Number(value);
  if (!Number.isInteger(port) || port < 1 || port > 65535) usage(`${name} must be a port number`);
  return port;
}

/** What a caller needs: the nodes, the sentinels, and the service settings that point at them. */
function summary(t: Topology) {
  const strip = (nodes: Topology["nodes"]) => nodes.map(({ host, port }) => ({ host, port }));
  return {
    kind: t.kind,
    dir: t.dir,
    nodes: strip(t.nodes),
    sentinels: strip(t.sentinels),
    masterName: t.masterName,
    env: serviceEnv(t),
  };
}

const [command, kind, ...rest] = process.argv.slice(2);
if (kind !== "sentinel" && kind !== "cluster") usage("the kind must be sentinel or cluster");
const dir = option(rest, "--dir") ?? join(process.env.TMPDIR ?? tmpdir(), `auth-service-redis-${kind}`);

if (command === "start") {
  const password = option(rest, "--password");
  const topology = await startTopology(kind as TopologyKind, {
    dir,
    port: portOption(rest, "--port"),
    sentinelPort: portOption(rest, "--sentinel-port"),
    busPort: portOption(rest, "--bus-port"),
    ...(password ? { password } : {}),
  }).catch((error: unknown) => {
    console.error(error instanceof Error ? error.message : String(error));
    process.exit(1);
  });
  console.log(JSON.stringify(summary(topology), null, 2));
} else if (command === "stop") {
  console.error(
    stopTopology(dir) ? `stopped the ${kind} topology in ${dir}` : `no ${kind} topology in ${dir}`,
  );
} else if (command === "status") {
  const topology = readTopology(dir);
  if (!topology) {
    console.error(`no ${kind} topology in ${dir}`);
    process.exit(1);
  }
  console.log(JSON.stringify(summary(topology), null, 2));
} else usage(`unknown command ${command ?? "(none)"}`);
