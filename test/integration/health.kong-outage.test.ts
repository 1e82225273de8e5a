import { afterEach, describe, expect, test } from "bun:test";
import { manualClock } from "../support/clock.ts";
import { deletePrefix, REDIS_URL, uniquePrefix } from "../support/redis.ts";
import { type Stack, startStack } from "../support/stack.ts";
import { waitFor } from "../support/wait.ts";

// biome-ignore lint/suspicious/noExplicitAny: response bodies are asserted by shape, field by field.
type Json = any;

const TTL_MS = 60_000;
const STALE_MS = 10 * 60_000;
const ENV = {
  CACHE_TTL_SECONDS: "60",
  STALE_DATA_TOLERANCE_MINUTES: "10",
  // Kong here answers or fails at once, never hangs: the budgets only need to clear a loaded machine
  // (at 200/150 ms a first request on one timed out into a 503).
  CIRCUIT_BREAKER_TIMEOUT: "5000",
  CIRCUIT_BREAKER_RESET_TIMEOUT: "1000",
  KONG_CONNECTION_TIMEOUT: "4000",
  LOG_LEVEL: "info",
};
/** How long the service remembers one Kong probe (src/app.ts). */
const PROBE_TTL_MS = 5_000;

let stack: Stack | undefined;
const cleanups: (() => Promise<void>)[] = [];
afterEach(async () => {
  await stack?.stop();
  stack = undefined;
  for (const cleanup of cleanups.splice(0)) await cleanup();
});

async function setup(env: Record<string, string> = {}) {
  const clock = manualClock();
  stack = await startStack({ env: { ...ENV, ...env }, now: clock.now });
  return { s: stack, clock };
}

async function health(s: Stack) {
  const response = await s.fetch("/health");
  return { status: response.status, body: (await response.json()) as Record<string, Json> };
}

async function ready(s: Stack) {
  const response = await s.fetch("/health/ready");
  return { status: response.status, body: (await response.json()) as Record<string, Json> };
}

/** Waits (on the breaker's own timer) until /health shows the breaker in `state`. */
function breakerBecomes(s: Stack, state: string): Promise<void> {
  return waitFor(
    async () => (await health(s)).body.dependencies.kong.breaker === state,
    `the breaker to be ${state}`,
    5_000,
  );
}

describe("/health follows what the request path sees of Kong", () => {
  test("a 503 answered a moment ago makes Kong unhealthy, whatever the cached probe said", async () => {
    const { s } = await setup();
    expect((await health(s)).body.dependencies.kong.status).toBe("healthy");

    s.emulator.inject({ status: 503 });
    expect((await s.tokens(s.emulator.addConsumer({ username: "uncached" }))).status).toBe(503);

    const { status, body } = await health(s);
    expect(body.dependencies.kong).toMatchObject({
      status: "unhealthy",
      breaker: "closed",
      failingSince: expect.any(String),
    });
    expect(body.status).toBe("unhealthy");
    expect(status).toBe(503);
    expect((await ready(s)).status).toBe(503);
    // The probe was not asked again: the request path's evidence was enough.
    expect(s.emulator.countCalls({ pathIncludes: "/status" })).toBe(1);
  });

  test("stale copies being served: Kong degraded, the service degraded but ready", async () => {
    const { s, clock } = await setup();
    const consumer = s.emulator.addConsumer({ username: "stale" });
    expect((await s.tokens(consumer)).status).toBe(200);
    clock.advance(TTL_MS + 1_000);
    expect((await health(s)).body.dependencies.kong.status).toBe("healthy");

    s.emulator.inject({ status: 503 });
    expect((await s.tokens(consumer)).status).toBe(200);

    const { status, body } = await health(s);
    expect(body.dependencies.kong.status).toBe("degraded");
    expect(body.status).toBe("degraded");
    expect(status).toBe(200);
    expect((await ready(s)).status).toBe(200);
  });

  test("breaker open: Kong unhealthy; healthy again once Kong is back and a request succeeds", async () => {
    const { s } = await setup();
    const warm = s.emulator.addConsumer({ username: "warm" });
    expect((await s.tokens(warm)).status).toBe(200);
    s.emulator.inject({ status: 503 });
    // The probe is taken (and remembered) while Kong is down.
    expect((await health(s)).body.dependencies.kong.status).toBe("unhealthy");

    for (let i = 0; i < 6; i++) {
      expect((await s.tokens(s.emulator.addConsumer({ username: `other-${i}` }))).status).toBe(503);
    }
    const open = await health(s);
    expect(open.body.dependencies.kong).toMatchObject({ status: "unhealthy", breaker: "open" });
    // The warm consumer can still be served from memory.
    expect(open.body.status).toBe("degraded");
    expect(open.status).toBe(200);

    s.emulator.clearFaults();
    await breakerBecomes(s, "half-open");
    // Half-open is a question to Kong, not an answer.
    expect((await health(s)).body.dependencies.kong.status).toBe("unhealthy");

    expect((await s.tokens(s.emulator.addConsumer({ username: "after" }))).status).toBe(200);
    const back = await health(s);
    expect(back.body.dependencies.kong).toMatchObject({ status: "healthy", breaker: "closed" });
    expect(back.body.dependencies.kong.failingSince).toBeUndefined();
    expect(back.body.status).toBe("healthy");
    expect(back.status).toBe(200);
  });
});

describe("readiness during a Kong outage", () => {
  test("ready while memory holds usable copies; not ready once they are past the stale tolerance; ready again when the probe finds Kong", async () => {
    const { s, clock } = await setup();
    const consumer = s.emulator.addConsumer({ username: "cached" });
    expect((await s.tokens(consumer)).status).toBe(200);
    s.emulator.inject({ status: 503 });
    expect((await ready(s)).status).toBe(200);

    clock.advance(TTL_MS + STALE_MS + 1);
    const notReady = await ready(s);
    expect(notReady.status).toBe(503);
    expect(notReady.body.reason).toContain("cannot issue tokens");
    expect((await health(s)).body.status).toBe("unhealthy");
    expect((await s.tokens(consumer)).status).toBe(503);

    // No token request reaches an unready pod: the probe alone must bring it back.
    s.emulator.clearFaults();
    clock.advance(PROBE_TTL_MS);
    expect((await ready(s)).status).toBe(200);
    expect((await health(s)).body.dependencies.kong.status).toBe("healthy");
  });

  test("with Redis HA: ready only while Redis may still hold stale copies", async () => {
    const prefix = uniquePrefix("ready-ha");
    cleanups.push(() => deletePrefix(prefix));
    const { s, clock } = await setup({
      REDIS_ENABLED: "true",
      REDIS_URL,
      REDIS_KEY_PREFIX: prefix,
      HIGH_AVAILABILITY: "true",
    });
    await s.redisReady();
    s.emulator.inject({ status: 503 });

    expect((await ready(s)).status).toBe(200);
    expect((await health(s)).body.status).toBe("degraded");

    // Every copy written before the outage has left Redis by now.
    clock.advance(TTL_MS + STALE_MS + 1);
    expect((await ready(s)).status).toBe(503);
    const { status, body } = await health(s);
    expect(body.status).toBe("unhealthy");
    expect(status).toBe(503);
  });
});
