/**
 * `bun scripts/soak.ts`: three instances of the service sharing one Redis, under mixed load for
 * SOAK_MINUTES (default 10): hot consumers, thousands of consumers in rotation, new consumers (whose
 * first request creates their credential; deleted from Kong two minutes later), a Kong fault window (every Admin API call answers 503,
 * from 40 % to 50 % of the run) and a Redis failover at 70 %: a real Sentinel setup's master killed
 * with SIGKILL so the sentinels promote its replica, or with SOAK_REDIS=standalone one redis-server
 * killed and restarted empty on the same port 3 s later (scripts/lib/soak-redis.ts). Prints per slice
 * (SOAK_SLICE_SECONDS, default 60) the rate, p99, failures inside and outside the fault window, Kong
 * calls, refresh-ahead refreshes, each instance's RSS and Redis's memory (INFO memory) and keys.
 *
 * Exits 1 when a request failed outside the fault window (the outage, plus the breaker's reset time
 * and 2 s) or when something grew without bound: each instance's RSS, Redis's used memory and key
 * count in the last slice must stay within 1.3× (keys: 1.5×) of their peak in the slices after the
 * first and up to the middle of the run. Not part of .ci/run.
 *
 * Env: SOAK_MINUTES, SOAK_SLICE_SECONDS, SOAK_RATE (requests/s over all instances, default 240),
 * SOAK_HOT (20), SOAK_ROTATING (5000), SOAK_NEW_SHARE (share of requests from new consumers, 0.05),
 * SOAK_REDIS (sentinel, the default, or standalone).
 */
import { monitorEventLoopDelay } from "node:perf_hooks";
import { createClient } from "redis";
import { KongEmulator } from "../test/support/kong-emulator.ts";
import { freePort } from "../test/support/process.ts";
import { rssMiB, type Spawned, spawnUntilReady, stop } from "./lib/processes.ts";
import { type Consumer, emptySlice, percentile, runLoad, type SliceFigures } from "./lib/soak-load.ts";
import { startSoakRedis } from "./lib/soak-redis.ts";

const minutes = Number(process.env.SOAK_MINUTES ?? 10);
const sliceSeconds = Number(process.env.SOAK_SLICE_SECONDS ?? 60);
const rate = Number(process.env.SOAK_RATE ?? 240);
const hotCount = Number(process.env.SOAK_HOT ?? 20);
const rotatingCount = Number(process.env.SOAK_ROTATING ?? 5000);
const newShare = Number(process.env.SOAK_NEW_SHARE ?? 0.05);
const INSTANCES = 3;
const BREAKER_RESET_MS = 5_000;
const TTL_SECONDS = 30;

const seconds = minutes * 60;
const sliceCount = Math.ceil(seconds / sliceSeconds);
const faultStartMs = seconds * 400;
const faultEndMs = seconds * 500;
/** After the outage the breaker stays open for its reset time; a consumer with no copy gets 503 until then. */
const faultGraceMs = BREAKER_RESET_MS + 2_000;
const failoverAtMs = seconds * 700;

interface Sample {
  /** The soak process's own event-loop delay (p99, ms): the load generator and the emulator run there. */
  readonly driverLagMs: number;
  readonly rss: number[];
  readonly redisMiB: number;
  readonly redisKeys: number;
  readonly kongCalls: number;
  readonly refreshed: number;
  readonly events: string[];
}

const redis = await startSoakRedis(process.env.SOAK_REDIS === "standalone" ? "standalone" : "sentinel");
const emulator = KongEmulator.start();
const instances: Spawned[] = [];

function consumers(prefix: string, count: number, withCredential: boolean): Consumer[] {
  return Array.from({ length: count }, (_, i) => {
    const username = `${prefix}-${i}`;
    const added = emulator.addConsumer({ username });
    if (withCredential) emulator.addCredential(added.id);
    return { id: added.id, username };
  });
}
const hot = consumers("soak-hot", hotCount, true);
const rotating = consumers("soak-rotating", rotatingCount, true);
let newCount = 0;
let rotatingNext = 0;
/** New consumers are deleted from Kong after NEW_CONSUMER_LIFE_MS, so the emulator's store stays bounded. */
const NEW_CONSUMER_LIFE_MS = 120_000;
const newConsumers: { id: string; at: number }[] = [];
function retireOldConsumers(now: number) {
  while (newConsumers.length > 0 && (newConsumers[0] as { at: number }).at < now - NEW_CONSUMER_LIFE_MS) {
    emulator.removeConsumer((newConsumers.shift() as { id: string }).id);
  }
}

/** Half hot consumers, the rest in rotation, and a share of consumers Kong has never seen a token for. */
function pick(i: number): Consumer {
  const roll = (i % 1000) / 1000;
  if (roll < newShare) {
    const username = `soak-new-${newCount++}`;
    const id = emulator.addConsumer({ username }).id;
    newConsumers.push({ id, at: performance.now() });
    return { id, username };
  }
  if (roll < 0.5) return hot[i % hot.length] as Consumer;
  rotatingNext = (rotatingNext + 1) % rotating.length;
  return rotating[rotatingNext] as Consumer;
}

function serviceEnv(port: number): Record<string, string> {
  return {
    NODE_ENV: "development",
    LOG_LEVEL: "error",
    HOST: "127.0.0.1",
    PORT: String(port),
    KONG_MODE: "API_GATEWAY",
    KONG_ADMIN_URL: emulator.adminUrl,
    KONG_JWT_AUTHORITY: "https://sts.soak.example.com/",
    KONG_JWT_AUDIENCE: "https://api.soak.example.com/",
    REDIS_ENABLED: "true",
    ...redis.env,
    REDIS_KEY_PREFIX: "soak",
    HIGH_AVAILABILITY: "true",
    CACHE_TTL_SECONDS: String(TTL_SECONDS),
    STALE_DATA_TOLERANCE_MINUTES: "2",
    CACHE_MAX_SIZE: "2000",
    CIRCUIT_BREAKER_RESET_TIMEOUT: String(BREAKER_RESET_MS),
    RATE_LIMIT_MAX_REQUESTS: "1000000",
    SHUTDOWN_DRAIN_MS: "0",
  };
}

async function redisFigures(): Promise<{ usedMiB: number; keys: number }> {
  const url = await redis.dataUrl();
  if (url === undefined) return { usedMiB: Number.NaN, keys: Number.NaN };
  const client = createClient({
    url,
    socket: { reconnectStrategy: false, connectTimeout: 1_000 },
  });
  client.on("error", () => {});
  try {
    await client.connect();
    const info = await client.info("memory");
    const used = Number(/^used_memory:(\d+)/m.exec(info)?.[1] ?? Number.NaN);
    return { usedMiB: used / 1024 / 1024, keys: await client.dbSize() };
  } catch {
    return { usedMiB: Number.NaN, keys: Number.NaN };
  } finally {
    if (client.isOpen) await client.close();
  }
}

/** credential_refresh_ahead_total{outcome="refreshed"} summed over the instances. */
async function refreshedTotal(): Promise<number> {
  let total = 0;
  for (const instance of instances) {
    const text = await fetch(`${instance.url}/metrics`, { headers: { accept: "text/plain" } }).then(
      (response) => response.text(),
      () => "",
    );
    const line = text
      .split("\n")
      .find((l) => l.startsWith("credential_refresh_ahead_total{") && l.includes('outcome="refreshed"'));
    total += line ? Number(line.split(" ").at(-1)) : 0;
  }
  return total;
}

const events: string[] = [];
function scheduleFaults(): (() => void)[] {
  const timers = [
    setTimeout(() => {
      emulator.inject({ status: 503 });
      events.push("Kong 503 starts");
    }, faultStartMs),
    setTimeout(() => {
      emulator.clearFaults();
      events.push("Kong back");
    }, faultEndMs),
    setTimeout(() => {
      redis
        .failover((text) => events.push(text))
        .catch((error: unknown) => events.push(`failover: ${error}`));
    }, failoverAtMs),
  ];
  return timers.map((timer) => () => clearTimeout(timer));
}

async function sampleLoop(samples: Sample[], done: Promise<void>): Promise<void> {
  let refreshedBefore = 0;
  const start = performance.now();
  const lag = monitorEventLoopDelay({ resolution: 10 });
  lag.enable();
  for (let slice = 0; slice < sliceCount; slice++) {
    const endsIn = start + (slice + 1) * sliceSeconds * 1000 - performance.now();
    await Promise.race([Bun.sleep(Math.max(0, endsIn)), done]);
    const refreshed = await refreshedTotal();
    const { usedMiB, keys } = await redisFigures();
    retireOldConsumers(performance.now());
    samples.push({
      driverLagMs: lag.percentile(99) / 1e6,
      rss: await Promise.all(instances.map((instance) => rssMiB(instance.process.pid))),
      redisMiB: usedMiB,
      redisKeys: keys,
      kongCalls: emulator.calls.length,
      refreshed: refreshed - refreshedBefore,
      events: events.splice(0),
    });
    refreshedBefore = refreshed;
    emulator.resetCalls();
    lag.reset();
  }
}

const fmt = (value: number, digits = 1) => (Number.isFinite(value) ? value.toFixed(digits) : "down");

function report(slices: SliceFigures[], samples: Sample[]): string[] {
  const header = `| slice | req/s | p99 ms | failed in fault / outside | Kong calls | refreshes | soak loop p99 ms | RSS MiB (${instances.map((_, i) => String.fromCharCode(65 + i)).join(" / ")}) | Redis MiB | Redis keys | events |`;
  console.log(`\n${header}\n|${"---|".repeat(11)}`);
  slices.forEach((slice, i) => {
    const sample = samples[i];
    const from = i * sliceSeconds;
    console.log(
      `| ${from}–${Math.min(seconds, from + sliceSeconds)} s | ${fmt(slice.sent / sliceSeconds)} | ${fmt(percentile(slice.latencies, 0.99), 2)} | ` +
        `${slice.failedInFault} / ${slice.failedOutside} | ${sample?.kongCalls ?? ""} | ${sample?.refreshed ?? ""} | ${fmt(sample?.driverLagMs ?? Number.NaN)} | ` +
        `${sample?.rss.map((rss) => fmt(rss)).join(" / ") ?? ""} | ${fmt(sample?.redisMiB ?? Number.NaN, 2)} | ` +
        `${sample?.redisKeys ?? ""} | ${sample?.events.join("; ") ?? ""} |`,
    );
  });
  return slices.flatMap((slice) => slice.examples);
}

/** What grew in the last slice beyond its allowance over the peak of the first half (after warm-up). */
function unbounded(samples: Sample[]): string[] {
  const reference = samples.slice(1, Math.max(2, Math.ceil(samples.length / 2)));
  const last = samples.at(-1);
  if (samples.length < 4 || !last)
    return [`too few slices (${samples.length}) to judge growth; run at least 4`];
  const problems: string[] = [];
  const check = (what: string, value: number, peak: number, allowance: number) => {
    if (Number.isFinite(value) && Number.isFinite(peak) && value > peak * allowance)
      problems.push(`${what}: ${fmt(value)} at the end, over ${allowance}× its first-half peak ${fmt(peak)}`);
  };
  const peak = (of: (sample: Sample) => number) => Math.max(...reference.map(of).filter(Number.isFinite));
  instances.forEach((_, i) => {
    check(
      `RSS of instance ${i + 1}`,
      last.rss[i] as number,
      peak((s) => s.rss[i] as number),
      1.3,
    );
  });
  check(
    "Redis used memory",
    last.redisMiB,
    peak((s) => s.redisMiB),
    1.3,
  );
  check(
    "Redis keys",
    last.redisKeys,
    peak((s) => s.redisKeys),
    1.5,
  );
  return problems;
}

let exitCode = 0;
try {
  for (let i = 0; i < INSTANCES; i++) {
    const port = await freePort();
    instances.push(
      await spawnUntilReady(
        ["bun", "src/server.ts"],
        serviceEnv(port),
        `http://127.0.0.1:${port}`,
        "/health/ready",
      ),
    );
  }
  console.log(
    `soak: ${INSTANCES} instances, Redis: ${redis.description}, ${minutes} min at ${rate} req/s; ` +
      `${hotCount} hot, ${rotatingCount} rotating, ${newShare * 100} % new consumers; ` +
      `Kong 503 from ${faultStartMs / 1000} s to ${faultEndMs / 1000} s; Redis failover at ${failoverAtMs / 1000} s`,
  );
  const slices = Array.from({ length: sliceCount }, emptySlice);
  const samples: Sample[] = [];
  const cancel = scheduleFaults();
  const load = runLoad({
    urls: instances.map((instance) => instance.url),
    rate,
    seconds,
    sliceSeconds,
    pick,
    inFault: (elapsed) => elapsed >= faultStartMs && elapsed < faultEndMs + faultGraceMs,
    slices,
  });
  await Promise.all([load, sampleLoop(samples, load)]);
  for (const undo of cancel) undo();
  const examples = report(slices, samples);
  const failedOutside = slices.reduce((sum, slice) => sum + slice.failedOutside, 0);
  const growth = unbounded(samples);
  console.log(`\nnew consumers created: ${newCount}; failures outside the fault window: ${failedOutside}`);
  for (const example of examples) console.log(`  ${example}`);
  for (const problem of growth) console.log(`  unbounded? ${problem}`);
  if (failedOutside > 0 || growth.length > 0) exitCode = 1;
} finally {
  for (const instance of instances) await stop(instance.process);
  await redis.stop();
  await emulator.stop();
}
process.exit(exitCode);
