/**
 * Resolves once `check` holds. Polls, so a test waits exactly as long as the condition takes on a
 * loaded machine instead of a fixed sleep; fails with what it waited for once `timeoutMs` passes.
 */
export async function waitFor(
  check: () => boolean | Promise<boolean>,
  what: string,
  timeoutMs = 4_000,
): Promise<void> {
  const deadline = performance.now() + timeoutMs;
  while (!(await check())) {
    if (performance.now() > deadline) throw new Error(`timed out after ${timeoutMs} ms waiting for ${what}`);
    await Bun.sleep(10);
  }
}
