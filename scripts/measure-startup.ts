/**
 * `bun scripts/measure-startup.ts <entry> [<other entry> ...]`: spawn to the first 200 of
 * /health/ready for each entry given (a source or JavaScript file, run with bun and STARTUP_BUN_FLAGS,
 * or an executable), interleaved over STARTUP_ROUNDS rounds (default 7), against the Kong emulator
 * over https in console mode (LOG_LEVEL, default info), with the benchmarks' bare Bun.serve in every
 * round as the baseline (spawn to its first answer); prints each run and the medians. Build the
 * image's executable with the Dockerfile's build: `bun scripts/measure-startup.ts --build` prints the
 * path of a fresh one. With STARTUP_FIRST_TOKEN=1, a token request is sent the moment
 * readiness answers, and its latency and the time from spawn to its answer are printed too: work
 * deferred past readiness shows there.
 */
import { KongEmulator } from "../test/support/kong-emulator.ts";
import { freePort } from "../test/support/process.ts";
import { buildShippedBundle, serviceCommand } from "./lib/bundle.ts";
import { median } from "./lib/median.ts";
import { spawnBareServer, spawnUntilReady, stop } from "./lib/processes.ts";
import { benchServiceEnv } from "./lib/service-env.ts";
import { benchTls } from "./lib/tls.ts";

const args = process.argv.slice(2);
if (args[0] === "--build") {
  console.log(await buildShippedBundle(`${import.meta.dir}/..`));
  process.exit(0);
}
const bunFlags = (process.env.STARTUP_BUN_FLAGS ?? "").split(/\s+/).filter(Boolean);
const rounds = Number(process.env.STARTUP_ROUNDS ?? 7);
const ADMIN_TOKEN = `startup-admin-token-${crypto.randomUUID()}`;
const tls = benchTls();
const emulator = KongEmulator.start({
  hostname: tls.address,
  adminToken: ADMIN_TOKEN,
  tls: { cert: await Bun.file(tls.certPath).text(), key: await Bun.file(tls.keyPath).text() },
});

const GATEWAY_SECRET = `startup-gateway-secret-${crypto.randomUUID()}`;
const firstToken = process.env.STARTUP_FIRST_TOKEN === "1";
const env = (port: number): Record<string, string> => ({
  ...benchServiceEnv({
    port,
    kongAdminUrl: emulator.adminUrl,
    kongAdminToken: ADMIN_TOKEN,
    gatewaySecret: GATEWAY_SECRET,
    certPath: tls.certPath,
    logLevel: process.env.LOG_LEVEL ?? "info",
  }),
  // A source entry is transpiled at every start, as a fresh container would.
  BUN_RUNTIME_TRANSPILER_CACHE_PATH: "0",
});

/** Milliseconds of the first token request, sent as readiness answers, for a consumer new to Kong. */
async function firstTokenMs(url: string, round: number): Promise<number> {
  const consumer = emulator.addConsumer({ username: `startup-${round}-${crypto.randomUUID()}` });
  const started = performance.now();
  const response = await fetch(`${url}/tokens`, {
    headers: {
      "x-consumer-id": consumer.id,
      "x-consumer-username": consumer.username ?? "",
      "x-gateway-secret": GATEWAY_SECRET,
    },
  });
  await response.arrayBuffer();
  if (response.status !== 200) throw new Error(`the first token request answered ${response.status}`);
  return performance.now() - started;
}

/** The baseline of the same rounds: the benchmarks' bare Bun.serve, spawn to its first answer. */
const BARE = "bare Bun.serve (scripts/lib/bare-server.ts)";
const results = new Map<string, number[]>([...args, BARE].map((entry) => [entry, []]));
const tokenResults = new Map<string, { latency: number[]; sinceSpawn: number[] }>(
  args.map((entry) => [entry, { latency: [], sinceSpawn: [] }]),
);
for (let round = 0; round < rounds; round++) {
  const order = round % 2 ? [...args].reverse() : args;
  for (const entry of order) {
    const port = await freePort();
    const { command, env: commandEnv } = serviceCommand(entry, bunFlags);
    const spawned = await spawnUntilReady(
      command,
      { ...env(port), ...commandEnv },
      `http://127.0.0.1:${port}`,
      "/health/ready",
    );
    if (firstToken) {
      const latency = await firstTokenMs(spawned.url, round);
      tokenResults.get(entry)?.latency.push(latency);
      tokenResults.get(entry)?.sinceSpawn.push(spawned.readyMs + latency);
    }
    await stop(spawned.process);
    results.get(entry)?.push(spawned.readyMs);
    await Bun.sleep(200);
  }
  const bare = await spawnBareServer(await freePort());
  await stop(bare.process);
  results.get(BARE)?.push(bare.readyMs);
  await Bun.sleep(200);
}
const line = (values: number[]) =>
  `${median(values).toFixed(1)} ms median  [${values.map((v) => v.toFixed(0)).join(" ")}]`;
for (const [entry, values] of results) {
  console.log(`${line(values)}  ${entry}`);
  const token = tokenResults.get(entry);
  if (firstToken && token) {
    console.log(`  first token: ${line(token.latency)}; spawn to its answer: ${line(token.sinceSpawn)}`);
  }
}
emulator.stop();
process.exit(0);
