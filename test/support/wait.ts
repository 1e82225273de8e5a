import type { SpawnedScript } from "./process.ts";

/**
 * Resolves once `check` holds. Polls, so a test waits exactly as long as the condition takes on a
 * loaded machine instead of a fixed sleep; fails with what it waited for once `timeoutMs` passes (by
 * default just under bun test's own 5 s, so the failure names the condition). When the condition
 * depends on a `spawned` process, its exit ends the wait at once and its output goes into the failure.
 */
export async function waitFor(
  check: () => boolean | Promise<boolean>,
  what: string,
  timeoutMs = 4_000,
  spawned?: SpawnedScript,
): Promise<void> {
  const deadline = performance.now() + timeoutMs;
  while (!(await check())) {
    const ended = spawned?.child.exitCode ?? spawned?.child.signalCode ?? undefined;
    if (ended !== undefined || performance.now() > deadline) {
      const reason = ended === undefined ? `timed out after ${timeoutMs} ms` : `the process ended (${ended})`;
      const output = spawned ? `\nstdout:\n${spawned.output.stdout}\nstderr:\n${spawned.output.stderr}` : "";
      throw new Error(`${reason} waiting for ${what}${output}`);
    }
    await Bun.sleep(10);
  }
}

/** The result, or "no answer" when none came within `ms` (a call that hangs would never settle). */
export async function within<T>(ms: number, pending: Promise<T>): Promise<T | "no answer"> {
  let timer: ReturnType<typeof setTimeout> | undefined;
  const late = new Promise<"no answer">((resolve) => {
    timer = setTimeout(() => resolve("no answer"), ms);
  });
  try {
    return await Promise.race([pending, late]);
  } finally {
    clearTimeout(timer);
  }
}
