/**
 * `bun scripts/measure-startup.ts <server.js> [<other server.js> ...]`: spawn to the first 200 of
 * /health/ready for each bundle (or entry) given, interleaved over STARTUP_ROUNDS rounds (default 7),
 * against the Kong emulator over https in console mode (LOG_LEVEL, default info); prints each run and
 * the medians. Build a bundle with the Dockerfile's command: `bun scripts/measure-startup.ts --build`
 * prints the path of a fresh one.
 */
import { KongEmulator } from "../test/support/kong-emulator.ts";
import { freePort } from "../test/support/process.ts";
import { buildShippedBundle } from "./lib/bundle.ts";
import { spawnUntilReady, stop } from "./lib/processes.ts";
import { benchServiceEnv } from "./lib/service-env.ts";
import { benchTls } from "./lib/tls.ts";

const args = process.argv.slice(2);
if (args[0] === "--build") {
  console.log(buildShippedBundle(`${import.meta.dir}/..`));
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

const env = (port: number): Record<string, string> => ({
  ...benchServiceEnv({
    port,
    kongAdminUrl: emulator.adminUrl,
    kongAdminToken: ADMIN_TOKEN,
    gatewaySecret: `startup-gateway-secret-${crypto.randomUUID()}`,
    certPath: tls.certPath,
    logLevel: process.env.LOG_LEVEL ?? "info",
  }),
  BUN_RUNTIME_TRANSPILER_CACHE_PATH: "0",
});

const results = new Map<string, number[]>(args.map((entry) => [entry, []]));
for (let round = 0; round < rounds; round++) {
  const order = round % 2 ? [...args].reverse() : args;
  for (const entry of order) {
    const port = await freePort();
    const spawned = await spawnUntilReady(
      ["bun", ...bunFlags, entry],
      env(port),
      `http://127.0.0.1:${port}`,
      "/health/ready",
    );
    await stop(spawned.process);
    results.get(entry)?.push(spawned.readyMs);
    await Bun.sleep(200);
  }
}
const median = (values: number[]) => {
  const sorted = [...values].sort((a, b) => a - b);
  const middle = Math.floor(sorted.length / 2);
  return sorted.length % 2
    ? (sorted[middle] as number)
    : ((sorted[middle - 1] as number) + (sorted[middle] as number)) / 2;
};
for (const [entry, values] of results) {
  console.log(
    `${median(values).toFixed(1)} ms median  [${values.map((v) => v.toFixed(0)).join(" ")}]  ${entry}`,
  );
}
emulator.stop();
process.exit(0);
