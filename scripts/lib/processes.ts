/** Child processes of the benchmark: spawn, time to ready, memory, stop. */

export interface Spawned {
  readonly process: Bun.Subprocess;
  readonly url: string;
  /** Milliseconds from spawn until the ready URL first answered 200. */
  readonly readyMs: number;
  /** Resident memory right then, before any other request. */
  readonly idleRssMiB: number;
}

export async function spawnUntilReady(
  command: string[],
  env: Record<string, string>,
  url: string,
  readyPath: string,
): Promise<Spawned> {
  const started = performance.now();
  const child = Bun.spawn(command, { env: { ...process.env, ...env }, stdout: "ignore", stderr: "inherit" });
  const deadline = started + 15_000;
  while (performance.now() < deadline) {
    if (child.exitCode !== null) throw new Error(`${command.join(" ")} exited with ${child.exitCode}`);
    const ok = await fetch(url + readyPath).then(
      (response) => response.ok,
      () => false,
    );
    if (ok) {
      const readyMs = performance.now() - started;
      return { process: child, url, readyMs, idleRssMiB: await rssMiB(child.pid) };
    }
    await Bun.sleep(2);
  }
  child.kill();
  throw new Error(`${command.join(" ")} was not ready within 15 s`);
}

/** The benchmarks' baseline (scripts/lib/bare-server.ts) on `port`, once it answers /tokens. */
export function spawnBareServer(port: number): Promise<Spawned> {
  return spawnUntilReady(
    ["bun", "scripts/lib/bare-server.ts"],
    { PORT: String(port) },
    `http://127.0.0.1:${port}`,
    "/tokens",
  );
}

/** Resident set size of a process in MiB, from /proc. */
export async function rssMiB(pid: number): Promise<number> {
  const status = await Bun.file(`/proc/${pid}/status`).text();
  const kib = Number(status.match(/^VmRSS:\s+(\d+) kB$/m)?.[1] ?? Number.NaN);
  return kib / 1024;
}

export async function stop(child: Bun.Subprocess): Promise<void> {
  child.kill("SIGTERM");
  await Promise.race([child.exited, Bun.sleep(5_000).then(() => child.kill("SIGKILL"))]);
}

/** CPU time (user + system, every thread) a process has used so far, in microseconds, from /proc. */
export async function cpuMicros(pid: number): Promise<number> {
  const stat = await Bun.file(`/proc/${pid}/stat`).text();
  // Fields after the command name (which may contain spaces) start after the last ")".
  const fields = stat.slice(stat.lastIndexOf(")") + 2).split(" ");
  const ticks = Number(fields[11]) + Number(fields[12]);
  return (ticks / CLOCK_TICKS_PER_SECOND) * 1e6;
}

/** USER_HZ on Linux: 100 on every architecture Bun supports. */
const CLOCK_TICKS_PER_SECOND = 100;
