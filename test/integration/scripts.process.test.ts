import { afterAll, afterEach, beforeAll, describe, expect, test } from "bun:test";
import {
  existsSync,
  mkdirSync,
  mkdtempSync,
  readFileSync,
  rmSync,
  symlinkSync,
  writeFileSync,
} from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { KongEmulator } from "../support/kong-emulator.ts";
import { answers, freePort } from "../support/process.ts";
import { deletePrefix, REDIS_URL, redisClient, uniquePrefix } from "../support/redis.ts";
import { waitFor } from "../support/wait.ts";

/**
 * The scripts issue 17 takes from the specification: each is a package.json script or is listed in
 * docs/testing.md as not provided, with its reason; those that can run here are run.
 */
const ROOT = new URL("../../", import.meta.url).pathname;
// By its path: some tests give the scripts a PATH without it.
const BASH = Bun.which("bash") as string;
const SPECIFICATION_SCRIPTS = [
  "biome:check",
  "biome:check:write",
  "biome:check:unsafe",
  "bun:test",
  "bun:test:watch",
  "bun:test:coverage",
  "test:clean",
  "dev:development",
  "dev:staging",
  "dev:production",
  "dev:clean",
  "kill-server",
  "docker:build",
  "health-check",
  "generate-docs:verbose",
  "playwright:test",
  "playwright:ui",
  "profile:dev",
  "profile:k6",
  "redis:setup",
  "redis:remove",
  "redis:restart",
  "redis:logs",
  "redis:stats",
  "redis:bigkeys",
  "redis:memkeys",
  "redis:scan:auth",
];
const PACKAGE_SCRIPTS = (
  JSON.parse(readFileSync(join(ROOT, "package.json"), "utf8")) as { scripts: Record<string, string> }
).scripts;
const SECTION =
  readFileSync(join(ROOT, "docs/testing.md"), "utf8")
    .split(/^## Scripts the specification names$/m)[1]
    ?.split(/^## /m)[0] ?? "";

interface Run {
  exitCode: number;
  stdout: string;
  stderr: string;
}

/** `command` in the repository with only `env` (and PATH, HOME unless given); its output once it exits. */
async function run(command: string[], env: Record<string, string> = {}): Promise<Run> {
  const child = Bun.spawn(command, {
    cwd: ROOT,
    env: { PATH: process.env.PATH ?? "", HOME: process.env.HOME ?? "", ...env },
    stdin: "ignore",
    stdout: "pipe",
    stderr: "pipe",
  });
  const [stdout, stderr, exitCode] = await Promise.all([
    new Response(child.stdout).text(),
    new Response(child.stderr).text(),
    child.exited,
  ]);
  return { exitCode, stdout, stderr };
}

/** A directory for PATH holding only links to `tools` (and, for each stub, an executable script). */
function pathWith(tools: string[], stubs: Record<string, string> = {}): string {
  const dir = mkdtempSync(join(tmpdir(), "scripts-path-"));
  cleanups.push(() => rmSync(dir, { recursive: true, force: true }));
  for (const tool of tools) symlinkSync(Bun.which(tool) as string, join(dir, tool));
  for (const [name, body] of Object.entries(stubs))
    writeFileSync(join(dir, name), `#!/bin/sh\n${body}\n`, { mode: 0o755 });
  return dir;
}

const cleanups: (() => unknown)[] = [];
afterEach(async () => {
  for (const cleanup of cleanups.splice(0).reverse()) await cleanup();
});

describe("every script the specification names", () => {
  const notProvided = [...SECTION.matchAll(/^- `([^`]+)`: (\S.*)$/gm)].map((match) => match[1]);
  const documented = new Set(
    SECTION.split("\n")
      .filter((line) => line.startsWith("| `"))
      .flatMap((line) => [...(line.split("|")[1] ?? "").matchAll(/`([^`]+)`/g)].map((match) => match[1])),
  );

  test("is a package.json script or is listed in docs/testing.md as not provided, with a reason", () => {
    expect(notProvided).toEqual(["redis:remove"]);
    for (const name of notProvided) expect(PACKAGE_SCRIPTS[name as string]).toBeUndefined();
    expect(
      SPECIFICATION_SCRIPTS.filter((name) => !PACKAGE_SCRIPTS[name] && !notProvided.includes(name)),
    ).toEqual([]);
  });

  test("has a row in docs/testing.md, and every row names a script package.json has", () => {
    const provided = SPECIFICATION_SCRIPTS.filter((name) => !notProvided.includes(name));
    expect(provided.filter((name) => !documented.has(name))).toEqual([]);
    expect([...documented].filter((name) => !PACKAGE_SCRIPTS[name as string])).toEqual([]);
  });

  test("runs a file of this repository where it names one", () => {
    const files = SPECIFICATION_SCRIPTS.flatMap(
      (name) => PACKAGE_SCRIPTS[name]?.match(/scripts\/[\w./-]+/g) ?? [],
    );
    expect(files.length).toBeGreaterThan(5);
    expect(files.filter((file) => !existsSync(join(ROOT, file)))).toEqual([]);
  });
});

describe("dev:development, health-check and kill-server", () => {
  test("the service starts in development, answers the health check, and kill-server stops it with SIGTERM", async () => {
    const emulator = KongEmulator.start();
    cleanups.push(() => emulator.stop());
    const port = String(await freePort());
    const env = {
      PORT: port,
      HOST: "127.0.0.1",
      LOG_LEVEL: "warn",
      KONG_ADMIN_URL: emulator.adminUrl,
      KONG_JWT_AUTHORITY: "https://sts.example.com/",
      KONG_JWT_AUDIENCE: "https://api.example.com/",
      SHUTDOWN_DRAIN_MS: "0",
    };
    const dev = Bun.spawn(["bun", "run", "dev:development"], {
      cwd: ROOT,
      env: { PATH: process.env.PATH ?? "", HOME: process.env.HOME ?? "", ...env },
      stdio: ["ignore", "ignore", "ignore"],
    });
    // Whatever happens, nothing is left listening on the test's port.
    cleanups.push(() => run(["bun", "run", "kill-server"], { PORT: port, KILL_SERVER_GRACE_MS: "2000" }));
    await waitFor(() => answers(`http://127.0.0.1:${port}/health/live`), "dev:development to listen", 15_000);

    const health = await run(["bun", "run", "health-check"], {
      HEALTH_CHECK_URL: `http://127.0.0.1:${port}`,
    });
    expect(health.exitCode).toBe(0);
    expect(health.stdout).toContain(`http://127.0.0.1:${port}/health answered 200`);
    expect(health.stdout).toContain('"status": "healthy"');
    const environment = (await (await fetch(`http://127.0.0.1:${port}/health`)).json()) as {
      environment?: string;
    };
    expect(environment.environment).toBe("development");

    const kill = await run(["bun", "run", "kill-server"], { PORT: port });
    expect(kill.exitCode).toBe(0);
    expect(kill.stdout).toMatch(
      new RegExp(`Stopping \\d+ \\(.*src/server\\.ts.*\\) on port ${port} with SIGTERM`),
    );
    expect(kill.stdout).not.toContain("SIGKILL");
    expect(await dev.exited).toBe(0);
    expect(await answers(`http://127.0.0.1:${port}/health/live`)).toBe(false);
  }, 40_000);

  test("health-check fails, saying how to start the service, when nothing answers", async () => {
    const health = await run(["bun", "run", "health-check"], { PORT: String(await freePort()) });
    expect(health.exitCode).toBe(1);
    expect(health.stderr).toContain("Start the service: bun run dev, or bun run local");
  });

  test("kill-server sends SIGKILL to a listener that ignores SIGTERM, and says a free port is free", async () => {
    const port = String(await freePort());
    const stubborn = Bun.spawn(
      [
        "bun",
        "-e",
        `process.on("SIGTERM", () => {}); Bun.serve({ hostname: "127.0.0.1", port: ${port}, fetch: () => new Response("up") });`,
      ],
      { stdio: ["ignore", "ignore", "ignore"] },
    );
    cleanups.push(() => stubborn.kill("SIGKILL"));
    await waitFor(() => answers(`http://127.0.0.1:${port}/`), "the stubborn listener");
    const kill = await run(["bun", "run", "kill-server"], { PORT: port, KILL_SERVER_GRACE_MS: "300" });
    expect(kill.exitCode).toBe(0);
    expect(kill.stdout).toContain(`${stubborn.pid} still running after 300 ms: SIGKILL`);
    await stubborn.exited;
    expect(stubborn.signalCode).toBe("SIGKILL");

    const again = await run(["bun", "run", "kill-server"], { PORT: port });
    expect(again).toMatchObject({
      exitCode: 0,
      stdout: expect.stringContaining(`Nothing listens on port ${port}.`),
    });
  }, 20_000);
});

test("dev:production and dev:staging apply their environment's rules", async () => {
  const env = {
    KONG_ADMIN_URL: "http://kong-admin:8001",
    KONG_JWT_AUTHORITY: "https://sts.example.com/",
    KONG_JWT_AUDIENCE: "https://api.example.com/",
    PROFILING_ENABLED: "true",
  };
  const production = await run(["bun", "run", "dev:production"], env);
  expect(production.exitCode).toBe(1);
  expect(production.stderr).toContain("KONG_ADMIN_URL: must use https in production");
  expect(production.stderr).toContain("PROFILING_ENABLED: must be false in production");
  const staging = await run(["bun", "run", "dev:staging"], env);
  expect(staging.exitCode).toBe(1);
  expect(staging.stderr).toContain("DEBUG_TOKEN: is required with PROFILING_ENABLED=true");
  expect(staging.stderr).not.toContain("must use https in production");
}, 20_000);

describe("the redis scripts against the test Redis", () => {
  const prefix = uniquePrefix("scripts");
  const env = { REDIS_URL, REDIS_KEY_PREFIX: prefix };
  beforeAll(async () => {
    const client = await redisClient();
    await client.set(`${prefix}:credential:one`, "x".repeat(200), { PX: 60_000 });
    await client.close();
  });
  afterAll(() => deletePrefix(prefix));

  test("redis:stats prints a line a second with this service's key count, and stops after the count given", async () => {
    const stats = await run(["bun", "run", "redis:stats", "2"], env);
    expect(stats.exitCode).toBe(0);
    const lines = stats.stdout.trim().split("\n");
    expect(lines).toHaveLength(3);
    expect(lines[0]).toMatch(
      new RegExp(`^time +clients +memory +ops/sec +hits +misses +keys\\(${prefix}\\)$`),
    );
    for (const line of lines.slice(1))
      expect(line).toMatch(/^\d\d:\d\d:\d\d +\d+ +[\d.]+[BKMG] +\d+ +\d+ +\d+ +1$/);
  }, 15_000);

  test("redis:scan:auth, redis:bigkeys and redis:memkeys look at this service's keys only", async () => {
    const scan = await run(["bun", "run", "redis:scan:auth"], env);
    expect(scan.stdout).toMatch(new RegExp(`^${prefix}:credential:one\\t\\d+ ms$`, "m"));
    for (const script of ["redis:bigkeys", "redis:memkeys"]) {
      const analysis = await run(["bun", "run", script], env);
      expect(analysis.exitCode).toBe(0);
      expect(analysis.stdout).toContain("Sampled 1 keys in the keyspace!");
      expect(analysis.stdout).toContain(`${prefix}:credential:one`);
    }
  }, 15_000);

  test("redis:stats says so when Redis does not answer", async () => {
    const stats = await run(["bun", "run", "redis:stats", "1"], {
      REDIS_URL: `redis://127.0.0.1:${await freePort()}`,
    });
    expect(stats.exitCode).toBe(1);
    expect(stats.stderr).toContain("Redis is not answering on redis://127.0.0.1:");
  });
});

test("redis:setup starts a Redis of its own, redis:logs shows its log, redis:restart starts it afresh, redis:stop stops it", async () => {
  const tmp = mkdtempSync(join(tmpdir(), "scripts-redis-"));
  const port = await freePort();
  const env = { REDIS_URL: `redis://127.0.0.1:${port}`, TMPDIR: tmp };
  cleanups.push(async () => {
    await run(["bun", "run", "redis:stop"], env);
    rmSync(tmp, { recursive: true, force: true });
  });

  const setup = await run(["bun", "run", "redis:setup"], env);
  expect(setup.exitCode).toBe(0);
  expect(setup.stdout).toContain(`Redis started on redis://127.0.0.1:${port}`);
  const client = await redisClient(env.REDIS_URL);
  await client.set("left-behind", "1");
  await client.close();

  const logs = Bun.spawn(["bash", "scripts/redis.sh", "logs"], {
    cwd: ROOT,
    env: { ...process.env, ...env },
    stdout: "pipe",
  });
  cleanups.push(() => logs.kill("SIGKILL"));
  let logged = "";
  const reader = (async () => {
    for await (const chunk of logs.stdout) logged += new TextDecoder().decode(chunk);
  })();
  await waitFor(() => logged.includes("Ready to accept connections"), "redis:logs to show the start-up");
  logs.kill("SIGKILL");
  await reader;

  const restart = await run(["bun", "run", "redis:restart"], env);
  expect(restart.stdout).toContain(`Redis on port ${port} stopped`);
  expect(restart.stdout).toContain(`Redis started on redis://127.0.0.1:${port}`);
  const fresh = await redisClient(env.REDIS_URL);
  expect(await fresh.get("left-behind")).toBeNull();
  await fresh.close();

  expect((await run(["bun", "run", "redis:stop"], env)).stdout).toContain(`Redis on port ${port} stopped`);
  const logsAfter = await run(["bash", "scripts/redis.sh", "logs"], {
    ...env,
    TMPDIR: mkdtempSync(join(tmp, "other-")),
  });
  expect(logsAfter.exitCode).toBe(1);
  expect(logsAfter.stderr).toContain("this Redis was not started by redis:start");
}, 30_000);

test("test:clean removes the test results and keeps the mutation reports", async () => {
  const root = mkdtempSync(join(tmpdir(), "scripts-clean-"));
  cleanups.push(() => rmSync(root, { recursive: true, force: true }));
  for (const dir of ["test/results/k6", "playwright-report", "reports/test-under-load", "reports/mutation"]) {
    mkdirSync(join(root, dir), { recursive: true });
    writeFileSync(join(root, dir, "result.json"), "{}");
  }
  const clean = await run(["bun", "run", "test:clean", "--root", root]);
  expect(clean.exitCode).toBe(0);
  expect(clean.stdout).toContain("removed test/results");
  expect(clean.stdout).toContain("absent  coverage");
  for (const dir of ["test/results", "playwright-report", "reports/test-under-load"]) {
    expect(existsSync(join(root, dir))).toBe(false);
  }
  expect(existsSync(join(root, "reports/mutation/result.json"))).toBe(true);
});

test("generate-docs:verbose writes the documents and lists every operation with its answers", async () => {
  const dir = mkdtempSync(join(tmpdir(), "scripts-docs-"));
  cleanups.push(() => rmSync(dir, { recursive: true, force: true }));
  const first = await run(["bun", "run", "generate-docs:verbose", "--dir", dir]);
  expect(first.exitCode).toBe(0);
  expect(first.stdout).toContain(`wrote ${dir}/openapi.json`);
  expect(first.stdout).toMatch(/^GET +\/tokens +200 401 /m);
  const second = await run(["bun", "run", "generate-docs:verbose", "--dir", dir]);
  expect(second.stdout).toContain(`unchanged ${dir}/openapi.yaml`);
}, 20_000);

describe("scripts that need Docker or k6 say which is missing and fail", () => {
  test("docker:build without docker, and with docker but no daemon", async () => {
    const missing = await run([BASH, "scripts/docker-build.sh"], { PATH: pathWith(["dirname"]) });
    expect(missing.exitCode).toBe(127);
    expect(missing.stderr).toContain("docker:build needs Docker, and docker is not installed");
    const noDaemon = await run([BASH, "scripts/docker-build.sh"], {
      PATH: pathWith(["dirname"], { docker: "exit 1" }),
    });
    expect(noDaemon.exitCode).toBe(1);
    expect(noDaemon.stderr).toContain("needs a running Docker daemon, and none answers");
  });

  test("docker:build builds the Dockerfile under the compose file's tag", async () => {
    const calls = join(mkdtempSync(join(tmpdir(), "scripts-docker-")), "calls");
    const built = await run([BASH, "scripts/docker-build.sh", "--pull"], {
      PATH: pathWith(["dirname"], { docker: `echo "$@" >> ${calls}` }),
    });
    expect(built.exitCode).toBe(0);
    expect(readFileSync(calls, "utf8")).toBe("info\nbuild -t kong-auth-service:local --pull .\n");
  });

  test("profile:k6 without k6", async () => {
    const profile = await run(["bun", "scripts/profile.ts", "k6"], { PATH: pathWith(["bun"]) });
    expect(profile.exitCode).toBe(1);
    expect(profile.stderr).toContain("profile:k6 needs k6, which is not installed");
  });
});
