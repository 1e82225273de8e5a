import { describe, expect, test } from "bun:test";
import { cpuBudget } from "../../../src/composition/cpu-budget.ts";

/** A cgroup file system with only these files. */
const files = (present: Record<string, string>) => (path: string) => present[path];

describe("the cores the service may use", () => {
  test("without a quota (no cgroup files, v2 max, v1 -1): the CPUs it can run on", () => {
    expect(cpuBudget(8, files({}))).toBe(8);
    expect(cpuBudget(8, files({ "/sys/fs/cgroup/cpu.max": "max 100000\n" }))).toBe(8);
    expect(
      cpuBudget(
        8,
        files({
          "/sys/fs/cgroup/cpu/cpu.cfs_quota_us": "-1\n",
          "/sys/fs/cgroup/cpu/cpu.cfs_period_us": "100000\n",
        }),
      ),
    ).toBe(8);
  });

  test("a cgroup v2 quota caps it, rounded up, never below one core", () => {
    const v2 = (max: string) => cpuBudget(32, files({ "/sys/fs/cgroup/cpu.max": `${max}\n` }));
    expect(v2("100000 100000")).toBe(1);
    expect(v2("150000 100000")).toBe(2);
    expect(v2("50000 100000")).toBe(1);
    expect(v2("1000 100000")).toBe(1);
    expect(v2("400000 100000")).toBe(4);
  });

  test("a quota above the CPUs it can run on leaves the CPUs", () => {
    expect(cpuBudget(2, files({ "/sys/fs/cgroup/cpu.max": "800000 100000" }))).toBe(2);
  });

  test("cgroup v1: cfs_quota_us over cfs_period_us, read only without cgroup v2's file", () => {
    const v1 = {
      "/sys/fs/cgroup/cpu/cpu.cfs_quota_us": "250000\n",
      "/sys/fs/cgroup/cpu/cpu.cfs_period_us": "100000\n",
    };
    expect(cpuBudget(16, files(v1))).toBe(3);
    expect(cpuBudget(16, files({ ...v1, "/sys/fs/cgroup/cpu.max": "max 100000" }))).toBe(16);
  });

  test("files that do not parse mean no quota", () => {
    for (const max of ["", "garbage", "100000", "0 100000", "100000 0", "-5 100000"]) {
      expect(cpuBudget(6, files({ "/sys/fs/cgroup/cpu.max": max }))).toBe(6);
    }
    expect(cpuBudget(6, files({ "/sys/fs/cgroup/cpu/cpu.cfs_quota_us": "50000" }))).toBe(6);
  });

  test("on this machine: a whole number of cores, at least one", () => {
    const cores = cpuBudget();
    expect(Number.isInteger(cores)).toBe(true);
    expect(cores).toBeGreaterThanOrEqual(1);
  });
});
