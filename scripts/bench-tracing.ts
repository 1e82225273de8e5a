/**
 * `bun scripts/bench-tracing.ts`: what the service's tracer costs a request inside a real Bun.serve
 * handler, where `bun run bench:telemetry` (handlers called directly) cannot see Bun's own request
 * objects. The handler is what a cached GET /tokens asks of tracing: a server span around the answer,
 * the cache-hit annotation and a jwt.sign leaf span. Three tracers take turns over BENCH_TRACING_ROUNDS
 * (default 6) rounds of 5000 requests from 10 concurrent fetch clients in the same process: none
 * (console mode), unsampled (always_off) and sampled (always_on), the sampled spans batched and
 * encoded by the real SpanBatcher into an exporter that answers without sending anything. Prints the
 * nanoseconds spent inside the handler's tracing call per request; compare within one run.
 */
import { EpochClock, encodeEnvelope } from "../src/telemetry/span-encoding.ts";
import { type SpanBatch, SpanBatcher } from "../src/telemetry/span-export.ts";
import { createSampler } from "../src/telemetry/trace-context.ts";
import { createTracing, disabledTracing, type Tracing } from "../src/telemetry/tracing.ts";

const rounds = Number(process.env.BENCH_TRACING_ROUNDS ?? 6);
const exporter = {
  export: (_batch: SpanBatch, done: (result: { code: number }) => void) =>
    setTimeout(() => done({ code: 0 }), 1),
  forceFlush: async () => {},
  shutdown: async () => {},
};
const batcher = new SpanBatcher(
  exporter,
  encodeEnvelope({ "service.name": "bench" }, { name: "bench", version: "1" }),
  new EpochClock(),
  { maxExportBatchSize: 512, maxQueueSize: 2048, scheduledDelayMs: 5_000 },
);
const tracers: Record<string, Tracing> = {
  console: disabledTracing,
  unsampled: createTracing(batcher, createSampler("always_off", 1)),
  sampled: createTracing(batcher, createSampler("always_on", 1)),
};
const names = Object.keys(tracers);
const spent = Object.fromEntries(names.map((name) => [name, { ns: 0, requests: 0 }]));

const MEMORY_HIT = { "credential.cache_tier": "memory", "credential.cache_hit": true };
const SIGN = { "jwt.algorithm": "HS256" };
const body = "x".repeat(560);
let current = "console";
const server = Bun.serve({
  hostname: "127.0.0.1",
  port: 0,
  routes: {
    "/tokens": (request) => {
      const tracing = tracers[current] as Tracing;
      const consumer = request.headers.get("x-consumer-id");
      const started = performance.now();
      const response = tracing.server(request, "/tokens", crypto.randomUUID(), () => {
        tracing.annotate(MEMORY_HIT);
        return tracing.leaf("jwt.sign", SIGN, () => new Response(`${body}${consumer}`));
      });
      const spentHere = spent[current] as { ns: number; requests: number };
      spentHere.ns += (performance.now() - started) * 1e6;
      spentHere.requests++;
      return response;
    },
  },
});
const url = `http://127.0.0.1:${server.port}/tokens`;

async function load(requests: number): Promise<void> {
  await Promise.all(
    Array.from({ length: 10 }, async () => {
      for (let i = 0; i < requests / 10; i++) {
        await (await fetch(url, { headers: { "x-consumer-id": "bench" } })).text();
      }
    }),
  );
}

for (const name of names) {
  current = name;
  await load(10_000);
}
for (const figures of Object.values(spent)) Object.assign(figures, { ns: 0, requests: 0 });
for (let round = 0; round < rounds; round++) {
  for (const name of names) {
    current = name;
    await load(5_000);
  }
}
console.log(
  names
    .map((name) => {
      const { ns, requests } = spent[name] as { ns: number; requests: number };
      return `${name} ${(ns / requests).toFixed(0)} ns`;
    })
    .join(", "),
);
await server.stop(true);
