import { afterEach, describe, expect, test } from "bun:test";
import { KongEmulator } from "../support/kong-emulator.ts";
import { answers, freePort, type SpawnedScript, spawnScript, spawnService } from "../support/process.ts";
import { waitFor } from "../support/wait.ts";

const SECRETS = {
  KONG_ADMIN_TOKEN: "process-admin-token-0123456789abcdefghij",
  TRUSTED_GATEWAY_SECRET: "process-gateway-secret-0123456789abcdef",
  DEBUG_TOKEN: "process-debug-token-0123456789",
  REDIS_PASSWORD: "process-redis-password-0123",
  CACHE_ENCRYPTION_KEY: Buffer.from(crypto.getRandomValues(new Uint8Array(32))).toString("base64"),
};

const cleanups: (() => Promise<unknown> | unknown)[] = [];
afterEach(async () => {
  for (const cleanup of cleanups.splice(0).reverse()) await cleanup();
});

function killedAfterTest(spawned: SpawnedScript): SpawnedScript {
  cleanups.push(() => spawned.kill());
  return spawned;
}

describe("the service as a process", () => {
  test("a bad configuration: exit 1, every problem named once, no stack trace, no secret", async () => {
    const { child, output, drained } = killedAfterTest(
      spawnScript("src/server.ts", {
        NODE_ENV: "production",
        KONG_ADMIN_URL: "http://localhost:8001",
        KONG_ADMIN_TOKEN: "short-but-secret-value",
        JWT_EXPIRATION_MINUTES: "500",
        CACHE_ENCRYPTION_KEY: "bm90LTMyLWJ5dGVz",
      }),
    );
    expect(await child.exited).toBe(1);
    await drained;
    expect(output.stderr).toContain("Invalid configuration:");
    for (const name of [
      "KONG_ADMIN_URL",
      "KONG_ADMIN_TOKEN",
      "KONG_JWT_AUTHORITY",
      "JWT_EXPIRATION_MINUTES",
      "CACHE_ENCRYPTION_KEY",
      "TRUSTED_GATEWAY_SECRET",
    ]) {
      expect(output.stderr).toContain(`  - ${name}:`);
    }
    expect(output.stderr).not.toContain("short-but-secret-value");
    expect(output.stderr).not.toContain("bm90LTMyLWJ5dGVz");
    expect(output.stderr).not.toMatch(/\n\s+at /);
  });

  test("starts, serves, drains in-flight requests on SIGTERM, exits 0, and never logs a secret", async () => {
    const emulator = KongEmulator.start({ adminToken: SECRETS.KONG_ADMIN_TOKEN });
    cleanups.push(() => emulator.stop());
    const port = await freePort();
    const service = killedAfterTest(
      spawnService(port, emulator.adminUrl, {
        LOG_LEVEL: "debug",
        // Budgets far over the slow request's three 400 ms Kong calls: on a loaded machine one call
        // overran the default 500 ms breaker budget (a 503), and the drain must not cut it either.
        CIRCUIT_BREAKER_TIMEOUT: "5000",
        SHUTDOWN_TIMEOUT_MS: "10000",
        // Shorter than the slow request below, so it is still running when the listener closes.
        SHUTDOWN_DRAIN_MS: "100",
        ...SECRETS,
      }),
    );
    const { child, output, drained } = service;
    const base = `http://127.0.0.1:${port}`;
    await waitFor(() => answers(`${base}/health/live`), "the service to listen", 4_000, service);

    const consumer = emulator.addConsumer({ username: "draining" });
    const headers = {
      "x-consumer-id": consumer.id,
      "x-consumer-username": "draining",
      "x-gateway-secret": SECRETS.TRUSTED_GATEWAY_SECRET,
    };
    const first = await fetch(`${base}/tokens`, { headers });
    expect(first.status).toBe(200);
    const token = ((await first.json()) as { access_token: string }).access_token;

    // A request that is still talking to Kong when SIGTERM arrives must be allowed to finish.
    const slow = emulator.addConsumer({ username: "slow" });
    emulator.setLatency(400);
    const inFlight = fetch(`${base}/tokens`, {
      headers: { ...headers, "x-consumer-id": slow.id, "x-consumer-username": "slow" },
    });
    await waitFor(
      () => emulator.calls.some((call) => call.path.includes(slow.id)),
      "the slow request to reach Kong",
      4_000,
      service,
    );
    child.kill("SIGTERM");
    const late = await inFlight;
    expect(late.status).toBe(200);
    expect(await child.exited).toBe(0);
    await drained;

    expect(output.stdout).toContain('"message":"Listening on');
    expect(output.stdout).toContain('"message":"Shutting down"');
    expect(output.stdout).toContain('"message":"Stopped"');
    const everything = output.stdout + output.stderr;
    for (const [name, value] of Object.entries(SECRETS)) expect(everything, name).not.toContain(value);
    expect(everything).not.toContain(token);
    for (const credential of emulator.credentialsOf(consumer.id))
      expect(everything).not.toContain(credential.secret);
  }, 20_000);
});
