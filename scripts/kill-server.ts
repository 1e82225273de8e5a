/**
 * `bun run kill-server`: stops whatever listens on TCP port PORT (default 3000), as the
 * specification's script does, so `bun run dev:clean` can start afresh. SIGTERM first, so the
 * service drains and flushes its telemetry; SIGKILL only for a process still there after
 * KILL_SERVER_GRACE_MS (default 20000: above the service's own SHUTDOWN_TIMEOUT_MS plus the flush).
 * Needs `lsof` (macOS, most Linux distributions: `apt-get install lsof`).
 */

// Top-level await and file-local names need a module.
export {};

const port = Number(process.env.PORT ?? 3000);
const graceMs = Number(process.env.KILL_SERVER_GRACE_MS ?? 20_000);

function fail(message: string): never {
  console.error(message);
  process.exit(1);
}

if (!Number.isInteger(port) || port < 1 || port > 65535) fail(`PORT must be a TCP port, not ${port}`);
if (!Bun.which("lsof")) fail("kill-server needs lsof to find the listening process: apt-get install lsof");

function listeners(): number[] {
  const found = Bun.spawnSync(["lsof", "-nP", "-t", `-iTCP:${port}`, "-sTCP:LISTEN"]);
  return [...new Set(found.stdout.toString().split(/\s+/).filter(Boolean).map(Number))].filter(
    (pid) => pid !== process.pid,
  );
}

function alive(pid: number): boolean {
  try {
    process.kill(pid, 0);
    return true;
  } catch {
    return false;
  }
}

const pids = listeners();
if (pids.length === 0) {
  console.log(`Nothing listens on port ${port}.`);
  process.exit(0);
}
for (const pid of pids) {
  const command = Bun.spawnSync(["ps", "-o", "args=", "-p", String(pid)])
    .stdout.toString()
    .trim();
  console.log(`Stopping ${pid} (${command || "unknown command"}) on port ${port} with SIGTERM`);
  process.kill(pid, "SIGTERM");
}
const deadline = Date.now() + graceMs;
while (pids.some(alive) && Date.now() < deadline) await Bun.sleep(100);
for (const pid of pids.filter(alive)) {
  console.log(`${pid} still running after ${graceMs} ms: SIGKILL`);
  process.kill(pid, "SIGKILL");
}
console.log(`Port ${port} is free.`);
