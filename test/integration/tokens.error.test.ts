import { afterAll, afterEach, beforeAll, describe, expect, test } from "bun:test";
import type { KongMode } from "../support/kong-emulator.ts";
import { type Stack, startStack } from "../support/stack.ts";

async function expectProblem(response: Response, status: number) {
  expect(response.status).toBe(status);
  expect(response.headers.get("content-type")).toBe("application/problem+json");
  const body = (await response.json()) as Record<string, unknown>;
  // Not toMatchObject with expect.any: Bun 1.4.5 writes the matcher into the received object, and
  // every later assertion on that field would then pass whatever the field held.
  expect(body.status).toBe(status);
  expect(typeof body.title).toBe("string");
  expect(typeof body.type).toBe("string");
  return body;
}

/** These tests need Kong's answers, not its timeouts: budgets clear of a loaded machine's slow answers. */
const BUDGETS = { KONG_CONNECTION_TIMEOUT: "1000", CIRCUIT_BREAKER_TIMEOUT: "1500" };

describe.each(["API_GATEWAY", "KONNECT"] as KongMode[])("Kong failures in %s mode", (mode) => {
  let stack: Stack;
  beforeAll(async () => {
    stack = await startStack({ mode, env: BUDGETS });
  });
  afterEach(() => {
    stack.emulator.clearFaults();
    stack.emulator.setLatency(0);
  });
  afterAll(() => stack.stop());

  test("a consumer Kong does not know gets 401, remembered briefly so Kong is not asked again", async () => {
    const ghost = { id: crypto.randomUUID(), username: "ghost" };
    stack.emulator.resetCalls();
    const response = await stack.tokens(ghost);
    expect(response.headers.get("www-authenticate")).toBe('Key realm="kong"');
    const body = await expectProblem(response, 401);
    expect(body).toMatchObject({
      type: "urn:auth-service:problem:unauthorized",
      detail: "Kong does not know this consumer.",
    });
    const callsAfterFirst = stack.emulator.calls.length;
    expect(callsAfterFirst).toBeGreaterThan(0);
    await expectProblem(await stack.tokens(ghost), 401);
    expect(stack.emulator.calls.length).toBe(callsAfterFirst);
  });

  test.each([500, 502, 503, 429])("Kong answering %i → 503 with Retry-After, never 401", async (status) => {
    const consumer = stack.emulator.addConsumer({ username: `down-${status}` });
    stack.emulator.inject({ status });
    const response = await stack.tokens(consumer);
    expect(await expectProblem(response, 503)).toMatchObject({
      type: "urn:auth-service:problem:kong-unavailable",
      detail: "The credential store is unreachable; try again shortly.",
    });
    expect(Number(response.headers.get("retry-after"))).toBeGreaterThan(0);
  });

  test("Kong hanging → 503 within the configured timeout", async () => {
    // A stack of its own: the failures above opened the shared one's breaker, which answers 503 at once.
    // Its budget (the default 500 ms, the read retried within it) needs no slack: no call here answers.
    const own = await startStack({ mode, env: { KONG_CONNECTION_TIMEOUT: "300" } });
    try {
      const consumer = own.emulator.addConsumer({ username: "hang" });
      own.emulator.inject({ hang: true });
      const started = performance.now();
      const response = await own.tokens(consumer);
      const elapsed = performance.now() - started;
      await expectProblem(response, 503);
      expect(response.headers.get("retry-after")).not.toBeNull();
      // Given up for want of an answer, not failed fast by an open breaker.
      expect(own.logs.text).toContain("no answer within");
      expect(own.emulator.calls.length).toBeGreaterThan(0);
      // A request held by the hung Kong would end only with the test's timeout; loose for a loaded machine.
      expect(elapsed).toBeLessThan(2_500);
    } finally {
      await own.stop();
    }
  });

  test("Kong unreachable → 503", async () => {
    const down = await startStack({ mode, env: { KONG_ADMIN_URL: unreachableUrl(mode) } });
    try {
      const response = await down.tokens({ id: crypto.randomUUID(), username: "nobody" });
      await expectProblem(response, 503);
    } finally {
      await down.stop();
    }
  });

  test("Kong failing only the create → 503, and no credential is left half-made", async () => {
    // A stack of its own, for a breaker that lets the request reach Kong's create.
    const own = await startStack({ mode, env: BUDGETS });
    try {
      const consumer = own.emulator.addConsumer({ username: "create-fails" });
      own.emulator.inject({ status: 500, match: (call) => call.method === "POST" });
      await expectProblem(await own.tokens(consumer), 503);
      expect(own.emulator.countCalls({ method: "POST" })).toBeGreaterThan(0);
      expect(own.emulator.credentialsOf(consumer.id)).toHaveLength(0);
    } finally {
      await own.stop();
    }
  });

  test("the 503 is logged once with the request id and the consumer's id, without secrets", async () => {
    const own = await startStack({ mode });
    try {
      const consumer = own.emulator.addConsumer({ username: "logged" });
      own.emulator.inject({ status: 502 });
      const response = await own.tokens(consumer, { "x-request-id": "req-502-check" });
      await expectProblem(response, 503);
      const lines = own.logs.records().filter((record) => JSON.stringify(record).includes("req-502-check"));
      expect(lines).toHaveLength(1);
      expect(lines[0]?.["log.level"]).toBe("error");
      expect(lines[0]?.consumer).toEqual({ id: consumer.id });
      if (own.emulator.adminToken) expect(own.logs.text).not.toContain(own.emulator.adminToken);
    } finally {
      await own.stop();
    }
  });
});

describe("misconfiguration is not an outage and not the client's fault", () => {
  test("Kong refusing the admin token → 500, not 401, logged loudly without the token", async () => {
    const { KongEmulator } = await import("../support/kong-emulator.ts");
    const emulator = KongEmulator.start({
      mode: "API_GATEWAY",
      adminToken: "the-real-admin-token-0123456789abcdef",
    });
    const wrongToken = "a-wrong-admin-token-0123456789abcdef";
    const stack = await startStack({ emulator, env: { KONG_ADMIN_TOKEN: wrongToken } });
    try {
      const consumer = emulator.addConsumer({ username: "rbac" });
      const body = await expectProblem(await stack.tokens(consumer), 500);
      expect(body).toMatchObject({
        type: "urn:auth-service:problem:misconfigured",
        detail: "The service cannot use Kong's Admin API.",
      });
      expect(JSON.stringify(body)).not.toContain(wrongToken);
      expect(stack.logs.text).toContain("refused the admin token");
      expect(stack.logs.text).not.toContain(wrongToken);
    } finally {
      await stack.stop();
      await emulator.stop();
    }
  });

  test("Konnect with a wrong token → 500", async () => {
    const stack = await startStack({
      mode: "KONNECT",
      env: { KONG_ADMIN_TOKEN: "kpat_wrongwrongwrongwrongwrongwrongwrong" },
    });
    try {
      const consumer = stack.emulator.addConsumer({ username: "k" });
      await expectProblem(await stack.tokens(consumer), 500);
    } finally {
      await stack.stop();
    }
  });
});

function unreachableUrl(mode: KongMode): string {
  // Port 9 (discard) on loopback: nothing listens, the connection is refused at once.
  return mode === "KONNECT" ? "http://127.0.0.1:9/v2/control-planes/cp" : "http://127.0.0.1:9";
}
