/** The service as a real process (`bun src/server.ts`), for what only a process shows: signals, exit codes, stdout. */

export async function freePort(): Promise<number> {
  const probe = Bun.serve({ port: 0, fetch: () => new Response() });
  const port = probe.port as number;
  await probe.stop(true);
  return port;
}

/** Starts the service with exactly `env` (plus PATH and HOME); `output` fills as the process writes. */
export function spawnService(env: Record<string, string>) {
  const child = Bun.spawn(["bun", "src/server.ts"], {
    cwd: new URL("../../", import.meta.url).pathname,
    env: { PATH: process.env.PATH ?? "", HOME: process.env.HOME ?? "", ...env },
    stdout: "pipe",
    stderr: "pipe",
  });
  const output = { stdout: "", stderr: "" };
  const drain = async (stream: ReadableStream<Uint8Array>, key: "stdout" | "stderr") => {
    for await (const chunk of stream) output[key] += new TextDecoder().decode(chunk);
  };
  const drained = Promise.all([drain(child.stdout, "stdout"), drain(child.stderr, "stderr")]);
  return { child, output, drained };
}

/** Resolves once `check` holds; fails after `timeoutMs`. */
export async function until(check: () => boolean | Promise<boolean>, what: string, timeoutMs = 5000) {
  const deadline = Date.now() + timeoutMs;
  while (Date.now() < deadline) {
    if (await check()) return;
    await Bun.sleep(20);
  }
  throw new Error(`timed out waiting for ${what}`);
}
