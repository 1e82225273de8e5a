/**
 * `bun run bench`: throughput, latency, memory and start-up of GET /tokens, each figure next to a bare
 * Bun.serve measured in the same run (these machines are shared and noisy; only ratios travel).
 *
 * The service runs as in production (NODE_ENV=production) against the Kong emulator over https, both
 * as `bun src/server.ts` and as the executable the image ships (built at the start with the
 * Dockerfile's scripts/build.ts).
 * Every scenario is one entry of SCENARIOS (a name and the environment it adds); the paired ratios
 * the issues set targets for are the entries of RATIOS.
 *
 * Env: BENCH_DURATION (seconds per run, default 10), BENCH_CONNECTIONS (default 50), BENCH_ROUNDS
 * (default 3), BENCH_ONLY (comma-separated scenario names to run, e.g. "service,service + OTLP 100%";
 * bare always runs), BENCH_BUN_FLAGS (extra flags for the service's bun, e.g. "--cpu-prof-md"),
 * BENCH_PACE_MS (a paced load after the others, below), BENCH_ENTRIES ("name=path,…": other
 * builds of the service, run as console mode under their names; name them in BENCH_ONLY too when it
 * is set).
 * The "refresh-ahead" scenario (scripts/lib/bench-refresh.ts) runs last: BENCH_REFRESH_SECONDS (per
 * run, default 20), BENCH_REFRESH_RATE (req/s, default 200), BENCH_KONG_LATENCY_MS (default 20).
 */
import { rmSync } from "node:fs";
import { dirname } from "node:path";
import { KongEmulator } from "../test/support/kong-emulator.ts";
import { freePort } from "../test/support/process.ts";
import { jwkSet, type KeyKind, privateJwk } from "../test/support/service-keys.ts";
import { startBenchOtlpSink } from "./lib/bench-otlp.ts";
import { startBenchRedis } from "./lib/bench-redis.ts";
import { benchRefreshAhead } from "./lib/bench-refresh.ts";
import { buildShippedBundle, serviceCommand } from "./lib/bundle.ts";
import { cpuMicros, rssMiB, type Spawned, spawnBareServer, spawnUntilReady, stop } from "./lib/processes.ts";
import { benchServiceEnv } from "./lib/service-env.ts";
import { benchTls } from "./lib/tls.ts";
import { ensureWrk, type LoadResult, rotatingConsumersScript, runWrk } from "./lib/wrk.ts";

const duration = Number(process.env.BENCH_DURATION ?? 10);
const connections = Number(process.env.BENCH_CONNECTIONS ?? 50);
const ROTATING = 1000;
const benchBunFlags = (process.env.BENCH_BUN_FLAGS ?? "").split(/\s+/).filter(Boolean);
const only = process.env.BENCH_ONLY?.split(",").map((name) => name.trim());
const ADMIN_TOKEN = `bench-admin-token-${crypto.randomUUID()}`;
/** What Kong's request-transformer would add; production refuses to run without a trust boundary. */
const GATEWAY_SECRET = `bench-gateway-secret-${crypto.randomUUID()}`;

await ensureWrk();
const tls = benchTls();
const tlsCert = await Bun.file(tls.certPath).text();
const tlsKey = await Bun.file(tls.keyPath).text();
const emulator = KongEmulator.start({
  hostname: tls.address,
  adminToken: ADMIN_TOKEN,
  tls: { cert: tlsCert, key: tlsKey },
});
const hot = emulator.addConsumer({ username: "bench-hot" });
emulator.addCredential(hot.id);
const rotating = Array.from({ length: ROTATING }, (_, i) => {
  const consumer = emulator.addConsumer({ username: `bench-${String(i).padStart(4, "0")}` });
  emulator.addCredential(consumer.id);
  return { id: consumer.id, username: consumer.username as string };
});
const scriptPath = `${tls.certPath}.rotating.lua`;
await Bun.write(scriptPath, rotatingConsumersScript(rotating, { "X-Gateway-Secret": GATEWAY_SECRET }));

function serviceEnv(port: number, extra: Record<string, string> = {}): Record<string, string> {
  return {
    ...benchServiceEnv({
      port,
      kongAdminUrl: emulator.adminUrl,
      kongAdminToken: ADMIN_TOKEN,
      gatewaySecret: GATEWAY_SECRET,
      certPath: tls.certPath,
      logLevel: "warn",
    }),
    CACHE_MAX_SIZE: String(ROTATING * 2),
    // The limiter still runs on every request; the limit is just out of the benchmark's way.
    RATE_LIMIT_MAX_REQUESTS: "1000000",
    ...extra,
  };
}

interface RunFigures {
  readonly name: string;
  readonly readyMs: number;
  readonly hot: LoadResult;
  readonly rotating?: LoadResult;
  /** The hot consumer again, each connection pausing BENCH_PACE_MS between requests (when set). */
  readonly paced?: LoadResult;
  /** Resident memory once ready, before any request. */
  readonly idleRssMiB: number;
  /** Resident memory after the loads. */
  readonly rssMiB: number;
  /** CPU time of the process (all threads) per request of the hot-consumer load. */
  readonly cpuUsPerRequest: number;
}

async function warm(service: Spawned) {
  const all = [{ id: hot.id, username: hot.username as string }, ...rotating];
  for (let i = 0; i < all.length; i += connections) {
    const batch = all.slice(i, i + connections).map(async (consumer) => {
      const response = await fetch(`${service.url}/tokens`, {
        headers: {
          "x-consumer-id": consumer.id,
          "x-consumer-username": consumer.username,
          "x-gateway-secret": GATEWAY_SECRET,
        },
      });
      if (response.status !== 200) throw new Error(`warm-up got ${response.status} for ${consumer.username}`);
      await response.arrayBuffer();
    });
    await Promise.all(batch);
  }
}

const load = (url: string, extra: Partial<Parameters<typeof runWrk>[0]> = {}) =>
  runWrk({ url: `${url}/tokens`, connections, threads: 1, durationSeconds: duration, ...extra });
/** Unrecorded load first, so the JIT has compiled the hot path before anything is measured. */
const JIT_WARMUP_SECONDS = 2;
const warmJit = (url: string, extra: Partial<Parameters<typeof runWrk>[0]> = {}) =>
  load(url, { ...extra, durationSeconds: JIT_WARMUP_SECONDS });
/**
 * BENCH_PACE_MS: a further load of the hot consumer (the fixed body for the baseline) in which every
 * connection waits that long after each answer (wrk's delay()), so the process is far from saturated
 * and its latency is its own, not a queue's. At 50 connections a saturating load's latency is set by
 * the rate (Little's law: 50 ÷ req/s), so its p99 follows throughput; this one's shows the rest.
 */
const paceMs = Number(process.env.BENCH_PACE_MS ?? 0);
const pacedScript = `${tls.certPath}.paced.lua`;
if (paceMs > 0) await Bun.write(pacedScript, `function delay()\n  return ${paceMs}\nend\n`);
const pacedLoad = (url: string, headers?: Record<string, string>) =>
  paceMs > 0 ? load(url, { script: pacedScript, ...(headers ? { headers } : {}) }) : undefined;
const PACED = `hot, ${paceMs} ms pauses`;

const hotHeaders = {
  "X-Consumer-ID": hot.id,
  "X-Consumer-Username": hot.username as string,
  "X-Gateway-Secret": GATEWAY_SECRET,
};

async function measureBaseline(): Promise<RunFigures> {
  const port = await freePort();
  const bare = await spawnBareServer(port);
  const url = bare.url;
  try {
    await warmJit(url);
    const cpuBefore = await cpuMicros(bare.process.pid);
    const result = await load(url);
    const cpuUs = (await cpuMicros(bare.process.pid)) - cpuBefore;
    const paced = await pacedLoad(url);
    return {
      cpuUsPerRequest: cpuUs / result.requests,
      name: "bare Bun.serve",
      readyMs: bare.readyMs,
      hot: result,
      ...(paced ? { paced } : {}),
      idleRssMiB: bare.idleRssMiB,
      rssMiB: await rssMiB(bare.process.pid),
    };
  } finally {
    await stop(bare.process);
  }
}

/** What the image runs, built at the start with the Dockerfile's build; `bun src/server.ts` otherwise. */
const shippedBundle = await buildShippedBundle(`${import.meta.dir}/..`);

async function measureService(
  name: string,
  extraEnv: Record<string, string> = {},
  withRotating = true,
  entry = "src/server.ts",
): Promise<RunFigures> {
  const port = await freePort();
  const url = `http://127.0.0.1:${port}`;
  const { command, env } = serviceCommand(entry, benchBunFlags);
  const service = await spawnUntilReady(
    command,
    { ...serviceEnv(port, extraEnv), ...env },
    url,
    "/health/ready",
  );
  try {
    await warm(service);
    await warmJit(url, { headers: hotHeaders });
    const cpuBefore = await cpuMicros(service.process.pid);
    const hotResult = await load(url, { headers: hotHeaders });
    const cpuUs = (await cpuMicros(service.process.pid)) - cpuBefore;
    const rotatingResult = withRotating ? await load(url, { script: scriptPath }) : undefined;
    const paced = await pacedLoad(url, hotHeaders);
    return {
      name,
      readyMs: service.readyMs,
      hot: hotResult,
      cpuUsPerRequest: cpuUs / hotResult.requests,
      ...(rotatingResult ? { rotating: rotatingResult } : {}),
      ...(paced ? { paced } : {}),
      idleRssMiB: service.idleRssMiB,
      rssMiB: await rssMiB(service.process.pid),
    };
  } finally {
    await stop(service.process);
  }
}

const fmt = (value: number, digits = 0) => (Number.isFinite(value) ? value.toFixed(digits) : "n/a");
const median = (values: number[]) => {
  const sorted = values.filter(Number.isFinite).sort((a, b) => a - b);
  if (sorted.length === 0) return Number.NaN;
  const middle = Math.floor(sorted.length / 2);
  return sorted.length % 2
    ? (sorted[middle] as number)
    : ((sorted[middle - 1] as number) + (sorted[middle] as number)) / 2;
};

interface Scenario {
  readonly name: string;
  readonly measure: () => Promise<RunFigures>;
}

/**
 * Every scenario once per round, rounds repeated: a burst of load from a neighbour on this shared
 * machine then hits one round of everything rather than one scenario, and the medians (and the
 * per-round ratios) are what is reported.
 */
async function measureRounds(scenarios: Scenario[], rounds: number): Promise<Map<string, RunFigures[]>> {
  const chosen = scenarios.filter(
    (scenario) => !only || scenario.name === "bare Bun.serve" || only.includes(scenario.name),
  );
  const results = new Map<string, RunFigures[]>(chosen.map((scenario) => [scenario.name, []]));
  for (let round = 1; round <= rounds; round++) {
    for (const scenario of chosen) {
      process.stderr.write(`round ${round}/${rounds}: ${scenario.name}\n`);
      results.get(scenario.name)?.push(await scenario.measure());
    }
  }
  return results;
}

function report(results: Map<string, RunFigures[]>, rounds: number) {
  const bare = results.get("bare Bun.serve") ?? [];
  const bareRate = median(bare.map((run) => run.hot.requestsPerSecond));
  console.log(
    `\n${connections} connections, ${duration} s per run, ${rounds} rounds (medians), 1 wrk thread, ` +
      `${navigator.hardwareConcurrency} cores\n`,
  );
  const header = [
    "run",
    "workload",
    "req/s",
    "× bare",
    "p50 ms",
    "p99 ms",
    "errors",
    "CPU µs/req",
    "idle RSS MiB",
    "RSS MiB",
    "ready ms",
  ];
  const rows: string[][] = [];
  for (const [name, runs] of results) {
    type Workload = [string, (run: RunFigures) => LoadResult | undefined];
    const workloads: Workload[] = [
      name === "bare Bun.serve" ? ["fixed body", (run) => run.hot] : ["1 hot consumer", (run) => run.hot],
    ];
    if (runs.some((run) => run.rotating)) workloads.push([`${ROTATING} rotating`, (run) => run.rotating]);
    if (runs.some((run) => run.paced)) workloads.push([PACED, (run) => run.paced]);
    for (const [workload, pick] of workloads) {
      const loads = runs.map(pick).filter((load): load is LoadResult => load !== undefined);
      const rate = median(loads.map((load) => load.requestsPerSecond));
      rows.push([
        name,
        workload,
        fmt(rate),
        fmt(rate / bareRate, 2),
        fmt(median(loads.map((load) => load.p50Ms)), 2),
        fmt(median(loads.map((load) => load.p99Ms)), 2),
        String(loads.reduce((sum, load) => sum + load.non2xx + load.socketErrors, 0)),
        workload === "1 hot consumer" || workload === "fixed body"
          ? fmt(median(runs.map((run) => run.cpuUsPerRequest)), 1)
          : "",
        fmt(median(runs.map((run) => run.idleRssMiB)), 1),
        fmt(median(runs.map((run) => run.rssMiB)), 1),
        fmt(median(runs.map((run) => run.readyMs))),
      ]);
    }
  }
  const widths = header.map((title, i) =>
    Math.max(title.length, ...rows.map((r) => (r[i] as string).length)),
  );
  const line = (cells: string[]) => cells.map((cell, i) => cell.padEnd(widths[i] as number)).join("  ");
  console.log(line(header));
  for (const r of rows) console.log(line(r));
}

/** The median over rounds of `scenario` ÷ `reference`, each pair measured in the same round. */
function pairedRatio(results: Map<string, RunFigures[]>, scenario: string, reference: string): number {
  const a = results.get(scenario) ?? [];
  const b = results.get(reference) ?? [];
  return median(a.map((run, i) => run.hot.requestsPerSecond / (b[i]?.hot.requestsPerSecond ?? Number.NaN)));
}

const rounds = Number(process.env.BENCH_ROUNDS ?? 3);
const redis = await startBenchRedis(tls);
const sink = startBenchOtlpSink({ address: tls.address, cert: tlsCert, key: tlsKey });
const otlp = (sampler: string, arg: string) => ({
  TELEMETRY_MODE: "otlp",
  OTEL_EXPORTER_OTLP_ENDPOINT: sink.endpoint,
  OTEL_TRACES_SAMPLER: sampler,
  OTEL_TRACES_SAMPLER_ARG: arg,
  OTEL_SERVICE_VERSION: "1.0.0-bench",
});
/** A service key set of one key of each kind, generated once at start (issue 15's signing mode). */
const KEY_SETS = Object.fromEntries(
  (["EdDSA", "ES256", "RS256"] as KeyKind[]).map((kind) => [
    kind,
    jwkSet(privateJwk(kind, `bench-${kind.toLowerCase()}`)),
  ]),
) as Record<KeyKind, string>;
const serviceKeys = (kind: KeyKind) => ({ SIGNING_MODE: "service-keys", SERVICE_KEYS_JWKS: KEY_SETS[kind] });

/**
 * One entry per run: its name, what it adds to the service's environment, and whether the 1000
 * rotating consumers are loaded too (the signing-mode runs measure the cached path only).
 */
const SCENARIOS: readonly {
  name: string;
  env?: () => Record<string, string>;
  rotating?: false;
  entry?: string;
}[] = [
  {
    name: "service + Redis HA",
    env: () => ({
      REDIS_ENABLED: "true",
      REDIS_URL: redis.url,
      REDIS_PASSWORD: redis.password,
      HIGH_AVAILABILITY: "true",
      CACHE_ENCRYPTION_KEY: Buffer.from(crypto.getRandomValues(new Uint8Array(32))).toString("base64"),
    }),
  },
  // Console mode right before the runs compared with it: a neighbour's burst then tends to hit both.
  { name: "service" },
  // What the image runs: the Dockerfile's executable.
  { name: "service (bundle)", entry: shippedBundle },
  { name: "service + OTLP 100%", env: () => otlp("always_on", "1") },
  // For context: the same exporters with the sampling a busy production service would use.
  { name: "service + OTLP 10%", env: () => otlp("parentbased_traceidratio", "0.1") },
  // Service keys as they run by default: signed by SIGNING_WORKERS threads (one per core up to 4).
  { name: "service + EdDSA key", env: () => serviceKeys("EdDSA"), rotating: false },
  { name: "service + ES256 key", env: () => serviceKeys("ES256"), rotating: false },
  { name: "service + RS256 key", env: () => serviceKeys("RS256"), rotating: false },
  // The same signatures on the request thread (SIGNING_WORKERS=0): what the workers buy.
  { name: "EdDSA inline", env: () => ({ ...serviceKeys("EdDSA"), SIGNING_WORKERS: "0" }), rotating: false },
  { name: "RS256 inline", env: () => ({ ...serviceKeys("RS256"), SIGNING_WORKERS: "0" }), rotating: false },
  // What no cached answer can skip, without the service around it (scripts/lib/floor-server.ts).
  { name: "floor", entry: "scripts/lib/floor-server.ts", rotating: false },
  // Other builds to set beside these (BENCH_ENTRIES): a source file or an executable each.
  ...extraEntries(),
];

/** BENCH_ENTRIES="name=path,…": each entry run as the console-mode service, under its name. */
function extraEntries(): { name: string; entry: string }[] {
  return (process.env.BENCH_ENTRIES ?? "")
    .split(",")
    .filter((item) => item.includes("="))
    .map((item) => {
      const at = item.indexOf("=");
      return { name: item.slice(0, at).trim(), entry: item.slice(at + 1).trim() };
    });
}

/** The paired per-round ratios reported, with the target each issue set (none: for context). */
const RATIOS: readonly { label: string; scenario: string; reference: string; target?: number }[] = [
  { label: "HA / non-HA", scenario: "service + Redis HA", reference: "service", target: 0.9 },
  { label: "OTLP 100 % / console", scenario: "service + OTLP 100%", reference: "service", target: 0.8 },
  { label: "OTLP 10 % / console", scenario: "service + OTLP 10%", reference: "service" },
  { label: "service / bare", scenario: "service", reference: "bare Bun.serve", target: 0.5 },
  { label: "bundle / bare", scenario: "service (bundle)", reference: "bare Bun.serve", target: 0.5 },
  { label: "floor / bare", scenario: "floor", reference: "bare Bun.serve" },
  { label: "bundle / floor", scenario: "service (bundle)", reference: "floor" },
  { label: "EdDSA / HMAC", scenario: "service + EdDSA key", reference: "service", target: 0.55 },
  { label: "ES256 / HMAC", scenario: "service + ES256 key", reference: "service" },
  { label: "RS256 / HMAC", scenario: "service + RS256 key", reference: "service" },
  { label: "EdDSA without workers / HMAC", scenario: "EdDSA inline", reference: "service" },
  { label: "RS256 without workers / HMAC", scenario: "RS256 inline", reference: "service" },
];

const loadAverage = async () => (await Bun.file("/proc/loadavg").text()).split(" ").slice(0, 3).join(" ");
try {
  const loadBefore = await loadAverage();
  const results = await measureRounds(
    [
      { name: "bare Bun.serve", measure: measureBaseline },
      ...SCENARIOS.map(({ name, env, rotating, entry }) => ({
        name,
        measure: () => measureService(name, env?.() ?? {}, rotating ?? true, entry),
      })),
    ],
    rounds,
  );
  report(results, rounds);
  console.log(`\nLoad average (1, 5, 15 min): ${loadBefore} before, ${await loadAverage()} after`);
  console.log("\nPaired per-round medians (cached consumer):");
  for (const { label, scenario, reference, target } of RATIOS) {
    if (!results.has(scenario)) continue;
    const ratio = fmt(pairedRatio(results, scenario, reference), 2);
    console.log(`  ${`${label}:`.padEnd(32)}${ratio}${target === undefined ? "" : ` (target ≥ ${target})`}`);
  }
  const hmac = results.get("service") ?? [];
  const signed = ["EdDSA", "ES256", "RS256"].map((alg) => `service + ${alg} key`);
  for (const kind of [...signed, "EdDSA inline", "RS256 inline"]) {
    const runs = results.get(kind);
    if (!runs || hmac.length === 0) continue;
    const extra = median(
      runs.map((run, i) => run.cpuUsPerRequest - (hmac[i]?.cpuUsPerRequest ?? Number.NaN)),
    );
    console.log(`  ${kind} CPU µs per token over HMAC (paired median): ${fmt(extra, 1)}`);
  }
  console.log("\nPer round (cached consumer, req/s):");
  for (const [name, runs] of results) {
    console.log(`  ${name.padEnd(22)} ${runs.map((run) => fmt(run.hot.requestsPerSecond)).join("  ")}`);
  }
  console.log(`OTLP sink received: ${JSON.stringify(sink.received)}`);
  if (!only || only.includes("refresh-ahead")) {
    await benchRefreshAhead({
      env: serviceEnv,
      adminToken: ADMIN_TOKEN,
      tls: { address: tls.address, cert: tlsCert, key: tlsKey },
      bunFlags: benchBunFlags,
      headers: (consumer) => ({
        "x-consumer-id": consumer.id,
        "x-consumer-username": consumer.username,
        "x-gateway-secret": GATEWAY_SECRET,
      }),
      rounds,
      seconds: Number(process.env.BENCH_REFRESH_SECONDS ?? 20),
      rate: Number(process.env.BENCH_REFRESH_RATE ?? 200),
      kongLatencyMs: Number(process.env.BENCH_KONG_LATENCY_MS ?? 20),
    });
  }
} finally {
  rmSync(dirname(shippedBundle), { recursive: true, force: true });
  await sink.stop();
  await redis.stop();
  await emulator.stop();
}
