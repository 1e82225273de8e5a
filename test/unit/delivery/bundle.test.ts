import { afterAll, beforeAll, describe, expect, test } from "bun:test";
import { cpSync, mkdtempSync, readdirSync, readFileSync, rmSync, statSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { buildExecutable } from "../../../scripts/build.ts";
import { smokeTestBundle } from "../../../scripts/bundle-smoke.ts";
import { KongEmulator } from "../../support/kong-emulator.ts";
import { verifyToken } from "../../support/kong-jwt-verifier.ts";
import { freePort } from "../../support/process.ts";
import { REDIS_URL, uniquePrefix } from "../../support/redis.ts";
import { jwkSet, privateJwk } from "../../support/service-keys.ts";
import { waitFor } from "../../support/wait.ts";
import { ROOT } from "./support/repo.ts";

/**
 * The image ships a standalone executable instead of node_modules (see the Dockerfile's header):
 * these build it as the Dockerfile does (scripts/build.ts, which dockerfile.test.ts finds there) and
 * prove it works with no node_modules, and no Bun, beside it.
 */
const outdir = mkdtempSync(join(tmpdir(), "delivery-bundle-"));
const isolated = mkdtempSync(join(tmpdir(), "delivery-bundle-run-"));
const executable = join(outdir, "server");
let buildError = "";

beforeAll(async () => {
  try {
    await buildExecutable(ROOT, executable);
    cpSync(outdir, isolated, { recursive: true });
  } catch (error) {
    buildError = String(error);
  }
}, 60_000);

afterAll(() => {
  rmSync(outdir, { recursive: true, force: true });
  rmSync(isolated, { recursive: true, force: true });
});

/**
 * The shipped executable started alone from its folder, with `env` over what every run here needs:
 * no Bun on its PATH.
 */
async function startBundle(env: Record<string, string>) {
  const port = await freePort();
  const child = Bun.spawn([join(isolated, "server")], {
    cwd: isolated,
    env: {
      PATH: "/usr/bin:/bin",
      NODE_ENV: "development",
      HOST: "127.0.0.1",
      PORT: String(port),
      KONG_JWT_AUTHORITY: "https://sts.example.com/",
      KONG_JWT_AUDIENCE: "x",
      // No balancer sends here: stop without the drain window.
      SHUTDOWN_DRAIN_MS: "0",
      ...env,
    },
    stdout: "pipe",
    stderr: "pipe",
  });
  return { child, url: `http://127.0.0.1:${port}` };
}

/** Resolves once the bundle answers its liveness probe (fails the test after 10 s). */
function listening(url: string) {
  const live = () =>
    fetch(`${url}/health/live`).then(
      (response) => response.ok,
      () => false,
    );
  return waitFor(live, "the bundle to listen", 10_000);
}

describe("the executable the image ships", () => {
  test("is one self-contained executable file built from src/server.ts", () => {
    expect(buildError).toBe("");
    // The runtime stage copies the folder; a second file would mean code the smoke test never ran.
    expect(readdirSync(outdir)).toEqual(["server"]);
    expect(statSync(executable).mode & 0o111).toBe(0o111);
    // An ELF file: Bun's runtime with the service inside, not a script that needs an interpreter.
    expect([...readFileSync(executable).subarray(0, 4)]).toEqual([0x7f, 0x45, 0x4c, 0x46]);
  });

  test("starts without node_modules, answers the probes and exits 0 on SIGTERM", async () => {
    const result = await smokeTestBundle(executable);
    expect(result.live, result.output).toBe(200);
    expect(result.ready, result.output).toBe(200);
    expect(result.exitCode, result.output).toBe(0);
  }, 30_000);

  test("takes its configuration from the environment alone: a .env or bunfig.toml beside it is ignored", async () => {
    // Either file, if read, would stop the service: an invalid TELEMETRY_MODE, a preload that throws.
    writeFileSync(join(isolated, ".env"), "TELEMETRY_MODE=not-a-mode\n");
    writeFileSync(join(isolated, "bunfig.toml"), 'preload = ["./missing-preload.ts"]\n');
    // Liveness does not ask Kong, so no Kong answers here.
    const { child, url } = await startBundle({ KONG_ADMIN_URL: "http://127.0.0.1:9" });
    try {
      await listening(url);
      child.kill("SIGTERM");
      expect(await child.exited).toBe(0);
    } finally {
      if (child.exitCode === null) child.kill("SIGKILL");
      rmSync(join(isolated, ".env"), { force: true });
      rmSync(join(isolated, "bunfig.toml"), { force: true });
    }
  }, 30_000);

  test("reads NODE_ENV when it runs, as the source does: in production, stdout is ECS JSON even with DEBUG=*", async () => {
    // Bun inlines process.env.NODE_ENV as "development" into a bundle unless told otherwise; winston's
    // debug helper then picks its development build, which prints DEBUG's lines into the log stream.
    const { child, url } = await startBundle({
      NODE_ENV: "production",
      DEBUG: "*",
      LOG_LEVEL: "info",
      // Never called: only liveness is asked, which does not depend on Kong.
      KONG_ADMIN_URL: "https://kong.invalid:8444",
      KONG_ADMIN_TOKEN: crypto.randomUUID() + crypto.randomUUID(),
      KONG_JWT_AUDIENCE: "https://api.example.com/",
      TRUSTED_GATEWAY_SECRET: Buffer.from(crypto.getRandomValues(new Uint8Array(32))).toString("base64"),
    });
    const output = Promise.all([new Response(child.stdout).text(), new Response(child.stderr).text()]);
    try {
      await listening(url);
      child.kill("SIGTERM");
      expect(await child.exited).toBe(0);
      const [stdout, stderr] = await output;
      const lines = stdout.trim().split("\n");
      expect(stderr).toBe("");
      expect(lines.filter((line) => !line.startsWith("{"))).toEqual([]);
      expect(lines.map((line) => JSON.parse(line).event?.action)).toEqual(["started", "shutdown", "stopped"]);
    } finally {
      if (child.exitCode === null) child.kill("SIGKILL");
    }
  }, 30_000);

  test("exports traces, metrics and logs over OTLP with the bundled OpenTelemetry SDK", async () => {
    const received = new Set<string>();
    const collector = Bun.serve({
      hostname: "127.0.0.1",
      port: 0,
      async fetch(request) {
        received.add(new URL(request.url).pathname);
        await request.arrayBuffer();
        return Response.json({});
      },
    });
    const kong = Bun.serve({
      hostname: "127.0.0.1",
      port: 0,
      fetch: () => Response.json({ database: { reachable: true }, server: {} }),
    });
    const { child, url } = await startBundle({
      KONG_ADMIN_URL: `http://127.0.0.1:${kong.port}`,
      TELEMETRY_MODE: "otlp",
      OTEL_EXPORTER_OTLP_ENDPOINT: `http://127.0.0.1:${collector.port}`,
      OTEL_METRIC_EXPORT_INTERVAL: "1000",
    });
    try {
      // Requests make spans, log lines and metrics; the periodic metric export comes within a second,
      // and SIGTERM must flush whatever the batch processors still hold before the process exits.
      const deadline = Date.now() + 10_000;
      while (Date.now() < deadline && !received.has("/v1/metrics")) {
        await fetch(`${url}/health`).then(
          (response) => response.body?.cancel(),
          () => undefined,
        );
        await Bun.sleep(250);
      }
      child.kill("SIGTERM");
      const exitCode = await child.exited;
      // The process's own words when it did not exit cleanly (it may have failed to start).
      expect({ exitCode, stderr: exitCode === 0 ? "" : await new Response(child.stderr).text() }).toEqual({
        exitCode: 0,
        stderr: "",
      });
      expect([...received].sort()).toEqual(expect.arrayContaining(["/v1/logs", "/v1/metrics", "/v1/traces"]));
    } finally {
      if (child.exitCode === null) child.kill("SIGKILL");
      collector.stop(true);
      kong.stop(true);
    }
  }, 30_000);

  test("loads what start-up leaves out when first asked: the Redis client, Prometheus exposition, YAML", async () => {
    // Each sits in a chunk of its own (scripts/build.ts), imported at its first use, not at start.
    const emulator = KongEmulator.start();
    const { child, url } = await startBundle({
      KONG_ADMIN_URL: emulator.adminUrl,
      REDIS_ENABLED: "true",
      REDIS_URL,
      REDIS_KEY_PREFIX: uniquePrefix("bundle"),
      LOG_LEVEL: "warn",
    });
    try {
      await listening(url);
      const redisHealthy = async () => {
        const health = (await (await fetch(`${url}/health`)).json()) as {
          dependencies: { redis?: { status: string } };
        };
        return health.dependencies.redis?.status === "healthy";
      };
      await waitFor(redisHealthy, "the executable to connect to Redis", 10_000);
      const metrics = await fetch(`${url}/metrics`, { headers: { accept: "text/plain" } });
      expect(metrics.status).toBe(200);
      expect(await metrics.text()).toMatch(/^# (HELP|TYPE) /m);
      const yaml = await fetch(`${url}/?format=yaml`);
      expect(yaml.headers.get("content-type")).toBe("application/yaml");
      expect(await yaml.text()).toMatch(/^openapi: 3\./m);
      child.kill("SIGTERM");
      expect(await child.exited).toBe(0);
    } finally {
      if (child.exitCode === null) child.kill("SIGKILL");
      await emulator.stop();
    }
  }, 30_000);

  test("signs with a service key read from its file, on one signing worker per core it may use, and Kong accepts the token", async () => {
    // The key file, node:crypto's key parsing and the CPU quota's files are read through modules
    // start-up does not import (test/unit/delivery/start-up-graph.test.ts): required when needed.
    const emulator = KongEmulator.start();
    const consumer = emulator.addConsumer({ username: "bundle-keys" });
    const keyFile = join(isolated, "service-keys.json");
    writeFileSync(keyFile, jwkSet(privateJwk("EdDSA", "bundle-ed")));
    const { child, url } = await startBundle({
      KONG_ADMIN_URL: emulator.adminUrl,
      SIGNING_MODE: "service-keys",
      SERVICE_KEYS_JWKS_FILE: keyFile,
      LOG_LEVEL: "warn",
    });
    try {
      await listening(url);
      const headers = { "x-consumer-id": consumer.id, "x-consumer-username": "bundle-keys" };
      const answers = await Promise.all(Array.from({ length: 8 }, () => fetch(`${url}/tokens`, { headers })));
      expect(answers.map((answer) => answer.status)).toEqual(Array(8).fill(200));
      for (const answer of answers) {
        const { access_token } = (await answer.json()) as { access_token: string };
        const verdict = await verifyToken(access_token, { key_claim_name: "key" }, emulator);
        expect(verdict.ok).toBe(true);
      }
      child.kill("SIGTERM");
      expect(await child.exited).toBe(0);
      // A worker that could not start would have its tokens signed here, and say so.
      expect(await new Response(child.stdout).text()).not.toMatch(/signing worker/i);
    } finally {
      if (child.exitCode === null) child.kill("SIGKILL");
      await emulator.stop();
    }
  }, 30_000);
});
