/** A Bun script of this repository run as its own process, with only the environment given. */

const ROOT = new URL("../../", import.meta.url).pathname;

export interface SpawnedScript {
  readonly child: Bun.Subprocess<"ignore", "pipe", "pipe">;
  /** Everything written so far; complete once `drained` resolves. */
  readonly output: { stdout: string; stderr: string };
  readonly drained: Promise<unknown>;
  /** SIGKILL if still running; safe to call twice. */
  kill(): void;
}

export function spawnScript(script: string, env: Record<string, string>, args: string[] = []): SpawnedScript {
  const child = Bun.spawn(["bun", script, ...args], {
    cwd: ROOT,
    env: { PATH: process.env.PATH ?? "", HOME: process.env.HOME ?? "", ...env },
    stdin: "ignore",
    stdout: "pipe",
    stderr: "pipe",
  });
  const output = { stdout: "", stderr: "" };
  const drain = async (stream: ReadableStream<Uint8Array>, key: "stdout" | "stderr") => {
    const decoder = new TextDecoder();
    for await (const chunk of stream) output[key] += decoder.decode(chunk, { stream: true });
  };
  const drained = Promise.all([drain(child.stdout, "stdout"), drain(child.stderr, "stderr")]);
  return {
    child,
    output,
    drained,
    kill: () => {
      if (child.exitCode === null && child.signalCode === null) child.kill("SIGKILL");
    },
  };
}

/**
 * The service (`bun src/server.ts`) in development mode on 127.0.0.1:`port`, in front of the Kong
 * Admin API at `adminUrl`, with `env` on top.
 */
export function spawnService(port: number, adminUrl: string, env: Record<string, string>): SpawnedScript {
  return spawnScript("src/server.ts", {
    NODE_ENV: "development",
    PORT: String(port),
    HOST: "127.0.0.1",
    KONG_ADMIN_URL: adminUrl,
    KONG_JWT_AUTHORITY: "https://sts.example.com/",
    KONG_JWT_AUDIENCE: "https://api.example.com/",
    ...env,
  });
}

/** Whether GET `url` answers 2xx (false while nothing listens). */
export function answers(url: string): Promise<boolean> {
  return fetch(url).then(
    (response) => response.ok,
    () => false,
  );
}

export async function freePort(): Promise<number> {
  const probe = Bun.serve({ port: 0, hostname: "127.0.0.1", fetch: () => new Response() });
  const port = probe.port;
  await probe.stop(true);
  if (port === undefined) throw new Error("no free port");
  return port;
}
