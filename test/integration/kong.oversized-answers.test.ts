import { afterEach, describe, expect, test } from "bun:test";
import { manualClock } from "../support/clock.ts";
import type { EmulatedConsumer, PaddedBody } from "../support/kong-emulator.ts";
import { type Stack, startStack } from "../support/stack.ts";

const MB = 1024 * 1024;
const HUGE = 60 * MB;
/** Generous deadlines: the answer is refused for its size, not because Kong took too long to send it. */
const ENV = {
  KONG_CONNECTION_TIMEOUT: "10000",
  CIRCUIT_BREAKER_TIMEOUT: "10000",
  CACHE_TTL_SECONDS: "60",
  STALE_DATA_TOLERANCE_MINUTES: "10",
  LOG_LEVEL: "error",
};

let stack: Stack | undefined;
afterEach(async () => {
  await stack?.stop();
  stack = undefined;
});

const isConsumerLookup = ({ path }: { path: string }) => /\/consumers\/[^/]+$/.test(path);
const isCredentialList = ({ method, path }: { method: string; path: string }) =>
  method === "GET" && path.endsWith("/jwt");

/**
 * Ten consumers asking at once, each lookup answered hugely: every answer is 503, and the growth of
 * this process's RSS in MiB is returned.
 */
async function tenConcurrentLookups(
  s: Stack,
  pad: PaddedBody,
  match: (call: { method: string; path: string }) => boolean,
): Promise<number> {
  const consumers: EmulatedConsumer[] = [];
  for (let i = 0; i < 10; i++) {
    const consumer = s.emulator.addConsumer({ username: `huge-${i}` });
    s.emulator.addCredential(consumer.id);
    consumers.push(consumer);
  }
  s.emulator.inject({ pad, match });
  Bun.gc(true);
  const rssBefore = process.memoryUsage().rss;
  const responses = await Promise.all(consumers.map((consumer) => s.tokens(consumer)));
  const growthMb = (process.memoryUsage().rss - rssBefore) / MB;

  for (const response of responses) {
    expect(response.status).toBe(503);
    expect(response.headers.get("content-type")).toBe("application/problem+json");
    expect(Number(response.headers.get("retry-after"))).toBeGreaterThanOrEqual(1);
  }
  expect(s.logs.text).toContain("exceeds the 1048576-byte limit");
  return growthMb;
}

describe("Kong answers are read up to a size cap; a bigger one is a Kong failure", () => {
  test("ten consumer lookups answered with 60 MB bodies (with Content-Length) get 503, not tokens", async () => {
    stack = await startStack({ env: ENV });
    // The emulator builds each sized answer in this process: RSS is measured by the script instead.
    await tenConcurrentLookups(stack, { bytes: HUGE }, isConsumerLookup);
  }, 60_000);

  test("ten credential lists streamed as 60 MB without Content-Length get 503, not tokens", async () => {
    stack = await startStack({ env: ENV });
    const growthMb = await tenConcurrentLookups(stack, { bytes: HUGE, streamed: true }, isCredentialList);
    // Far above what the capped reads need (about 50 MiB here), far below ten buffered 60 MB answers
    // (about 900 MiB without the cap; scripts/measure-kong-bodies.ts measures it).
    expect(growthMb).toBeLessThan(400);
  }, 60_000);

  test("an oversized answer is an outage: a consumer with a stale copy still gets a token", async () => {
    const clock = manualClock();
    stack = await startStack({ env: { ...ENV, LOG_LEVEL: "warn" }, now: clock.now });
    const consumer = stack.emulator.addConsumer({ username: "stale-huge" });
    stack.emulator.addCredential(consumer.id);
    expect((await stack.tokens(consumer)).status).toBe(200);
    clock.advance(61_000);
    stack.emulator.inject({ pad: { bytes: 2 * MB, streamed: true } });
    expect((await stack.tokens(consumer)).status).toBe(200);
    expect(stack.logs.text).toContain("exceeds the 1048576-byte limit");
  });

  test("an answer just under the cap is read as usual", async () => {
    stack = await startStack({ env: ENV });
    const consumer = stack.emulator.addConsumer({ username: "big-but-fine" });
    stack.emulator.addCredential(consumer.id);
    stack.emulator.inject({ pad: { bytes: MB - 1024, streamed: true, chunkBytes: 4096 } });
    expect((await stack.tokens(consumer)).status).toBe(200);
  });

  test("a body that trickles in past KONG_CONNECTION_TIMEOUT is 503, not a hang", async () => {
    stack = await startStack({
      env: { ...ENV, KONG_CONNECTION_TIMEOUT: "300", CIRCUIT_BREAKER_TIMEOUT: "1000" },
    });
    const consumer = stack.emulator.addConsumer({ username: "trickle" });
    stack.emulator.inject({ pad: { bytes: 50_000, streamed: true, chunkBytes: 100, chunkDelayMs: 50 } });
    expect((await stack.tokens(consumer)).status).toBe(503);
  });
});

describe("what is cached from Kong has bounded lengths", () => {
  test("a consumer with more than 1000 jwt credentials is a Kong failure, not an unbounded list", async () => {
    stack = await startStack({ env: ENV });
    const consumer = stack.emulator.addConsumer({ username: "hoarder" });
    for (let i = 0; i < 1001; i++) stack.emulator.addCredential(consumer.id);
    expect((await stack.tokens(consumer)).status).toBe(503);
    expect(stack.logs.text).toContain("more than 1000 jwt credentials");
  });

  test("a credential with an over-long secret or key is never signed with nor cached; a usable one is made", async () => {
    stack = await startStack({ env: ENV });
    const consumer = stack.emulator.addConsumer({ username: "long-fields" });
    const longSecret = stack.emulator.addCredential(consumer.id, {
      secret: "s".repeat(200_000),
      created_at: 3,
    });
    const longKey = stack.emulator.addCredential(consumer.id, { key: "k".repeat(100_000), created_at: 2 });
    const response = await stack.tokens(consumer);
    expect(response.status).toBe(200);
    const { access_token } = (await response.json()) as { access_token: string };
    const claims = JSON.parse(Buffer.from(access_token.split(".")[1] as string, "base64url").toString());
    const credentials = stack.emulator.credentialsOf(consumer.id);
    expect(credentials).toHaveLength(3);
    const created = credentials.find((c) => c.id !== longSecret.id && c.id !== longKey.id);
    expect(claims.key).toBe(created?.key as string);
    // The next request is a memory hit on the new credential, not another round of the long ones.
    stack.emulator.resetCalls();
    expect((await stack.tokens(consumer)).status).toBe(200);
    expect(stack.emulator.calls).toEqual([]);
  });
});
