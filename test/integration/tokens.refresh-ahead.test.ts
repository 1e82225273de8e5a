import { afterEach, describe, expect, test } from "bun:test";
import { manualClock } from "../support/clock.ts";
import { KongEmulator } from "../support/kong-emulator.ts";
import { verifyToken } from "../support/kong-jwt-verifier.ts";
import { deletePrefix, REDIS_URL, uniquePrefix } from "../support/redis.ts";
import { type Stack, startStack } from "../support/stack.ts";
import { waitFor } from "../support/wait.ts";

/**
 * Refresh-ahead through the real service on Bun.serve, over the emulator and the real Redis, with
 * an injected clock: a steady consumer's token requests never wait on Kong, not even when its entry
 * expires, and instances sharing Redis refresh an entry once.
 */
const TTL_MS = 60_000;
const WINDOW_STARTS = TTL_MS * 0.8;
/** Slow enough that an answer which waited for Kong could not come before the refresh ends. */
const KONG_LATENCY_MS = 400;
const PLUGIN = { key_claim_name: "key", claims_to_verify: ["exp"] as "exp"[] };

const cleanups: (() => Promise<void>)[] = [];
afterEach(async () => {
  for (const cleanup of cleanups.splice(0).reverse()) await cleanup();
});

async function instances(count: number) {
  const emulator = KongEmulator.start();
  const clock = manualClock();
  const prefix = uniquePrefix("refresh-ahead");
  const started: Stack[] = [];
  cleanups.push(async () => {
    for (const stack of started) await stack.stop();
    await emulator.stop();
    await deletePrefix(prefix);
  });
  for (let i = 0; i < count; i++) {
    const stack = await startStack({
      emulator,
      now: clock.now,
      env: {
        REDIS_ENABLED: "true",
        REDIS_URL,
        REDIS_KEY_PREFIX: prefix,
        CACHE_TTL_SECONDS: String(TTL_MS / 1000),
        CACHE_REFRESH_AHEAD_RATIO: "0.8",
        CIRCUIT_BREAKER_TIMEOUT: "5000",
      },
    });
    await stack.redisReady();
    started.push(stack);
  }
  return { emulator, clock, stacks: started };
}

/** credential_refresh_ahead_total{outcome} as the service exposes it to Prometheus (0 when absent). */
async function refreshes(stack: Stack, outcome: string): Promise<number> {
  const text = await (await stack.fetch("/metrics", { headers: { accept: "text/plain" } })).text();
  const line = text
    .split("\n")
    .find((l) => l.startsWith("credential_refresh_ahead_total{") && l.includes(`outcome="${outcome}"`));
  return line ? Number(line.split(" ").at(-1)) : 0;
}

/** The credential key a token names (its `key` claim). */
const keyOf = (token: string) =>
  JSON.parse(Buffer.from(token.split(".")[1] as string, "base64url").toString()).key;

describe("refresh-ahead through GET /tokens", () => {
  test("a request late in the entry's lifetime is answered at once while Kong is slow; at expiry no request waits on Kong", async () => {
    const { emulator, clock, stacks } = await instances(1);
    const stack = stacks[0] as Stack;
    const consumer = emulator.addConsumer({ username: "steady" });
    const old = emulator.addCredential(consumer.id);
    expect((await stack.tokens(consumer)).status).toBe(200);
    // A newer credential: the old one stays valid in Kong while tokens signed with it live out.
    const rotated = emulator.addCredential(consumer.id, { created_at: old.created_at + 1 });
    emulator.setLatency(KONG_LATENCY_MS);
    emulator.resetCalls();

    clock.advance(WINDOW_STARTS);
    const response = await stack.tokens(consumer);
    // Answered while the refresh is still waiting on Kong: from the entry held, signed with the old key.
    expect(await refreshes(stack, "refreshed")).toBe(0);
    await waitFor(() => emulator.calls.length > 0, "the refresh to reach Kong");
    expect(await refreshes(stack, "refreshed")).toBe(0);
    expect(response.status).toBe(200);
    const { access_token } = (await response.json()) as { access_token: string };
    expect(await verifyToken(access_token, PLUGIN, emulator)).toMatchObject({ ok: true });
    expect(keyOf(access_token)).toBe(old.key);

    await waitFor(async () => (await refreshes(stack, "refreshed")) === 1, "the background refresh");
    emulator.resetCalls();
    // The old entry's lifetime is over: the refreshed one answers, signed with the rotated credential.
    clock.advance(TTL_MS - WINDOW_STARTS);
    const next = await stack.tokens(consumer);
    expect(next.status).toBe(200);
    expect(emulator.calls).toHaveLength(0);
    const token = ((await next.json()) as { access_token: string }).access_token;
    expect(await verifyToken(token, PLUGIN, emulator)).toMatchObject({ ok: true });
    expect(keyOf(token)).toBe(rotated.key);
  });

  test("two instances sharing Redis refresh an entry once between them", async () => {
    const { emulator, clock, stacks } = await instances(2);
    const [a, b] = stacks as [Stack, Stack];
    const consumer = emulator.addConsumer({ username: "shared-steady" });
    emulator.addCredential(consumer.id);
    expect((await a.tokens(consumer)).status).toBe(200);
    expect((await b.tokens(consumer)).status).toBe(200);
    emulator.resetCalls();

    clock.advance(WINDOW_STARTS);
    const answers = await Promise.all([a.tokens(consumer), b.tokens(consumer), a.tokens(consumer)]);
    expect(answers.map((r) => r.status)).toEqual([200, 200, 200]);
    const total = async (outcome: string) => (await refreshes(a, outcome)) + (await refreshes(b, outcome));
    await waitFor(
      async () => (await total("refreshed")) + (await total("claimed_elsewhere")) === 2,
      "both instances' refresh outcomes",
    );
    expect(await total("refreshed")).toBe(1);
    expect(emulator.countCalls({ method: "GET", pathIncludes: "/jwt" })).toBe(1);

    emulator.resetCalls();
    clock.advance(TTL_MS - WINDOW_STARTS);
    const after = await Promise.all([a.tokens(consumer), b.tokens(consumer)]);
    expect(after.map((r) => r.status)).toEqual([200, 200]);
    expect(emulator.calls).toHaveLength(0);
  });
});
