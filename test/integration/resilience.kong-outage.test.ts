import { afterEach, describe, expect, test } from "bun:test";
import { manualClock } from "../support/clock.ts";
import { verifyToken } from "../support/kong-jwt-verifier.ts";
import { type Stack, startStack } from "../support/stack.ts";
import { waitFor } from "../support/wait.ts";

const PLUGIN = { key_claim_name: "key", claims_to_verify: ["exp", "nbf"] as ("exp" | "nbf")[] };
const ENV = {
  CACHE_TTL_SECONDS: "60",
  STALE_DATA_TOLERANCE_MINUTES: "10",
  // Clear of a loaded machine's slow answers (at 200/150 ms a first request could time out into a 503).
  CIRCUIT_BREAKER_TIMEOUT: "1000",
  CIRCUIT_BREAKER_RESET_TIMEOUT: "1000",
  KONG_CONNECTION_TIMEOUT: "800",
  LOG_LEVEL: "info",
};

let stack: Stack | undefined;
afterEach(async () => {
  await stack?.stop();
  stack = undefined;
});

async function setup(env: Record<string, string> = {}) {
  const clock = manualClock();
  stack = await startStack({ env: { ...ENV, ...env }, now: clock.now });
  const consumer = stack.emulator.addConsumer({ username: "outage" });
  const credential = stack.emulator.addCredential(consumer.id);
  return { stack, clock, consumer, credential };
}

/** The key Kong would find the token's credential by, verified at the service's (manual) time. */
async function tokenKey(response: Response, s: Stack, nowMs: number): Promise<string> {
  expect(response.status).toBe(200);
  const { access_token } = (await response.json()) as { access_token: string };
  const verdict = await verifyToken(access_token, PLUGIN, s.emulator, Math.floor(nowMs / 1000));
  if (!verdict.ok) throw new Error(verdict.message);
  return verdict.credential.key;
}

async function keyClaimOf(response: Response): Promise<unknown> {
  expect(response.status).toBe(200);
  const { access_token } = (await response.json()) as { access_token: string };
  const payload = access_token.split(".")[1] as string;
  return JSON.parse(Buffer.from(payload, "base64url").toString()).key;
}

describe("Kong outages never become 401s", () => {
  test("a cached consumer is served with no Kong call while Kong is down", async () => {
    const { stack, consumer } = await setup();
    expect((await stack.tokens(consumer)).status).toBe(200);
    stack.emulator.inject({ status: 503 });
    stack.emulator.resetCalls();
    for (let i = 0; i < 5; i++) expect((await stack.tokens(consumer)).status).toBe(200);
    expect(stack.emulator.calls).toHaveLength(0);
  });

  test("a consumer with a stale copy gets a token signed with it, and the fallback is logged", async () => {
    const { stack, clock, consumer, credential } = await setup();
    expect((await stack.tokens(consumer)).status).toBe(200);
    clock.advance(61_000);
    stack.emulator.inject({ status: 500 });
    const response = await stack.tokens(consumer);
    expect(await tokenKey(response, stack, clock.now())).toBe(credential.key);
    expect(stack.logs.text).toContain("signing with a stale credential");
    const metrics = (await (await stack.fetch("/metrics")).json()) as { cache: { staleFallbacks: number } };
    expect(metrics.cache.staleFallbacks).toBe(1);
  });

  test("a consumer with no copy gets 503 and Retry-After instead of waiting on a hung Kong", async () => {
    // No call here needs an answer, so the budget can be short; the others' would not clear a loaded machine.
    const { stack, consumer } = await setup({
      CIRCUIT_BREAKER_TIMEOUT: "200",
      KONG_CONNECTION_TIMEOUT: "150",
    });
    stack.emulator.inject({ hang: true });
    const started = performance.now();
    const response = await stack.tokens(consumer);
    // The budget is 200 ms; a request held by the hung Kong would only end with the test's timeout.
    // The bound is loose on purpose: the machine is shared and slow.
    expect(performance.now() - started).toBeLessThan(2_500);
    expect(response.status).toBe(503);
    // The breaker is still closed after one failure: try again in a second.
    expect(response.headers.get("retry-after")).toBe("1");
  });

  test("while the breaker is open, Retry-After counts down to the moment it lets a trial through", async () => {
    const { stack, clock } = await setup({ CIRCUIT_BREAKER_RESET_TIMEOUT: "30000" });
    const others = Array.from({ length: 6 }, (_, i) => stack.emulator.addConsumer({ username: `r${i}` }));
    stack.emulator.inject({ status: 503 });
    for (const other of others) expect((await stack.tokens(other)).status).toBe(503);
    expect(stack.logs.text).toContain("circuit breaker closed → open");
    const newcomer = stack.emulator.addConsumer({ username: "waits" });
    const first = await stack.tokens(newcomer);
    expect(first.status).toBe(503);
    expect(first.headers.get("retry-after")).toBe("30");
    clock.advance(12_500);
    expect((await stack.tokens(newcomer)).headers.get("retry-after")).toBe("18");
  });

  test("a stale copy past the tolerance is not used", async () => {
    const { stack, clock, consumer } = await setup();
    expect((await stack.tokens(consumer)).status).toBe(200);
    clock.advance(60_000 + 10 * 60_000 + 1);
    stack.emulator.inject({ status: 502 });
    expect((await stack.tokens(consumer)).status).toBe(503);
  });

  test("the breaker opens, fails fast without reaching Kong, half-opens, and fresh data replaces stale", async () => {
    const { stack, clock, consumer, credential } = await setup();
    const others = Array.from({ length: 6 }, (_, i) => stack.emulator.addConsumer({ username: `o${i}` }));
    expect((await stack.tokens(consumer)).status).toBe(200);

    stack.emulator.inject({ status: 503 });
    for (const other of others) expect((await stack.tokens(other)).status).toBe(503);
    expect(stack.logs.text).toContain("circuit breaker closed → open");

    stack.emulator.resetCalls();
    const rejected = await stack.tokens(stack.emulator.addConsumer({ username: "while-open" }));
    expect(rejected.status).toBe(503);
    // Failing fast means not asking Kong at all.
    expect(stack.emulator.calls).toHaveLength(0);
    expect(Number(rejected.headers.get("retry-after"))).toBeGreaterThanOrEqual(1);

    // Rotation during the outage: the old credential is deleted, a new one added.
    clock.advance(61_000);
    stack.emulator.removeCredential(consumer.id, credential.id);
    const rotated = stack.emulator.addCredential(consumer.id);
    // Signed with the stale copy (Kong itself would now refuse it: the key is deleted).
    expect(await keyClaimOf(await stack.tokens(consumer))).toBe(credential.key);

    stack.emulator.clearFaults();
    // The reset timeout (1 s) runs on real time, whatever the injected clock says.
    await waitFor(
      () => stack.logs.text.includes("circuit breaker open → half-open"),
      "the half-open breaker",
    );
    expect(await tokenKey(await stack.tokens(consumer), stack, clock.now())).toBe(rotated.key);
    expect(stack.logs.text).toContain("circuit breaker half-open → closed");
    // The stale copy is gone for good: even another outage cannot bring the deleted key back.
    clock.advance(61_000);
    stack.emulator.inject({ status: 503 });
    expect(await tokenKey(await stack.tokens(consumer), stack, clock.now())).toBe(rotated.key);
  });

  test("unknown consumers (404) never open the breaker", async () => {
    const { stack } = await setup();
    for (let i = 0; i < 12; i++) {
      expect((await stack.tokens({ id: crypto.randomUUID(), username: `ghost-${i}` })).status).toBe(401);
    }
    const real = stack.emulator.addConsumer({ username: "real" });
    expect((await stack.tokens(real)).status).toBe(200);
    expect(stack.logs.text).not.toContain("→ open");
  });

  test("a failed create is not retried blindly: the next request lists first", async () => {
    const { stack } = await setup();
    const fresh = stack.emulator.addConsumer({ username: "create-fails" });
    stack.emulator.inject({ status: 503, match: (call) => call.method === "POST", times: 1 });
    expect((await stack.tokens(fresh)).status).toBe(503);
    expect(stack.emulator.countCalls({ method: "POST" })).toBe(1);
    // As if the failed create had reached Kong after all.
    const landed = stack.emulator.addCredential(fresh.id);
    stack.emulator.resetCalls();
    const response = await stack.tokens(fresh);
    expect(stack.emulator.countCalls({ method: "POST" })).toBe(0);
    expect(stack.emulator.countCalls({ method: "GET", pathIncludes: "/jwt" })).toBe(1);
    const { access_token } = (await response.json()) as { access_token: string };
    const verdict = await verifyToken(access_token, PLUGIN, stack.emulator);
    expect(verdict.ok && verdict.credential.id).toBe(landed.id);
    expect(stack.emulator.credentialsOf(fresh.id)).toHaveLength(1);
  });

  test("a transient failure on a read is retried once inside the breaker budget", async () => {
    const { stack } = await setup();
    const flaky = stack.emulator.addConsumer({ username: "flaky" });
    stack.emulator.addCredential(flaky.id);
    stack.emulator.inject({ status: 502, times: 1, match: (call) => call.path.endsWith("/jwt") });
    expect((await stack.tokens(flaky)).status).toBe(200);
  });
});
