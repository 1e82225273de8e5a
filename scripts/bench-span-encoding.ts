/**
 * `bun scripts/bench-span-encoding.ts [revision]`: the span encoder (src/telemetry/proto-writer.ts,
 * span-columns.ts, span-encoding.ts) of the working tree against the same files at a git revision
 * (default HEAD), in one process, alternating: batches of 512 spans shaped like a cached GET /tokens
 * (a server span with its seven attributes and a jwt.sign child) copied into columns, encoded and
 * finished, the request given back for reuse where the revision can. Prints ns per span for each
 * side and the paired median ratio over BENCH_ENCODE_ROUNDS (default 31) rounds of 100 batches;
 * compare changes to the encoder with it, not absolute figures between machines.
 */
import { mkdtempSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";

const revision = process.argv[2] ?? "HEAD";
const rounds = Number(process.env.BENCH_ENCODE_ROUNDS ?? 31);
const FILES = ["proto-writer", "span-columns", "span-encoding"];

const dir = mkdtempSync(join(tmpdir(), "bench-encoding-"));
for (const file of FILES) {
  const shown = Bun.spawnSync(["git", "show", `${revision}:src/telemetry/${file}.ts`], { stderr: "pipe" });
  if (shown.exitCode !== 0) throw new Error(`git show ${revision}: ${shown.stderr.toString().trim()}`);
  writeFileSync(join(dir, `${file}.ts`), shown.stdout);
}

interface Encoder {
  columns: new (
    capacity: number,
  ) => { add(span: unknown, end: number): boolean; encodeInto(w: unknown, c: unknown): void };
  encoding: typeof import("../src/telemetry/span-encoding.ts");
}

async function load(root: string): Promise<Encoder> {
  const columns = await import(join(root, "span-columns.ts"));
  const encoding = await import(join(root, "span-encoding.ts"));
  return { columns: columns.SpanColumns, encoding };
}

const word = () => (Math.random() * 2 ** 32) >>> 0;
function serverSpan() {
  return {
    t0: word(),
    t1: word(),
    t2: word(),
    t3: word(),
    s0: word(),
    s1: word(),
    p0: 0,
    p1: 0,
    hasParent: false,
    traceState: undefined,
    parentIsRemote: false,
    name: "GET /tokens",
    kind: 2,
    start: 1000.25,
    events: undefined,
    statusCode: 0,
    statusMessage: undefined,
    attributes: {
      "http.request.method": "GET",
      "http.route": "/tokens",
      "url.path": "/tokens",
      "http.request.id": crypto.randomUUID(),
      "credential.cache_tier": "memory",
      "credential.cache_hit": true,
      "http.response.status_code": 200,
    },
  };
}
function signSpan(parent: ReturnType<typeof serverSpan>) {
  return {
    ...parent,
    s0: word(),
    s1: word(),
    p0: parent.s0,
    p1: parent.s1,
    hasParent: true,
    name: "jwt.sign",
    kind: 1,
    attributes: { "jwt.algorithm": "HS256" },
  };
}
const spans = Array.from({ length: 256 }, () => {
  const server = serverSpan();
  return [signSpan(server), server];
}).flat();

function bench({ columns: Columns, encoding }: Encoder) {
  const columns = new Columns(spans.length);
  const writer = new encoding.TraceRequestWriter(
    encoding.encodeEnvelope({ "service.name": "bench" }, { name: "bench", version: "1" }),
  );
  const clock = new encoding.EpochClock();
  const reuse = (writer as { recycle?: (request: Uint8Array) => void }).recycle?.bind(writer);
  let bytes = 0;
  return {
    batch(): number {
      for (const span of spans) columns.add(span, 1001.5);
      const started = performance.now();
      columns.encodeInto(writer.spans, clock);
      const request = writer.finish();
      bytes = request.length;
      reuse?.(request);
      return performance.now() - started;
    },
    get bytes() {
      return bytes;
    },
  };
}

const base = bench(await load(dir));
const current = bench(await load(join(import.meta.dir, "../src/telemetry")));
for (let i = 0; i < 1500; i++) {
  base.batch();
  current.batch();
}
if (base.bytes !== current.bytes) console.log(`request sizes differ: ${base.bytes} against ${current.bytes}`);
const perSpan = { base: [] as number[], current: [] as number[], ratio: [] as number[] };
for (let round = 0; round < rounds; round++) {
  let a = 0;
  let b = 0;
  for (let i = 0; i < 100; i++) {
    a += base.batch();
    b += current.batch();
  }
  perSpan.base.push((a * 1e6) / (100 * spans.length));
  perSpan.current.push((b * 1e6) / (100 * spans.length));
  perSpan.ratio.push(b / a);
}
const median = (values: number[]) => [...values].sort((x, y) => x - y)[values.length >> 1] as number;
console.log(
  `${revision}: ${median(perSpan.base).toFixed(0)} ns/span; working tree: ${median(perSpan.current).toFixed(0)} ns/span; ` +
    `working tree / ${revision} (paired median of ${rounds} rounds): ${median(perSpan.ratio).toFixed(3)}`,
);
