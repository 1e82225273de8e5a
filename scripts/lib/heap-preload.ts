/**
 * Preloaded into the service by scripts/measure-memory.ts (`bun --preload`): on SIGUSR2, after a full
 * GC, writes the process's memory figures, bun:jsc's heap statistics and a V8-format heap snapshot to
 * HEAP_OUT_DIR (heap-<pid>-<n>.json and .heapsnapshot). Never part of the service itself.
 */
import { heapStats } from "bun:jsc";

const dir = process.env.HEAP_OUT_DIR ?? "/tmp";
let taken = 0;
process.on("SIGUSR2", () => {
  Bun.gc(true);
  const stats = heapStats();
  const name = `${dir}/heap-${process.pid}-${++taken}`;
  Bun.write(`${name}.heapsnapshot`, Bun.generateHeapSnapshot("v8"));
  Bun.write(
    `${name}.json`,
    JSON.stringify({
      memory: process.memoryUsage(),
      heapSize: stats.heapSize,
      heapCapacity: stats.heapCapacity,
      objectCount: stats.objectCount,
      objectTypeCounts: stats.objectTypeCounts,
    }),
  );
});
