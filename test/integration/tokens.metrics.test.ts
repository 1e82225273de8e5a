import { afterEach, describe, expect, test } from "bun:test";
import { manualClock } from "../support/clock.ts";
import { rawGet, rawRequest } from "../support/raw-http.ts";
import { type Stack, startStack } from "../support/stack.ts";

/**
 * Every answer of GET and POST /tokens is counted exactly once in jwt_tokens_generated: issued tokens by
 * algorithm, refusals and failures by a bounded reason. Read back through GET /metrics, which reports
 * the same counts the exporter sends.
 */

interface TokenCounts {
  generated: number;
  failed: number;
  generatedByAlgorithm: Record<string, number>;
  failedByReason: Record<string, number>;
}

const FORM = "application/x-www-form-urlencoded";

let stack: Stack | undefined;
afterEach(async () => {
  await stack?.stop();
  stack = undefined;
});

async function tokenCounts(s: Stack): Promise<TokenCounts> {
  const body = (await (await s.fetch("/metrics")).json()) as { tokens: TokenCounts };
  return body.tokens;
}

function increments(before: Record<string, number>, after: Record<string, number>): Record<string, number> {
  const changed: Record<string, number> = {};
  for (const [label, value] of Object.entries(after)) {
    const delta = value - (before[label] ?? 0);
    if (delta !== 0) changed[label] = delta;
  }
  return changed;
}

/** Runs `act`, checks its status, and returns what it added to the token metric. */
async function counted(s: Stack, status: number, act: () => Promise<{ status: number }>) {
  const before = await tokenCounts(s);
  expect((await act()).status).toBe(status);
  const after = await tokenCounts(s);
  return {
    generated: after.generated - before.generated,
    failed: after.failed - before.failed,
    byAlgorithm: increments(before.generatedByAlgorithm, after.generatedByAlgorithm),
    byReason: increments(before.failedByReason, after.failedByReason),
  };
}

const failure = (reason: string) => ({ generated: 0, failed: 1, byAlgorithm: {}, byReason: { [reason]: 1 } });
const success = (algorithm: string) => ({
  generated: 1,
  failed: 0,
  byAlgorithm: { [algorithm]: 1 },
  byReason: {},
});

describe("every /tokens answer is counted once, with its outcome", () => {
  test("issued tokens count as success with their algorithm, from Kong and from memory", async () => {
    stack = await startStack();
    const s = stack;
    const consumer = s.emulator.addConsumer({ username: "hs384" });
    s.emulator.addCredential(consumer.id, { algorithm: "HS384" });
    expect(await counted(s, 200, () => s.tokens(consumer))).toEqual(success("HS384"));
    expect(await counted(s, 200, () => s.tokens(consumer))).toEqual(success("HS384"));
  });

  test("a first request reads memory and misses, the next hits; the time to a token is in milliseconds", async () => {
    stack = await startStack();
    const s = stack;
    const consumer = s.emulator.addConsumer({ username: "cache-reads" });
    s.emulator.addCredential(consumer.id);
    const memoryReads = async () => {
      const text = await (await s.fetch("/metrics", { headers: { accept: "text/plain" } })).text();
      const read = (outcome: string) =>
        Number(
          text.match(
            new RegExp(
              `^hybrid_cache_operations[a-z_]*\\{(?=[^}]*outcome="${outcome}")(?=[^}]*tier="memory")[^}]*\\} (\\d+)`,
              "m",
            ),
          )?.[1] ?? 0,
        );
      return { hit: read("hit"), miss: read("miss") };
    };
    const before = await memoryReads();
    const started = performance.now();
    expect((await s.tokens(consumer)).status).toBe(200);
    expect(await memoryReads()).toEqual({ hit: before.hit, miss: before.miss + 1 });
    expect((await s.tokens(consumer)).status).toBe(200);
    expect(await memoryReads()).toEqual({ hit: before.hit + 1, miss: before.miss + 1 });
    const waited = performance.now() - started;
    const { tokens } = (await (await s.fetch("/metrics")).json()) as { tokens: { averageTime: number } };
    // Milliseconds from each request's start to its token: more than nothing, and no more than the
    // test waited for both requests (the service runs in this process, on the same clock).
    expect(tokens.averageTime).toBeGreaterThan(0);
    expect(tokens.averageTime).toBeLessThanOrEqual(waited);
  });

  test("a token signed with a stale copy during an outage counts once, as a success", async () => {
    const clock = manualClock();
    stack = await startStack({ now: clock.now, env: { CACHE_TTL_SECONDS: "60" } });
    const s = stack;
    const consumer = s.emulator.addConsumer({ username: "stale" });
    expect((await s.tokens(consumer)).status).toBe(200);
    clock.advance(61_000);
    s.emulator.inject({ status: 503 });
    expect(await counted(s, 200, () => s.tokens(consumer))).toEqual(success("HS256"));
  });

  test("a request that did not come through Kong: untrusted", async () => {
    stack = await startStack({
      env: { TRUSTED_GATEWAY_SECRET: "kong-to-auth-service-shared-secret-0123456789" },
    });
    const s = stack;
    const consumer = s.emulator.addConsumer({ username: "no-secret" });
    expect(await counted(s, 401, () => s.tokens(consumer))).toEqual(failure("untrusted"));
  });

  test("missing consumer headers: invalid_headers", async () => {
    stack = await startStack();
    const s = stack;
    expect(await counted(s, 401, () => s.fetch("/tokens"))).toEqual(failure("invalid_headers"));
  });

  test("over the rate limit: rate_limited", async () => {
    stack = await startStack({ env: { RATE_LIMIT_MAX_REQUESTS: "1" } });
    const s = stack;
    const consumer = s.emulator.addConsumer({ username: "limited" });
    expect((await s.tokens(consumer)).status).toBe(200);
    expect(await counted(s, 429, () => s.tokens(consumer))).toEqual(failure("rate_limited"));
  });

  test("a username other than Kong's: username_mismatch", async () => {
    stack = await startStack();
    const s = stack;
    const consumer = s.emulator.addConsumer({ username: "real-name" });
    expect(await counted(s, 401, () => s.tokens({ id: consumer.id, username: "forged" }))).toEqual(
      failure("username_mismatch"),
    );
  });

  test("a consumer Kong does not know: unknown_consumer, from Kong and from the unknown-consumer record", async () => {
    stack = await startStack();
    const s = stack;
    const ghost = { id: crypto.randomUUID(), username: "ghost" };
    expect(await counted(s, 401, () => s.tokens(ghost))).toEqual(failure("unknown_consumer"));
    expect(await counted(s, 401, () => s.tokens(ghost))).toEqual(failure("unknown_consumer"));
  });

  test("Kong unusable and nothing cached: kong_unavailable", async () => {
    stack = await startStack();
    const s = stack;
    const consumer = s.emulator.addConsumer({ username: "uncached" });
    s.emulator.inject({ status: 503 });
    expect(await counted(s, 503, () => s.tokens(consumer))).toEqual(failure("kong_unavailable"));
  });

  test("Kong refuses the admin token: misconfigured", async () => {
    stack = await startStack();
    const s = stack;
    const consumer = s.emulator.addConsumer({ username: "refused" });
    s.emulator.inject({ status: 401 });
    expect(await counted(s, 500, () => s.tokens(consumer))).toEqual(failure("misconfigured"));
  });

  test("a request body over the limit: body_too_large", async () => {
    stack = await startStack();
    const s = stack;
    const consumer = s.emulator.addConsumer({ username: "big-body" });
    const body = "x".repeat(20_000);
    const request =
      rawGet("/tokens", [
        `X-Consumer-ID: ${consumer.id}`,
        "X-Consumer-Username: big-body",
        `Content-Length: ${body.length}`,
      ]) + body;
    expect(await counted(s, 413, () => rawRequest(s.server.port as number, request))).toEqual(
      failure("body_too_large"),
    );
  });

  test("an unexpected error while serving: internal_error", async () => {
    // A clock that fails on demand: the one dependency every /tokens request reads.
    let broken = false;
    const now = () => {
      if (broken) throw new Error("clock failure");
      return Date.now();
    };
    stack = await startStack({ now });
    const s = stack;
    const consumer = s.emulator.addConsumer({ username: "unlucky" });
    expect(
      await counted(s, 500, async () => {
        broken = true;
        try {
          return await s.tokens(consumer);
        } finally {
          broken = false;
        }
      }),
    ).toEqual(failure("internal_error"));
  });
});

describe("every POST /tokens answer is counted once too", () => {
  const form = (s: Stack, consumer: { id: string; username: string }, body: string, type = FORM) =>
    s.fetch("/tokens", {
      method: "POST",
      headers: {
        "content-type": type,
        "x-consumer-id": consumer.id,
        "x-consumer-username": consumer.username,
      },
      body,
    });

  test("a token issued through the client-credentials form: success with its algorithm", async () => {
    stack = await startStack();
    const s = stack;
    const consumer = s.emulator.addConsumer({ username: "oauth-form" });
    s.emulator.addCredential(consumer.id, { algorithm: "HS512" });
    const named = { id: consumer.id, username: "oauth-form" };
    expect(await counted(s, 200, () => form(s, named, "grant_type=client_credentials"))).toEqual(
      success("HS512"),
    );
  });

  test("a form that cannot be used: invalid_request, whichever §5.2 error it got", async () => {
    stack = await startStack();
    const s = stack;
    const consumer = s.emulator.addConsumer({ username: "bad-form" });
    const named = { id: consumer.id, username: "bad-form" };
    for (const act of [
      () => form(s, named, ""),
      () => form(s, named, "grant_type=password"),
      () => form(s, named, "grant_type=client_credentials&scope=read"),
      () => form(s, named, "{}", "application/json"),
    ]) {
      expect(await counted(s, 400, act)).toEqual(failure("invalid_request"));
    }
  });

  test("a form over the route's limit and a body declared over the pipeline's: body_too_large", async () => {
    stack = await startStack();
    const s = stack;
    const consumer = s.emulator.addConsumer({ username: "big-form" });
    const named = { id: consumer.id, username: "big-form" };
    const padded = `grant_type=client_credentials&pad=${"x".repeat(2_000)}`;
    expect(await counted(s, 413, () => form(s, named, padded))).toEqual(failure("body_too_large"));
    expect(await counted(s, 413, () => form(s, named, padded.repeat(10)))).toEqual(failure("body_too_large"));
  });

  test("refused by a step before the form is read: counted by the step alone", async () => {
    stack = await startStack();
    const s = stack;
    const ghost = { id: "not-a-uuid", username: "ghost" };
    expect(await counted(s, 401, () => form(s, ghost, "grant_type=client_credentials"))).toEqual(
      failure("invalid_headers"),
    );
  });
});
