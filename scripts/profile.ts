/**
 * `bun run profile:*`: drives the /debug/profiling endpoints of a service started with
 * `bun run profile:start` (or any instance with PROFILING_ENABLED=true outside production).
 *
 *   bun scripts/profile.ts status
 *   bun scripts/profile.ts start-session [--heap] [--duration <ms>]
 *   bun scripts/profile.ts stop-session [--heap]
 *   bun scripts/profile.ts reports
 *   bun scripts/profile.ts clean
 *   bun scripts/profile.ts load-test [--heap] [--seconds <s>]
 *   bun scripts/profile.ts k6 [--heap]      (a session around k6's tokens smoke suite; needs k6)
 *
 * Talks to http://localhost:${PORT:-3000} unless PROFILE_BASE_URL says otherwise.
 */
import { TEST_CONSUMERS } from "../test/shared/test-consumers.ts";
import { ensureWrk, runWrk } from "./lib/wrk.ts";

const base = (process.env.PROFILE_BASE_URL ?? `http://localhost:${process.env.PORT ?? 3000}`).replace(
  /\/$/,
  "",
);
const endpoint = `${base}/debug/profiling`;
const [command = "help", ...args] = process.argv.slice(2);
const flag = (name: string) => args.includes(`--${name}`);
const option = (name: string) => {
  const index = args.indexOf(`--${name}`);
  return index >= 0 ? args[index + 1] : undefined;
};

interface Artifact {
  name: string;
  kind: string;
  bytes: number;
  createdAt: string;
}
interface Finished {
  id: string;
  durationMs: number;
  stoppedBy: string;
  samples: number;
  artifacts: Artifact[];
  evicted: string[];
}

async function call(method: "GET" | "POST", path: string, body?: unknown): Promise<unknown> {
  let response: Response;
  try {
    response = await fetch(endpoint + path, {
      method,
      ...(body === undefined
        ? {}
        : { headers: { "content-type": "application/json" }, body: JSON.stringify(body) }),
    });
  } catch {
    fail(`Nothing answers at ${base}. Start the service with: bun run profile:start`);
  }
  const text = await response.text();
  if (response.status === 404 && path === "/status") {
    fail(`${base} has no profiling endpoints: start it with PROFILING_ENABLED=true outside production.`);
  }
  if (!response.ok) {
    let detail = text;
    try {
      const problem = JSON.parse(text) as { title?: string; detail?: string };
      detail = [problem.title, problem.detail].filter(Boolean).join(": ");
    } catch {}
    fail(`${method} ${path} answered ${response.status}: ${detail}`);
  }
  return JSON.parse(text);
}

function fail(message: string): never {
  console.error(message);
  process.exit(1);
}

const mib = (bytes: number) => `${(bytes / 1024 / 1024).toFixed(2)} MiB`;

async function printArtifacts(artifacts: Artifact[]) {
  const { outputDir } = (await call("GET", "/status")) as { outputDir: string };
  for (const artifact of artifacts) {
    const opens =
      artifact.kind === "cpuprofile" ? "DevTools › Performance › Load profile" : "DevTools › Memory › Load";
    console.log(`  ${outputDir}/${artifact.name}  (${mib(artifact.bytes)}; ${opens})`);
    console.log(`    ${endpoint}/reports/${artifact.name}`);
  }
}

function printFinished(session: Finished) {
  console.log(
    `Session ${session.id} stopped (${session.stoppedBy}) after ${(session.durationMs / 1000).toFixed(1)} s, ${session.samples} samples.`,
  );
  if (session.evicted.length > 0)
    console.log(`Deleted to stay within the size budget: ${session.evicted.join(", ")}`);
  return printArtifacts(session.artifacts);
}

async function startSession(): Promise<string> {
  const duration = option("duration");
  const body = {
    ...(flag("heap") ? { heapSnapshot: true } : {}),
    ...(duration ? { maxDurationMs: Number(duration) } : {}),
  };
  const { session } = (await call("POST", "/start", body)) as { session: { id: string; stopsAt: string } };
  console.log(`Session ${session.id} recording; it stops by itself at ${session.stopsAt}.`);
  return session.id;
}

async function stopSession() {
  const { session } = (await call("POST", "/stop", flag("heap") ? { heapSnapshot: true } : {})) as {
    session: Finished;
  };
  await printFinished(session);
}

/** A session around 10 s of wrk load on GET /tokens as test-user-001 (what Kong would forward). */
async function loadTest() {
  await call("GET", "/status");
  await ensureWrk();
  const seconds = Number(option("seconds") ?? 10);
  const consumer = TEST_CONSUMERS[0];
  if (!consumer) fail("no test consumer defined");
  await startSession();
  let load: Awaited<ReturnType<typeof runWrk>> | undefined;
  try {
    console.log(`wrk: ${seconds} s of GET ${base}/tokens as ${consumer.username}…`);
    load = await runWrk({
      url: `${base}/tokens`,
      connections: 32,
      threads: 2,
      durationSeconds: seconds,
      headers: { "X-Consumer-ID": consumer.id, "X-Consumer-Username": consumer.username },
    });
  } finally {
    await stopSession();
  }
  console.log(
    `Load: ${Math.round(load.requestsPerSecond)} req/s, p50 ${load.p50Ms.toFixed(2)} ms, p99 ${load.p99Ms.toFixed(2)} ms, ` +
      `${load.non2xx} non-2xx, ${load.socketErrors} socket errors (numbers include the profiler's overhead).`,
  );
}

/** The specification's profile:k6: a session around k6's tokens smoke suite, run as `bun run k6:smoke:tokens` runs it. */
async function k6() {
  if (!Bun.which("k6")) {
    fail(
      "profile:k6 needs k6, which is not installed; profile:load-test records the same kind of session under wrk.",
    );
  }
  await call("GET", "/status");
  const target = new URL(base);
  await startSession();
  let exitCode = 1;
  try {
    const suite = ["test/k6/smoke/tokens-only-smoke.ts", "test/results/k6/profile-tokens-smoke.json", "true"];
    exitCode = await Bun.spawn(["bash", "scripts/run-k6.sh", ...suite], {
      cwd: new URL("..", import.meta.url).pathname,
      env: {
        ...process.env,
        TARGET_PROTOCOL: target.protocol.replace(":", ""),
        TARGET_HOST: target.hostname,
        TARGET_PORT: target.port || (target.protocol === "https:" ? "443" : "80"),
      },
      stdio: ["inherit", "inherit", "inherit"],
    }).exited;
  } finally {
    await stopSession();
  }
  if (exitCode !== 0) fail(`k6 exited with ${exitCode}`);
}

const commands: Record<string, () => Promise<void>> = {
  async status() {
    console.log(JSON.stringify(await call("GET", "/status"), null, 2));
  },
  async "start-session"() {
    await startSession();
  },
  "stop-session": stopSession,
  async reports() {
    const { reports } = (await call("GET", "/reports")) as { reports: Artifact[] };
    if (reports.length === 0) console.log("No reports.");
    else await printArtifacts(reports);
  },
  async clean() {
    const { deleted, freedBytes } = (await call("POST", "/cleanup")) as {
      deleted: string[];
      freedBytes: number;
    };
    console.log(`Deleted ${deleted.length} artifacts (${mib(freedBytes)}).`);
  },
  "load-test": loadTest,
  k6,
  async help() {
    console.log(
      (await Bun.file(import.meta.path).text()).match(/\/\*\*([\s\S]*?)\*\//)?.[1]?.replace(/^ \* ?/gm, "") ??
        "",
    );
  },
};

const run = commands[command];
if (!run) fail(`Unknown command ${command}. Commands: ${Object.keys(commands).join(", ")}`);
await run();
