/**
 * The benchmark's refresh-ahead scenario: one steady consumer asking for a token at a fixed rate
 * across many TTL boundaries (CACHE_TTL_SECONDS=2), with refresh-ahead on (ratio 0.8) and off (0),
 * against a Kong emulator that answers each call after a fixed latency. Without refresh-ahead every
 * expiry makes the requests of that moment wait for Kong (two calls: consumer, credentials); with it
 * they are answered from memory while the entry is refreshed in the background.
 *
 * The load is open-loop (a request every 1000/rate ms, whatever the answers), so requests that arrive
 * while one waits on Kong are counted as waiting too (wrk's closed loop would send fewer of them).
 */
import { KongEmulator } from "../../test/support/kong-emulator.ts";
import { freePort } from "../../test/support/process.ts";
import { type Spawned, spawnUntilReady, stop } from "./processes.ts";

export interface RefreshBenchOptions {
  /** The service's environment for a port, as the other scenarios run it, with overrides last. */
  readonly env: (port: number, extra: Record<string, string>) => Record<string, string>;
  readonly adminToken: string;
  readonly tls: { readonly address: string; readonly cert: string; readonly key: string };
  readonly bunFlags: readonly string[];
  readonly headers: (consumer: { id: string; username: string }) => Record<string, string>;
  readonly rounds: number;
  /** Seconds of load per run (default 20: ten TTL boundaries). */
  readonly seconds?: number;
  /** Requests per second of the steady consumer (default 200). */
  readonly rate?: number;
  /** What each Kong Admin API call waits before it is answered (default 20 ms). */
  readonly kongLatencyMs?: number;
}

interface RefreshRun {
  readonly p50Ms: number;
  readonly p99Ms: number;
  readonly maxMs: number;
  /** Answers slower than the Kong latency, as the client saw them (the machine's stalls included). */
  readonly slow: number;
  /**
   * Answers the service itself took over 25 ms to give (its own http_response_time_seconds, from when
   * the request was read): a lookup waiting on Kong's two calls, without the client's or the
   * scheduler's delays.
   */
  readonly serverSlow: number;
  readonly requests: number;
  readonly failed: number;
  readonly kongCalls: number;
}

const TTL_SECONDS = 2;
const VARIANTS = [
  { name: "refresh-ahead 0.8", ratio: "0.8" },
  { name: "refresh-ahead off", ratio: "0" },
] as const;

/** GET /tokens answers counted so far by the service, and those within 25 ms, from its Prometheus text. */
async function tokenAnswers(url: string): Promise<{ all: number; within25ms: number }> {
  const text = await (await fetch(`${url}/metrics`, { headers: { accept: "text/plain" } })).text();
  const value = (series: string, le?: string) => {
    const line = text
      .split("\n")
      .find(
        (l) =>
          l.startsWith(`${series}{`) &&
          l.includes('route="/tokens"') &&
          (le === undefined || l.includes(`le="${le}"`)),
      );
    return Number(line?.split(" ").at(-1) ?? Number.NaN);
  };
  return {
    all: value("http_response_time_seconds_count"),
    within25ms: value("http_response_time_seconds_bucket", "0.025"),
  };
}

const percentile = (sorted: number[], p: number) =>
  sorted.length === 0
    ? Number.NaN
    : (sorted[Math.min(sorted.length - 1, Math.floor(sorted.length * p))] as number);

/** Sends `rate` requests a second for `seconds`, on a schedule, and times each answer. */
async function steadyLoad(url: string, headers: Record<string, string>, rate: number, seconds: number) {
  const periodMs = 1000 / rate;
  const total = Math.round(rate * seconds);
  const latencies: number[] = [];
  let failed = 0;
  const pending: Promise<void>[] = [];
  const start = performance.now();
  for (let i = 0; i < total; i++) {
    const wait = start + i * periodMs - performance.now();
    if (wait > 0) await Bun.sleep(wait);
    const sent = performance.now();
    pending.push(
      fetch(`${url}/tokens`, { headers }).then(
        async (response) => {
          await response.arrayBuffer();
          if (response.status === 200) latencies.push(performance.now() - sent);
          else failed++;
        },
        () => {
          failed++;
        },
      ),
    );
  }
  await Promise.all(pending);
  return { latencies: latencies.sort((a, b) => a - b), failed };
}

async function measure(
  options: RefreshBenchOptions,
  emulator: KongEmulator,
  consumer: { id: string; username: string },
  ratio: string,
): Promise<RefreshRun> {
  const port = await freePort();
  const url = `http://127.0.0.1:${port}`;
  const extra = {
    KONG_ADMIN_URL: emulator.adminUrl,
    CACHE_TTL_SECONDS: String(TTL_SECONDS),
    CACHE_REFRESH_AHEAD_RATIO: ratio,
  };
  const service: Spawned = await spawnUntilReady(
    ["bun", ...options.bunFlags, "src/server.ts"],
    options.env(port, extra),
    url,
    "/health/ready",
  );
  try {
    const headers = options.headers(consumer);
    // One lifetime unmeasured: the JIT warms up and the consumer's first fetch is out of the way.
    await steadyLoad(url, headers, options.rate ?? 200, TTL_SECONDS);
    emulator.resetCalls();
    const before = await tokenAnswers(url);
    const { latencies, failed } = await steadyLoad(url, headers, options.rate ?? 200, options.seconds ?? 20);
    const after = await tokenAnswers(url);
    const latency = options.kongLatencyMs ?? 20;
    return {
      p50Ms: percentile(latencies, 0.5),
      p99Ms: percentile(latencies, 0.99),
      maxMs: latencies.at(-1) ?? Number.NaN,
      slow: latencies.filter((ms) => ms >= latency).length,
      serverSlow: after.all - before.all - (after.within25ms - before.within25ms),
      requests: latencies.length + failed,
      failed,
      kongCalls: emulator.calls.length,
    };
  } finally {
    await stop(service.process);
  }
}

/** Runs both variants once per round, interleaved, and prints each round and the medians. */
export async function benchRefreshAhead(options: RefreshBenchOptions): Promise<void> {
  const { tls } = options;
  const emulator = KongEmulator.start({
    hostname: tls.address,
    adminToken: options.adminToken,
    tls: { cert: tls.cert, key: tls.key },
  });
  emulator.setLatency(options.kongLatencyMs ?? 20);
  const added = emulator.addConsumer({ username: "bench-steady" });
  emulator.addCredential(added.id);
  const consumer = { id: added.id, username: "bench-steady" };
  const runs = new Map<string, RefreshRun[]>(VARIANTS.map((variant) => [variant.name, []]));
  try {
    for (let round = 1; round <= options.rounds; round++) {
      for (const variant of VARIANTS) {
        process.stderr.write(`round ${round}/${options.rounds}: steady consumer, ${variant.name}\n`);
        runs.get(variant.name)?.push(await measure(options, emulator, consumer, variant.ratio));
      }
    }
  } finally {
    await emulator.stop();
  }
  report(runs, options);
}

function report(runs: Map<string, RefreshRun[]>, options: RefreshBenchOptions) {
  const fmt = (value: number) => (Number.isFinite(value) ? value.toFixed(2) : "n/a");
  const med = (values: number[]) =>
    [...values].sort((a, b) => a - b)[Math.floor((values.length - 1) / 2)] ?? Number.NaN;
  console.log(
    `\nSteady consumer across TTL boundaries: CACHE_TTL_SECONDS=${TTL_SECONDS}, ${options.rate ?? 200} req/s ` +
      `open-loop for ${options.seconds ?? 20} s per run, Kong latency ${options.kongLatencyMs ?? 20} ms per call`,
  );
  const header = ["run", "round", "p50 ms", "p99 ms", "max ms", "≥ Kong latency", "> 25 ms in service"];
  const widths = [20, 7, 8, 8, 8, 16, 20, 10, 8];
  const line = (cells: string[]) => cells.map((cell, i) => cell.padEnd(widths[i] ?? 0)).join("");
  console.log(line([...header, "requests", "failed", "Kong calls"]));
  for (const [name, list] of runs) {
    list.forEach((run, i) => {
      const figures = [run.p50Ms, run.p99Ms, run.maxMs].map(fmt);
      const counts = [run.slow, run.serverSlow, run.requests, run.failed, run.kongCalls].map(String);
      console.log(line([name, String(i + 1), ...figures, ...counts]));
    });
  }
  const on = runs.get(VARIANTS[0].name) ?? [];
  const off = runs.get(VARIANTS[1].name) ?? [];
  const pairs = on.map((run, i) => fmt((off[i]?.p99Ms ?? Number.NaN) / run.p99Ms));
  console.log(
    `  p99 median: on ${fmt(med(on.map((r) => r.p99Ms)))} ms, off ${fmt(med(off.map((r) => r.p99Ms)))} ms; ` +
      `paired off/on p99 ratio per round: ${pairs.join(", ")}`,
  );
  console.log(
    `  answers over 25 ms in the service, median per run: on ${med(on.map((r) => r.serverSlow))}, ` +
      `off ${med(off.map((r) => r.serverSlow))}`,
  );
}
