/**
 * `bun scripts/measure-memory.ts`: where the service's memory goes. The service runs as `bun run bench`
 * runs it (console mode, production, the Kong emulator over https), with scripts/lib/heap-preload.ts
 * preloaded. Resident memory is read once ready and after a load of 1000 rotating consumers
 * (MEMORY_LOAD_SECONDS, default 5); at each point, after a full GC, a heap snapshot is taken and the
 * JavaScript heap summed by kind (compiled code, module records, strings, objects by constructor).
 * The snapshots are left in MEMORY_OUT_DIR (default a temporary folder) for a heap viewer. Before each
 * snapshot, resident memory by kind of mapping (scripts/lib/smaps.ts) beside a bare Bun.serve's after
 * the same load: what of the resident set is Bun's own.
 */
import { mkdtempSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { freePort } from "../test/support/process.ts";
import { buildShippedBundle, serviceCommand } from "./lib/bundle.ts";
import { startMemoryLoad } from "./lib/memory-load.ts";
import { rssMiB, spawnBareServer, spawnUntilReady, stop } from "./lib/processes.ts";
import { residentByKind } from "./lib/smaps.ts";
import { runWrk } from "./lib/wrk.ts";

const outDir = process.env.MEMORY_OUT_DIR ?? mkdtempSync(join(tmpdir(), "auth-memory-"));
const seconds = Number(process.env.MEMORY_LOAD_SECONDS ?? 5);
const { emulator, script, serviceEnv } = await startMemoryLoad(outDir);
const port = await freePort();
const url = `http://127.0.0.1:${port}`;
const entry =
  process.env.MEMORY_TARGET === "bundle" ? await buildShippedBundle(process.cwd()) : "src/server.ts";
const bunFlags = (process.env.MEMORY_BUN_FLAGS ?? "").split(/\s+/).filter(Boolean);
const { command, env } = serviceCommand(entry, [
  ...bunFlags,
  "--preload",
  `${import.meta.dir}/lib/heap-preload.ts`,
]);
const service = await spawnUntilReady(
  command,
  { ...serviceEnv(port), ...env, HEAP_OUT_DIR: outDir },
  url,
  "/health/ready",
);

// The baseline: a bare Bun.serve with the same load, for what Bun itself keeps resident.
const bare = await spawnBareServer(await freePort());
const bareUrl = bare.url;

/** The snapshot's nodes summed by kind: code and strings as such, objects by constructor name. */
async function summary(path: string): Promise<string> {
  const snapshot = JSON.parse(await Bun.file(path).text());
  const fields: string[] = snapshot.snapshot.meta.node_fields;
  const types: string[] = snapshot.snapshot.meta.node_types[0];
  const [type, name, size] = ["type", "name", "self_size"].map((field) => fields.indexOf(field)) as [
    number,
    number,
    number,
  ];
  const sums = new Map<string, number>();
  let total = 0;
  for (let i = 0; i < snapshot.nodes.length; i += fields.length) {
    const kind = types[snapshot.nodes[i + type]] as string;
    const key =
      kind === "code" || kind === "string"
        ? `(${kind})`
        : `${kind} ${snapshot.strings[snapshot.nodes[i + name]]}`;
    const bytes = snapshot.nodes[i + size] as number;
    sums.set(key, (sums.get(key) ?? 0) + bytes);
    total += bytes;
  }
  const mib = (bytes: number) => (bytes / 1048576).toFixed(2);
  const top = [...sums].sort((a, b) => b[1] - a[1]).slice(0, 10);
  return [
    `  JS heap ${mib(total)} MiB:`,
    ...top.map(([key, bytes]) => `    ${mib(bytes).padStart(6)} MiB  ${key}`),
  ].join("\n");
}

/** Resident memory by kind of mapping, the service's beside the bare server's at the same point. */
async function byKind(label: string): Promise<void> {
  const service_ = await residentByKind(service.process.pid);
  const bare_ = await residentByKind(bare.process.pid);
  console.log(`${label}, resident MiB by mapping (service / bare Bun.serve):`);
  for (const kind of [...new Set([...Object.keys(service_), ...Object.keys(bare_)])].sort()) {
    console.log(
      `  ${(service_[kind] ?? 0).toFixed(1).padStart(6)} / ${(bare_[kind] ?? 0).toFixed(1).padStart(5)}  ${kind}`,
    );
  }
}

async function snapshot(label: string): Promise<void> {
  await byKind(label);
  const before = await rssMiB(service.process.pid);
  service.process.kill("SIGUSR2");
  const file = join(outDir, `heap-${service.process.pid}-${label === "idle" ? 1 : 2}.json`);
  while (!(await Bun.file(file).exists())) await Bun.sleep(50);
  await Bun.sleep(200);
  const after = await rssMiB(service.process.pid);
  console.log(`${label}: RSS ${before.toFixed(1)} MiB, ${after.toFixed(1)} MiB after a full GC`);
  console.log(await summary(file.replace(/\.json$/, ".heapsnapshot")));
}

try {
  console.log(`ready in ${service.readyMs.toFixed(0)} ms; snapshots in ${outDir}`);
  await snapshot("idle");
  await runWrk({ url: `${url}/tokens`, connections: 50, threads: 1, durationSeconds: seconds, script });
  await runWrk({ url: `${bareUrl}/tokens`, connections: 50, threads: 1, durationSeconds: seconds });
  await snapshot("after load");
} finally {
  await stop(bare.process);
  await stop(service.process);
  await emulator.stop();
}
