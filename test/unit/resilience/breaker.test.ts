import { describe, expect, test } from "bun:test";
import { isKongError, kongMisconfigured, kongUnavailable } from "../../../src/kong/errors.ts";
import { type BreakerState, KongBreaker } from "../../../src/resilience/breaker.ts";

function breaker(overrides: Partial<ConstructorParameters<typeof KongBreaker>[0]> = {}) {
  const transitions: [BreakerState, BreakerState][] = [];
  const b = new KongBreaker({
    timeoutMs: 100,
    errorThresholdPercentage: 50,
    resetTimeoutMs: 200,
    volumeThreshold: 2,
    ...overrides,
  });
  b.observe({ onStateChange: (state, previous) => transitions.push([previous, state]) });
  return { b, transitions };
}

const failing = () => Promise.reject(kongUnavailable("Kong answered 503", 503));

async function rejection(promise: Promise<unknown>) {
  try {
    await promise;
  } catch (error) {
    return error;
  }
  throw new Error("expected a rejection");
}

describe("KongBreaker", () => {
  test("passes results through while closed", async () => {
    const { b } = breaker();
    expect(await b.run("op", async () => 42)).toBe(42);
    expect(b.state).toBe("closed");
  });

  test("opens once failures pass the threshold, then fails fast without calling Kong", async () => {
    const { b, transitions } = breaker();
    await rejection(b.run("op", failing));
    await rejection(b.run("op", failing));
    expect(b.state).toBe("open");
    expect(transitions).toEqual([["closed", "open"]]);

    let called = false;
    const started = performance.now();
    const error = await rejection(
      b.run("op", async () => {
        called = true;
      }),
    );
    expect(performance.now() - started).toBeLessThan(20);
    expect(called).toBe(false);
    expect(isKongError(error) && error.kind).toBe("unavailable");
    expect((error as Error).message).toContain("circuit breaker open");
    expect(b.retryAfterSeconds()).toBe(1);
  });

  test("half-opens after the reset timeout and closes on a successful trial", async () => {
    const { b, transitions } = breaker({ resetTimeoutMs: 200 });
    await rejection(b.run("op", failing));
    await rejection(b.run("op", failing));
    await Bun.sleep(230);
    expect(b.state).toBe("half-open");
    expect(await b.run("op", async () => "ok")).toBe("ok");
    expect(b.state).toBe("closed");
    expect(transitions).toEqual([
      ["closed", "open"],
      ["open", "half-open"],
      ["half-open", "closed"],
    ]);
  });

  test("a failed trial while half-open opens it again", async () => {
    const { b } = breaker({ resetTimeoutMs: 200 });
    await rejection(b.run("op", failing));
    await rejection(b.run("op", failing));
    await Bun.sleep(230);
    await rejection(b.run("op", failing));
    expect(b.state).toBe("open");
  });

  test("answers that are not outages (404 → null, misconfiguration) never open it", async () => {
    const { b } = breaker();
    for (let i = 0; i < 10; i++) {
      expect(await b.run("op", async () => null)).toBeNull();
      const error = await rejection(b.run("op", () => Promise.reject(kongMisconfigured("refused", 401))));
      expect(isKongError(error) && error.kind).toBe("misconfigured");
    }
    expect(b.state).toBe("closed");
  });

  test("an operation slower than the timeout fails as unavailable and counts", async () => {
    const { b } = breaker({ timeoutMs: 100 });
    const started = performance.now();
    const error = await rejection(b.run("slow", () => Bun.sleep(500)));
    expect(performance.now() - started).toBeLessThan(300);
    expect(isKongError(error) && error.kind).toBe("unavailable");
    expect(b.stats().timeouts).toBe(1);
  });

  test("the deadline handed to the operation is the breaker's budget", async () => {
    const { b } = breaker({ timeoutMs: 300 });
    const before = Date.now();
    const deadline = await b.run("op", async (d) => d);
    expect(deadline - before).toBeGreaterThanOrEqual(299);
    expect(deadline - before).toBeLessThan(350);
  });

  test("Retry-After counts down to the half-open moment", async () => {
    let clock = 1_000_000;
    const { b } = breaker({ resetTimeoutMs: 30_000, now: () => clock });
    await rejection(b.run("op", failing));
    await rejection(b.run("op", failing));
    expect(b.retryAfterSeconds()).toBe(30);
    clock += 12_500;
    expect(b.retryAfterSeconds()).toBe(18);
    b.shutdown();
  });
});
