/**
 * Issue 12 item 13: what ten concurrent lookups answered with huge Kong bodies cost the service.
 * The emulator runs in this process; the service is a child process (`bun src/server.ts`, or the
 * entry given with --server to measure another build), so its RSS is the service's alone.
 *
 *   bun scripts/measure-kong-bodies.ts [--mb 60] [--server path/to/server.ts]
 *
 * Two cases: the consumer lookup answered with a sized body (Content-Length), and the credential
 * list streamed without Content-Length. Prints the statuses and the service's RSS before, at its
 * peak while the answers arrive (sampled every 10 ms from /proc) and after.
 */
import { parseArgs } from "node:util";
import { KongEmulator, type PaddedBody } from "../test/support/kong-emulator.ts";
import { freePort } from "../test/support/process.ts";
import { rssMiB, spawnUntilReady, stop } from "./lib/processes.ts";

const { values } = parseArgs({
  options: { mb: { type: "string", default: "60" }, server: { type: "string", default: "src/server.ts" } },
});
const bytes = Number(values.mb) * 1024 * 1024;
const CONSUMERS = 10;

const cases: { name: string; pad: PaddedBody; match: (call: { method: string; path: string }) => boolean }[] =
  [
    {
      name: "consumer lookup, sized body",
      pad: { bytes },
      match: ({ path }) => /\/consumers\/[^/]+$/.test(path),
    },
    {
      name: "credential list, streamed body",
      pad: { bytes, streamed: true },
      match: ({ method, path }) => method === "GET" && path.endsWith("/jwt"),
    },
  ];

for (const { name, pad, match } of cases) {
  const emulator = KongEmulator.start();
  const consumers = Array.from({ length: CONSUMERS }, (_, i) => {
    const consumer = emulator.addConsumer({ username: `huge-${i}` });
    emulator.addCredential(consumer.id);
    return consumer;
  });
  const port = await freePort();
  const service = await spawnUntilReady(
    ["bun", values.server],
    {
      NODE_ENV: "development",
      LOG_LEVEL: "error",
      HOST: "127.0.0.1",
      PORT: String(port),
      KONG_ADMIN_URL: emulator.adminUrl,
      KONG_JWT_AUTHORITY: "https://sts.example.com/",
      KONG_JWT_AUDIENCE: "http://api.example.com/",
      // Deadlines long enough that only the size of the answers can stop them.
      KONG_CONNECTION_TIMEOUT: "10000",
      CIRCUIT_BREAKER_TIMEOUT: "10000",
    },
    `http://127.0.0.1:${port}`,
    "/health/live",
  );
  try {
    const pid = service.process.pid;
    emulator.inject({ pad, match });
    const before = await rssMiB(pid);
    let peak = before;
    let sampling = true;
    const sampler = (async () => {
      while (sampling) {
        peak = Math.max(peak, await rssMiB(pid));
        await Bun.sleep(10);
      }
    })();
    const statuses = await Promise.all(
      consumers.map((consumer) =>
        fetch(`${service.url}/tokens`, {
          headers: { "x-consumer-id": consumer.id, "x-consumer-username": consumer.username ?? "" },
        }).then(async (response) => {
          await response.arrayBuffer();
          return response.status;
        }),
      ),
    );
    sampling = false;
    await sampler;
    const after = await rssMiB(pid);
    const counts = new Map<number, number>();
    for (const status of statuses) counts.set(status, (counts.get(status) ?? 0) + 1);
    const summary = [...counts].map(([status, count]) => `${count}x${status}`).join(" ");
    console.log(
      `${name} (${values.mb} MB x ${CONSUMERS}): ${summary}; service RSS before ${before.toFixed(0)} MiB, ` +
        `peak ${peak.toFixed(0)} MiB, after ${after.toFixed(0)} MiB`,
    );
  } finally {
    await stop(service.process);
    await emulator.stop();
  }
}
