/**
 * How long the rate-limit sync keeps Redis busy with many active consumers (issue 12, item 4).
 * Starts a redis-server of its own with SLOWLOG recording every command, runs the service's
 * RateLimiter and Redis sync against it, and prints, per phase, the sync calls Redis ran (count,
 * slowest and mean server-side time from SLOWLOG) and the slowest PING another client saw meanwhile.
 *
 *   bun scripts/measure-rate-sync.ts [consumers=50000]
 */
import { createClient } from "redis";
import { RedisConnection } from "../src/cache/redis-connection.ts";
import { RateLimiter } from "../src/security/rate-limiter.ts";
import { redisRateSync } from "../src/security/redis-rate-sync.ts";
import { testConfig } from "../test/support/config.ts";
import { testLogger } from "../test/support/logger.ts";
import { freePort } from "../test/support/process.ts";

const consumers = Number(process.argv[2] ?? 50_000);
const port = await freePort();
const url = `redis://127.0.0.1:${port}`;
const server = Bun.spawn(
  [
    ...(process.env.REDIS_NICE ? ["nice", "-n", process.env.REDIS_NICE] : []),
    "redis-server",
    "--port",
    String(port),
    "--bind",
    "127.0.0.1",
    "--save",
    "",
    "--appendonly",
    "no",
  ].concat(["--slowlog-log-slower-than", "0", "--slowlog-max-len", "1000000"]),
  { stdout: "ignore", stderr: "inherit" },
);

const admin = createClient({ url });
admin.on("error", () => {});
for (let i = 0; i < 100 && !admin.isReady; i++) {
  await admin.connect().catch(() => Bun.sleep(50));
}

const config = testConfig({ REDIS_ENABLED: "true", REDIS_URL: url, REDIS_COMMAND_TIMEOUT_MS: "1000" });
const connection = new RedisConnection(config.redis, testLogger("error", process.stdout));
await connection.connect();
while (connection.status !== "ready") await Bun.sleep(10);

const limiter = new RateLimiter({
  maxRequests: 1_000_000,
  windowMs: 3_600_000,
  syncMs: 100,
  maxTrackedConsumers: Math.max(100_000, consumers),
  sync: redisRateSync(connection, "measure"),
});
const ids = Array.from({ length: consumers }, () => crypto.randomUUID());

/** The slowest PING round trip another process saw while `work` ran, and how many it sent. */
async function withLatencyProbe(work: () => Promise<void>): Promise<{ worstMs: number; samples: number }> {
  const probe = Bun.spawn(["bun", `${import.meta.dir}/lib/redis-latency-probe.ts`, String(port)], {
    stdout: "pipe",
    stderr: "inherit",
  });
  const lines = probe.stdout.pipeThrough(new TextDecoderStream()).getReader();
  await lines.read(); // "ready"
  await work();
  probe.kill("SIGTERM");
  let output = "";
  for (let chunk = await lines.read(); !chunk.done; chunk = await lines.read()) output += chunk.value;
  await probe.exited;
  const [worstMs, samples] = output.trim().split(" ").map(Number);
  return { worstMs: worstMs ?? Number.NaN, samples: samples ?? 0 };
}

async function phase(name: string, requests: readonly string[]) {
  for (const id of requests) limiter.take(id);
  await admin.sendCommand(["SLOWLOG", "RESET"]);
  const started = performance.now();
  const latency = await withLatencyProbe(() => limiter.syncNow());
  const syncMs = performance.now() - started;
  const log = (await admin.sendCommand(["SLOWLOG", "GET", "-1"])) as [number, number, number, string[]][];
  const micros = log
    .filter((entry) => entry[3][0]?.toUpperCase().startsWith("EVAL"))
    .map((entry) => entry[2]);
  // PING does no work: its slowest time is what preemption alone costs on this machine.
  const pings = log.filter((entry) => entry[3][0]?.toUpperCase() === "PING").map((entry) => entry[2]);
  const noiseFloor = pings.length > 0 ? Math.max(...pings) : 0;
  micros.sort((a, b) => a - b);
  const slowest = micros.at(-1) ?? 0;
  const p99 = micros[Math.floor(micros.length * 0.99)] ?? 0;
  const overOneMs = micros.filter((value) => value > 1_000).length;
  const mean = micros.length > 0 ? micros.reduce((sum, value) => sum + value, 0) / micros.length : 0;
  console.log(
    `${name.padEnd(34)} sync calls ${String(micros.length).padStart(4)}  slowest ${(slowest / 1000).toFixed(3)} ms  p99 ${(p99 / 1000).toFixed(3)} ms` +
      `  over 1 ms ${overOneMs}` +
      `  mean ${(mean / 1000).toFixed(3)} ms  whole sync ${syncMs.toFixed(0)} ms  slowest PING from another process ${latency.worstMs.toFixed(2)} ms (${latency.samples} PINGs,` +
      ` slowest server-side ${(noiseFloor / 1000).toFixed(3)} ms)`,
  );
}

console.log(`redis-server ${url}, ${consumers} consumers, SLOWLOG of every command\n`);
const baseline = await withLatencyProbe(() => Bun.sleep(500));
console.log(
  `${"baseline: 500 ms, no sync".padEnd(34)} slowest PING from another process ${baseline.worstMs.toFixed(2)} ms (${baseline.samples} PINGs)`,
);
await phase(`first sync, ${consumers} new consumers`, ids);
await phase(`${consumers} consumers active again`, ids);
await phase("1,000 of them active", ids.slice(0, 1_000));
await phase("no traffic since the last sync", []);

await connection.close();
await admin.close();
server.kill();
await server.exited;
