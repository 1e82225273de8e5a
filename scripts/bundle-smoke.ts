/**
 * Proves the executable the image ships (scripts/build.ts) runs on its own: copies its folder into an
 * empty one (no node_modules, no package.json), starts it with a minimal environment in front of a
 * stand-in Kong Admin API (readiness asks Kong), waits for /health/live and /health/ready, sends
 * SIGTERM and expects exit code 0. The Dockerfile runs it in the build stage, so an image whose
 * executable cannot start is never produced; test/unit/delivery runs it on every test run.
 *
 *   bun scripts/bundle-smoke.ts dist/server
 */
import { cpSync, mkdtempSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { basename, dirname, join } from "node:path";

export interface SmokeResult {
  readonly live: number;
  readonly ready: number;
  readonly exitCode: number | null;
  readonly output: string;
}

/** Enough for the service to validate its configuration. */
const SAMPLE_ENV = {
  KONG_JWT_AUTHORITY: "https://sts.example.com/",
  KONG_JWT_AUDIENCE: "x",
  NODE_ENV: "development",
  HOST: "127.0.0.1",
  LOG_LEVEL: "warn",
  // No balancer sends here: stop without the drain window.
  SHUTDOWN_DRAIN_MS: "0",
};

/** SHUTDOWN_TIMEOUT_MS defaults to 10 s; nothing is in flight here, so exit should be near-immediate. */
const EXIT_TIMEOUT_MS = 15_000;

/** Answers Kong's health endpoint (`GET /status`) and node info (`GET /`) the way Kong does. */
function startKongStandIn() {
  return Bun.serve({
    hostname: "127.0.0.1",
    port: 0,
    fetch: (request) =>
      new URL(request.url).pathname === "/status"
        ? Response.json({ database: { reachable: true }, server: { connections_accepted: 1 } })
        : Response.json({ version: "3.10.0", tagline: "Welcome to kong" }),
  });
}

function freePort(): number {
  const probe = Bun.serve({ hostname: "127.0.0.1", port: 0, fetch: () => new Response() });
  const { port } = probe;
  probe.stop(true);
  if (port === undefined) throw new Error("no free TCP port on 127.0.0.1");
  return port;
}

async function statusOf(url: string): Promise<number> {
  try {
    const response = await fetch(url, { signal: AbortSignal.timeout(1_000) });
    await response.body?.cancel();
    return response.status;
  } catch {
    return 0;
  }
}

/** `env` is added to the sample environment (scripts/build.ts records the bytecode order through it). */
export async function smokeTestBundle(
  executable: string,
  env: Record<string, string> = {},
  startTimeoutMs = 10_000,
): Promise<SmokeResult> {
  const folder = mkdtempSync(join(tmpdir(), "bundle-smoke-"));
  // The whole output folder, as the runtime stage copies it.
  cpSync(dirname(executable), folder, { recursive: true });
  const copy = join(folder, basename(executable));
  const port = freePort();
  const kong = startKongStandIn();
  const child = Bun.spawn([copy], {
    cwd: folder,
    env: {
      ...SAMPLE_ENV,
      ...env,
      KONG_ADMIN_URL: `http://127.0.0.1:${kong.port}`,
      PORT: String(port),
      PATH: process.env.PATH ?? "/usr/bin:/bin",
    },
    stdout: "pipe",
    stderr: "pipe",
  });
  const output = Promise.all([new Response(child.stdout).text(), new Response(child.stderr).text()]).then(
    ([out, err]) => out + err,
  );
  try {
    const base = `http://127.0.0.1:${port}`;
    let live = 0;
    const deadline = Date.now() + startTimeoutMs;
    while (live !== 200 && child.exitCode === null && Date.now() < deadline) {
      live = await statusOf(`${base}/health/live`);
      if (live !== 200) await Bun.sleep(100);
    }
    const ready = live === 200 ? await statusOf(`${base}/health/ready`) : 0;
    child.kill("SIGTERM");
    let timer: ReturnType<typeof setTimeout> | undefined;
    const exitCode = await Promise.race([
      child.exited,
      new Promise<null>((resolve) => {
        timer = setTimeout(() => resolve(null), EXIT_TIMEOUT_MS);
      }),
    ]);
    clearTimeout(timer);
    if (exitCode === null) child.kill("SIGKILL");
    return { live, ready, exitCode, output: await output };
  } finally {
    if (child.exitCode === null) child.kill("SIGKILL");
    kong.stop(true);
    rmSync(folder, { recursive: true, force: true });
  }
}

if (import.meta.main) {
  const bundle = process.argv[2];
  if (!bundle) {
    console.error("usage: bun scripts/bundle-smoke.ts <executable>");
    process.exit(2);
  }
  const result = await smokeTestBundle(bundle);
  const passed = result.live === 200 && result.ready === 200 && result.exitCode === 0;
  console.log(
    `bundle smoke test: /health/live ${result.live}, /health/ready ${result.ready}, exit ${result.exitCode}`,
  );
  if (!passed) {
    console.error(result.output);
    process.exit(1);
  }
}
