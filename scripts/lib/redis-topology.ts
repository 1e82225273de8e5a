/**
 * Real Redis topologies on loopback for tests, the soak and local trials: a Sentinel setup (one
 * master, one replica, three sentinels) and a Cluster (three masters with one replica each). Each
 * lives in a directory of its own (configs, logs, pid files and a topology.json describing it);
 * starting is idempotent (a topology already up in that directory is reported as it is) and returns
 * once it is ready: every sentinel sees the master, its replica and the two other sentinels, or every
 * cluster node reports cluster_state:ok with each master's replica attached.
 */
import { existsSync, mkdirSync, readdirSync, readFileSync, rmSync, writeFileSync } from "node:fs";
import { join } from "node:path";

export type TopologyKind = "sentinel" | "cluster";

export interface RedisNode {
  readonly host: string;
  readonly port: number;
  /** The server's pid file (redis-server runs daemonized). */
  readonly pidFile: string;
}

export interface Topology {
  readonly kind: TopologyKind;
  readonly dir: string;
  readonly password?: string;
  /** Data nodes: for sentinel [master, replica] as started; for cluster every node. */
  readonly nodes: readonly RedisNode[];
  /** Sentinel only. */
  readonly sentinels: readonly RedisNode[];
  /** Sentinel only: the monitored master's name. */
  readonly masterName?: string;
}

export interface StartOptions {
  readonly dir: string;
  /** First data port (sentinel: 6390; cluster: 7100); nodes take consecutive ports. */
  readonly port?: number;
  /** Sentinel only: first sentinel port (26390). */
  readonly sentinelPort?: number;
  /** Cluster only: first cluster bus port (port + 10000). */
  readonly busPort?: number;
  /** requirepass/masterauth on data nodes, and requirepass on sentinels. */
  readonly password?: string;
  /** How long to wait for readiness. */
  readonly timeoutMs?: number;
}

export const MASTER_NAME = "auth-master";
const HOST = "127.0.0.1";
/** Short enough that a failover takes seconds, long enough not to flap on a loaded 2-core machine. */
const NODE_TIMEOUT_MS = 2_000;

const stateFile = (dir: string) => join(dir, "topology.json");

export function readTopology(dir: string): Topology | undefined {
  if (!existsSync(stateFile(dir))) return undefined;
  return JSON.parse(readFileSync(stateFile(dir), "utf8")) as Topology;
}

/** Runs redis-cli against one node; the reply as text, or undefined when it could not be reached. */
export async function cli(node: { port: number }, password: string | undefined, ...args: string[]) {
  const auth = password ? ["-a", password, "--no-auth-warning"] : [];
  const child = Bun.spawn(["redis-cli", "-h", HOST, "-p", String(node.port), ...auth, ...args], {
    stdout: "pipe",
    stderr: "ignore",
    stdin: "ignore",
  });
  const [text, code] = await Promise.all([new Response(child.stdout).text(), child.exited]);
  if (code !== 0 || text.startsWith("Could not connect") || text.startsWith("ERR")) return undefined;
  return text;
}

export function pidOf(node: RedisNode): number | undefined {
  try {
    const pid = Number(readFileSync(node.pidFile, "utf8").trim());
    return Number.isInteger(pid) && pid > 0 ? pid : undefined;
  } catch {
    return undefined;
  }
}

function alive(pid: number | undefined): boolean {
  if (pid === undefined) return false;
  try {
    process.kill(pid, 0);
    return true;
  } catch {
    return false;
  }
}

/** SIGKILLs one node (a crash: no shutdown, no failover handed over). */
export function killNode(node: RedisNode): void {
  const pid = pidOf(node);
  if (alive(pid)) process.kill(pid as number, "SIGKILL");
}

/** Polls `check` every 100 ms until it holds, failing with `what` after `timeoutMs`. */
export async function until(check: () => Promise<boolean>, what: string, timeoutMs: number): Promise<void> {
  const deadline = performance.now() + timeoutMs;
  while (!(await check())) {
    if (performance.now() > deadline) throw new Error(`timed out after ${timeoutMs} ms waiting for ${what}`);
    await Bun.sleep(100);
  }
}

function node(dir: string, port: number, name: string): RedisNode {
  return { host: HOST, port, pidFile: join(dir, `${name}-${port}.pid`) };
}

async function spawnDaemon(binary: string, args: string[], daemon?: RedisNode): Promise<void> {
  const child = Bun.spawn([binary, ...args], { stdout: "pipe", stderr: "pipe", stdin: "ignore" });
  const [out, err, code] = await Promise.all([
    new Response(child.stdout).text(),
    new Response(child.stderr).text(),
    child.exited,
  ]);
  if (code !== 0) throw new Error(`${binary} ${args[0]} failed (${code}): ${out}${err}`);
  // The daemon writes its pid file a moment after this command exits, and stopping finds it by that
  // file only: a start failing in between would leave it running on its port.
  if (daemon)
    await until(async () => pidOf(daemon) !== undefined, `${binary} to write ${daemon.pidFile}`, 10_000);
}

async function startServer(dir: string, n: RedisNode, password: string | undefined, extra: string[]) {
  const auth = password ? ["--requirepass", password, "--masterauth", password] : [];
  // A replica that never completed its first sync cannot take over: no 5 s wait before that sync.
  const quickSync = ["--repl-diskless-sync-delay", "0"];
  await spawnDaemon(
    "redis-server",
    [
      "--port",
      String(n.port),
      "--bind",
      HOST,
      "--save",
      "",
      "--appendonly",
      "no",
      "--daemonize",
      "yes",
      "--dir",
      dir,
      "--pidfile",
      n.pidFile,
      "--logfile",
      join(dir, `redis-${n.port}.log`),
      ...quickSync,
      ...auth,
      ...extra,
    ],
    n,
  );
}

async function startSentinelProcess(dir: string, s: RedisNode, master: RedisNode, password?: string) {
  const lines = [
    `port ${s.port}`,
    `bind ${HOST}`,
    "daemonize yes",
    `pidfile ${s.pidFile}`,
    `logfile ${join(dir, `sentinel-${s.port}.log`)}`,
    `dir ${dir}`,
    `sentinel monitor ${MASTER_NAME} ${HOST} ${master.port} 2`,
    `sentinel down-after-milliseconds ${MASTER_NAME} ${NODE_TIMEOUT_MS}`,
    `sentinel failover-timeout ${MASTER_NAME} 10000`,
    `sentinel parallel-syncs ${MASTER_NAME} 1`,
    ...(password ? [`requirepass ${password}`, `sentinel auth-pass ${MASTER_NAME} ${password}`] : []),
  ];
  const conf = join(dir, `sentinel-${s.port}.conf`);
  writeFileSync(conf, `${lines.join("\n")}\n`);
  await spawnDaemon("redis-sentinel", [conf], s);
}

/** Field → value of an INFO-like or SENTINEL reply printed by redis-cli (one item per line). */
function pairs(text: string): Map<string, string> {
  const lines = text.split("\n").map((l) => l.trim());
  const map = new Map<string, string>();
  for (let i = 0; i + 1 < lines.length; i += 2) map.set(lines[i] as string, lines[i + 1] as string);
  return map;
}

async function sentinelReady(t: Topology): Promise<boolean> {
  for (const s of t.sentinels) {
    const reply = await cli(s, t.password, "SENTINEL", "MASTER", MASTER_NAME);
    if (!reply) return false;
    const m = pairs(reply);
    if (m.get("flags") !== "master" || m.get("num-slaves") !== "1") return false;
    if (m.get("num-other-sentinels") !== String(t.sentinels.length - 1)) return false;
  }
  return replicasSynced(t);
}

/** Every node given that is a replica has its replication link up (its first sync is done). */
async function replicasSynced(t: Topology): Promise<boolean> {
  let replicas = 0;
  for (const n of t.nodes) {
    const info = await cli(n, t.password, "INFO", "replication");
    if (!info) return false;
    if (!info.includes("role:slave")) continue;
    replicas++;
    if (!info.includes("master_link_status:up") || info.includes("master_sync_in_progress:1")) return false;
  }
  return replicas === t.nodes.length / 2;
}

/** The port of the master the sentinels name now, or undefined when none answers. */
export async function sentinelMaster(t: Topology): Promise<number | undefined> {
  for (const s of t.sentinels) {
    const reply = await cli(s, t.password, "SENTINEL", "GET-MASTER-ADDR-BY-NAME", MASTER_NAME);
    const port = Number(reply?.trim().split("\n")[1]);
    if (Number.isInteger(port) && port > 0) return port;
  }
  return undefined;
}

/** The ports of the cluster's masters that serve slots, as the first node answering says. */
export async function clusterMasters(t: Topology): Promise<number[]> {
  for (const n of t.nodes) {
    const reply = await cli(n, t.password, "CLUSTER", "NODES");
    if (!reply) continue;
    return reply
      .trim()
      .split("\n")
      .map((line) => line.split(" "))
      .filter(
        (f) => (f[2] ?? "").split(",").includes("master") && !(f[2] ?? "").includes("fail") && f.length > 8,
      )
      .map((f) => Number((f[1] ?? "").split(":")[1]?.split("@")[0]));
  }
  return [];
}

/** The service settings that point at the topology (with its password, when it has one). */
export function serviceEnv(t: Topology): Record<string, string> {
  const list = (nodes: readonly RedisNode[]) => nodes.map((n) => `${n.host}:${n.port}`).join(",");
  const env: Record<string, string> =
    t.kind === "sentinel"
      ? {
          REDIS_MODE: "sentinel",
          REDIS_SENTINELS: list(t.sentinels),
          REDIS_SENTINEL_MASTER_NAME: MASTER_NAME,
        }
      : { REDIS_MODE: "cluster", REDIS_CLUSTER_NODES: list(t.nodes) };
  if (t.password) {
    env.REDIS_PASSWORD = t.password;
    if (t.kind === "sentinel") env.REDIS_SENTINEL_PASSWORD = t.password;
  }
  return env;
}

/** Every cluster node answers cluster_state:ok and every master has a connected replica. */
export async function clusterReady(t: Topology): Promise<boolean> {
  for (const n of t.nodes) {
    const info = await cli(n, t.password, "CLUSTER", "INFO");
    if (!info?.includes("cluster_state:ok")) return false;
  }
  const nodes = await cli(t.nodes[0] as RedisNode, t.password, "CLUSTER", "NODES");
  const healthy = (nodes ?? "")
    .trim()
    .split("\n")
    .map((line) => line.split(" "))
    .filter((f) => f[7] === "connected" && !(f[2] ?? "").includes("fail"));
  const role = (f: string[], name: string) => (f[2] ?? "").split(",").includes(name);
  const masters = healthy.filter((f) => role(f, "master") && f.length > 8);
  const replicas = healthy.filter((f) => role(f, "slave"));
  return masters.length === 3 && replicas.length === 3 && (await replicasSynced(t));
}

async function startSentinelTopology(o: StartOptions, timeoutMs: number): Promise<Topology> {
  const port = o.port ?? 6390;
  const sentinelPort = o.sentinelPort ?? 26390;
  const master = node(o.dir, port, "redis");
  const replica = node(o.dir, port + 1, "redis");
  const sentinels = [0, 1, 2].map((i) => node(o.dir, sentinelPort + i, "sentinel"));
  const t: Topology = {
    kind: "sentinel",
    dir: o.dir,
    nodes: [master, replica],
    sentinels,
    masterName: MASTER_NAME,
    ...(o.password ? { password: o.password } : {}),
  };
  writeFileSync(stateFile(o.dir), JSON.stringify(t, null, 2));
  await startServer(o.dir, master, o.password, []);
  await startServer(o.dir, replica, o.password, ["--replicaof", HOST, String(master.port)]);
  for (const s of sentinels) await startSentinelProcess(o.dir, s, master, o.password);
  await until(
    () => sentinelReady(t),
    "the sentinels to see the master, its replica and each other",
    timeoutMs,
  );
  return t;
}

async function startClusterTopology(o: StartOptions, timeoutMs: number): Promise<Topology> {
  const port = o.port ?? 7100;
  const busPort = o.busPort ?? port + 10000;
  const nodes = [0, 1, 2, 3, 4, 5].map((i) => node(o.dir, port + i, "redis"));
  const t: Topology = {
    kind: "cluster",
    dir: o.dir,
    nodes,
    sentinels: [],
    ...(o.password ? { password: o.password } : {}),
  };
  writeFileSync(stateFile(o.dir), JSON.stringify(t, null, 2));
  for (const [i, n] of nodes.entries()) {
    await startServer(o.dir, n, o.password, [
      "--cluster-enabled",
      "yes",
      "--cluster-config-file",
      join(o.dir, `nodes-${n.port}.conf`),
      "--cluster-node-timeout",
      String(NODE_TIMEOUT_MS),
      "--cluster-port",
      String(busPort + i),
    ]);
  }
  await until(
    async () => (await cli(nodes[5] as RedisNode, o.password, "PING"))?.trim() === "PONG",
    "the nodes",
    timeoutMs,
  );
  const auth = o.password ? ["-a", o.password, "--no-auth-warning"] : [];
  await spawnDaemon("redis-cli", [
    "--cluster",
    "create",
    ...nodes.map((n) => `${HOST}:${n.port}`),
    "--cluster-replicas",
    "1",
    "--cluster-yes",
    ...auth,
  ]);
  await until(() => clusterReady(t), "cluster_state:ok on every node with a replica per master", timeoutMs);
  return t;
}

async function isUp(t: Topology): Promise<boolean> {
  const all = [...t.nodes, ...t.sentinels];
  if (!all.every((n) => alive(pidOf(n)))) return false;
  return t.kind === "sentinel" ? sentinelReady(t) : clusterReady(t);
}

/** Starts the topology in `dir` (or reports the one already up there); resolves once it is ready. */
export async function startTopology(kind: TopologyKind, o: StartOptions): Promise<Topology> {
  const existing = readTopology(o.dir);
  if (existing?.kind === kind && (await isUp(existing))) return existing;
  if (existing) stopTopology(o.dir);
  mkdirSync(o.dir, { recursive: true });
  const timeoutMs = o.timeoutMs ?? 30_000;
  try {
    return kind === "sentinel"
      ? await startSentinelTopology(o, timeoutMs)
      : await startClusterTopology(o, timeoutMs);
  } catch (error) {
    stopTopology(o.dir);
    throw error;
  }
}

/** Kills every process of the topology in `dir` and removes the files it wrote; false when none is there. */
export function stopTopology(dir: string): boolean {
  const t = readTopology(dir);
  if (!t) return false;
  for (const n of [...t.sentinels, ...t.nodes]) killNode(n);
  const written = /^(topology\.json|.*\.(pid|log|conf|rdb))$/;
  for (const name of readdirSync(dir)) if (written.test(name)) rmSync(join(dir, name), { force: true });
  if (readdirSync(dir).length === 0) rmSync(dir, { recursive: true, force: true });
  return true;
}
