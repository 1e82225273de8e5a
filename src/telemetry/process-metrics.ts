import type { Meter } from "@opentelemetry/api";

/**
 * The one source of `process.memory.usage` and `process.cpu.usage`, in the service's scope: they
 * exist as soon as the meter does (host metrics load later, in the background), and the memory gauge
 * breaks the heap down, which matters for a JavaScript process. @opentelemetry/host-metrics is
 * therefore started without its process groups (src/telemetry/sdk.ts).
 */
export function observeProcess(meter: Meter): void {
  meter
    .createObservableGauge("process.memory.usage", { unit: "By", description: "Process memory by type" })
    .addCallback((result) => {
      const memory = process.memoryUsage();
      for (const type of ["rss", "heapTotal", "heapUsed", "external", "arrayBuffers"] as const) {
        result.observe(memory[type], { "process.memory.type": type });
      }
    });
  let lastCpu = process.cpuUsage();
  let lastAt = performance.now();
  meter
    .createObservableGauge("process.cpu.usage", { unit: "1", description: "CPU time / wall time" })
    .addCallback((result) => {
      const cpu = process.cpuUsage(lastCpu);
      const elapsedUs = (performance.now() - lastAt) * 1000;
      lastCpu = process.cpuUsage();
      lastAt = performance.now();
      if (elapsedUs > 0) result.observe((cpu.user + cpu.system) / elapsedUs);
    });
}

/** The groups of @opentelemetry/host-metrics the service exports: the host's, not the process's. */
export const HOST_METRIC_GROUPS = ["system.cpu", "system.memory", "system.network"];
