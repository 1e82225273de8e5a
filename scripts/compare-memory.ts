/**
 * `bun scripts/compare-memory.ts <variant> [<variant> ...]`: resident memory of the service run in
 * different ways, beside a bare Bun.serve, over MEMORY_ROUNDS interleaved rounds (default 3; the
 * order reversed every other round). A variant is a string of space-separated words: `KEY=VALUE`
 * sets an environment variable of the service, a word starting with `--` is a flag to bun, `bundle`
 * runs the executable the image ships (the Dockerfile's scripts/build.ts, built once), any other word is the
 * entry (default src/server.ts); "" is the service from source as it is. One process at a time, as
 * `bun scripts/measure-memory.ts` runs it (console mode, LOG_LEVEL=warn, the Kong emulator over https):
 * RSS once ready (idle), right after MEMORY_LOAD_SECONDS (default 5) of wrk with 1000 rotating
 * consumers (the bare server: its fixed body), and MEMORY_SETTLE_SECONDS (default 5) later, with
 * what of it is Bun's executable and what anonymous memory (scripts/lib/smaps.ts). Prints each run,
 * then the medians and each variant's median excess over the bare server of the same rounds.
 */
import { mkdtempSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { freePort } from "../test/support/process.ts";
import { buildShippedBundle, serviceCommand } from "./lib/bundle.ts";
import { median } from "./lib/median.ts";
import { startMemoryLoad } from "./lib/memory-load.ts";
import { cpuMicros, rssMiB, spawnBareServer, spawnUntilReady, stop } from "./lib/processes.ts";
import { residentByKind } from "./lib/smaps.ts";
import { runWrk } from "./lib/wrk.ts";

const variants = process.argv.slice(2);
if (variants.length === 0) {
  console.error(
    'usage: bun scripts/compare-memory.ts <variant> [...]  (e.g. "" "bundle" "MIMALLOC_PURGE_DELAY=0")',
  );
  process.exit(2);
}
const rounds = Number(process.env.MEMORY_ROUNDS ?? 3);
const loadSeconds = Number(process.env.MEMORY_LOAD_SECONDS ?? 5);
const settleSeconds = Number(process.env.MEMORY_SETTLE_SECONDS ?? 5);
const { emulator, script, serviceEnv } = await startMemoryLoad(mkdtempSync(join(tmpdir(), "auth-memory-")));
const needsBundle = variants.some((variant) => variant.split(/\s+/).includes("bundle"));
const bundle = needsBundle ? await buildShippedBundle(process.cwd()) : "";

interface Variant {
  readonly label: string;
  readonly command: string[];
  readonly env: Record<string, string>;
}

function parseVariant(text: string): Variant {
  const env: Record<string, string> = {};
  const flags: string[] = [];
  let entry = "src/server.ts";
  for (const word of text.split(/\s+/).filter(Boolean)) {
    const at = word.indexOf("=");
    if (word.startsWith("--")) flags.push(word);
    else if (at > 0) env[word.slice(0, at)] = word.slice(at + 1);
    else entry = word === "bundle" ? bundle : word;
  }
  const started = serviceCommand(entry, flags);
  return { label: text || "source", command: started.command, env: { ...env, ...started.env } };
}

interface Reading {
  readonly rss: number;
  readonly executable: number;
  readonly anonymous: number;
}

async function read(pid: number): Promise<Reading> {
  const kinds = await residentByKind(pid);
  const anonymous = Object.entries(kinds)
    .filter(([kind]) => kind.startsWith("anonymous") || kind.startsWith("brk"))
    .reduce((sum, [, mib]) => sum + mib, 0);
  return { rss: await rssMiB(pid), executable: kinds["Bun's executable"] ?? 0, anonymous };
}

type Point = "idle" | "loaded" | "settled";
type Run = Record<Point, Reading> & { rate: number; cpuPerRequest: number };

async function measure(variant: Variant | "bare"): Promise<Run> {
  const port = await freePort();
  const url = `http://127.0.0.1:${port}`;
  const spawned =
    variant === "bare"
      ? await spawnBareServer(port)
      : await spawnUntilReady(variant.command, { ...serviceEnv(port), ...variant.env }, url, "/health/ready");
  try {
    const pid = spawned.process.pid;
    const idle = await read(pid);
    const loadScript = variant === "bare" ? undefined : script;
    const load = { url: `${url}/tokens`, connections: 50, threads: 1, durationSeconds: loadSeconds };
    const cpuBefore = await cpuMicros(pid);
    const result = await runWrk({ ...load, script: loadScript });
    if (result.requests === 0) throw new Error(`load failed: ${JSON.stringify(result)}`);
    if (result.non2xx + result.socketErrors > 0)
      console.log(`  errors in this load: ${JSON.stringify(result)}`);
    const cpuPerRequest = ((await cpuMicros(pid)) - cpuBefore) / result.requests;
    const loaded = await read(pid);
    await Bun.sleep(settleSeconds * 1000);
    return { idle, loaded, settled: await read(pid), rate: result.requestsPerSecond, cpuPerRequest };
  } finally {
    await stop(spawned.process);
  }
}

const show = (r: Reading) =>
  `${r.rss.toFixed(1).padStart(6)} (exe ${r.executable.toFixed(1)}, anon ${r.anonymous.toFixed(1)})`;

const parsed = variants.map(parseVariant);
const runs = new Map<string, Run[]>([
  ["bare Bun.serve", []],
  ...parsed.map((v) => [v.label, []] as [string, Run[]]),
]);
const uptime = () => Bun.spawnSync(["uptime"]).stdout.toString().trim();
console.log(`before: ${uptime()}`);
try {
  for (let round = 0; round < rounds; round++) {
    const order: Array<Variant | "bare"> = ["bare", ...parsed];
    for (const variant of round % 2 ? order.reverse() : order) {
      const label = variant === "bare" ? "bare Bun.serve" : variant.label;
      const run = await measure(variant);
      runs.get(label)?.push(run);
      const load = `${run.rate.toFixed(0)} req/s, ${run.cpuPerRequest.toFixed(1)} CPU µs/req`;
      console.log(
        `round ${round + 1}  idle ${show(run.idle)}  loaded ${show(run.loaded)}  settled ${show(run.settled)}  ${load}  ${label}`,
      );
    }
  }
} finally {
  await emulator.stop();
}
console.log(`after: ${uptime()}`);
console.log(
  "\nmedians, MiB: RSS idle / after load / settled (over bare: idle / after load / settled); the load's req/s and CPU µs/req",
);
const bare = runs.get("bare Bun.serve") ?? [];
for (const [label, list] of runs) {
  const m = (point: Point, field: keyof Reading, of: Run[] = list) => median(of.map((r) => r[point][field]));
  const over = (point: Point) =>
    median(list.map((r, i) => r[point].rss - (bare[i] as Run)[point].rss)).toFixed(1);
  const figures = `${m("idle", "rss").toFixed(1)} / ${m("loaded", "rss").toFixed(1)} / ${m("settled", "rss").toFixed(1)}`;
  const parts = `exe ${m("loaded", "executable").toFixed(1)}, anon ${m("loaded", "anonymous").toFixed(1)} after load`;
  const load = `${median(list.map((r) => r.rate)).toFixed(0)} req/s, ${median(list.map((r) => r.cpuPerRequest)).toFixed(1)} µs/req`;
  console.log(
    `  ${figures}  (+${over("idle")} / +${over("loaded")} / +${over("settled")})  ${parts}  ${load}  ${label}`,
  );
}
process.exit(0);
