/**
 * The cores this process may use: the CPUs it can run on, capped by the container's CPU quota when it
 * has one. `availableParallelism()` counts the node's CPUs, so a pod limited to one core on a 32-core
 * node would otherwise start as many threads as the node has cores; each signing worker is a thread
 * with its own JavaScript heap (about 11 MiB), and threads over the quota only wait for it.
 *
 * The quota is cgroup v2's `cpu.max` ("<quota> <period>", or "max"), else cgroup v1's
 * `cpu.cfs_quota_us` and `cpu.cfs_period_us` (-1: none), read at the root of the container's cgroup
 * namespace as Kubernetes and Docker mount it. A file that is missing or does not parse means no quota.
 * Only service keys need the count: node:os and node:fs are required when it is asked for, not
 * imported, so start-up with HMAC secrets loads neither (test/unit/delivery/start-up-graph.test.ts).
 */
export function cpuBudget(
  cpus: number = (require("node:os") as typeof import("node:os")).availableParallelism(),
  read: (path: string) => string | undefined = readOrUndefined,
): number {
  const quota = quotaOf(read);
  // A quota is positive, so rounded up it is at least one core.
  return quota === undefined ? cpus : Math.min(cpus, Math.ceil(quota));
}

/** Cores' worth of CPU time per period, when a quota is set. */
function quotaOf(read: (path: string) => string | undefined): number | undefined {
  const v2 = read("/sys/fs/cgroup/cpu.max");
  if (v2 !== undefined) {
    const [quota, period] = v2.trim().split(/\s+/);
    return ratio(quota, period);
  }
  return ratio(read("/sys/fs/cgroup/cpu/cpu.cfs_quota_us"), read("/sys/fs/cgroup/cpu/cpu.cfs_period_us"));
}

function ratio(quota: string | undefined, period: string | undefined): number | undefined {
  const q = Number(quota?.trim());
  const p = Number(period?.trim());
  // "max" (v2) and -1 (v1) are no quota; so is anything that is not a positive number.
  if (!(q > 0) || !(p > 0)) return undefined;
  return q / p;
}

function readOrUndefined(path: string): string | undefined {
  try {
    return (require("node:fs") as typeof import("node:fs")).readFileSync(path, "utf8");
  } catch {
    return undefined;
  }
}
