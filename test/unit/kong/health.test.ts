import { describe, expect, test } from "bun:test";
import { KongHealth } from "../../../src/kong/health.ts";
import {
  type KongMisconfigured,
  type KongUnavailable,
  kongMisconfigured,
  kongUnavailable,
} from "../../../src/kong/result.ts";
import { manualClock } from "../../support/clock.ts";

const ANSWERED = { ok: true, value: undefined } as const;

/** A probe that answers as told (a fault of the code is thrown), counting how often it is asked. */
function fakeKong() {
  const kong = {
    failure: undefined as KongUnavailable | KongMisconfigured | Error | undefined,
    probes: 0,
    async probe() {
      kong.probes++;
      if (kong.failure instanceof Error) throw kong.failure;
      return kong.failure ? ({ ok: false, error: kong.failure } as const) : ANSWERED;
    },
  };
  return kong;
}

function setup() {
  const clock = manualClock(1_000_000);
  const kong = fakeKong();
  return { clock, kong, health: new KongHealth(kong, 5_000, clock.now) };
}

describe("KongHealth: the newest evidence wins", () => {
  test("a request's failure overrides the cached good probe", async () => {
    const { kong, health } = setup();
    expect((await health.observation()).answering).toBe(true);
    health.recordCall("GET consumer", "timeout");
    expect(await health.observation()).toMatchObject({
      answering: false,
      failingSince: 1_000_000,
      error: "GET consumer: timeout",
    });
    expect(kong.probes).toBe(1);
  });

  test("a request's success overrides the cached failed probe", async () => {
    const { kong, health } = setup();
    kong.failure = kongUnavailable("GET /status: Kong answered 503", 503);
    expect((await health.observation()).answering).toBe(false);
    health.recordCall("GET consumer", "success");
    const back = await health.observation();
    expect(back.answering).toBe(true);
    expect(back.failingSince).toBeUndefined();
    expect(back.error).toBeUndefined();
    expect(kong.probes).toBe(1);
  });

  test("refusals and breaker rejections are not evidence: requests cannot steer Kong's health", async () => {
    const { health } = setup();
    await health.observation();
    health.recordCall("GET consumer", "error");
    health.recordCall("GET consumer", "rejected");
    expect((await health.observation()).answering).toBe(true);
  });

  test("failingSince is the first failure of the outage; stale serving counts only while failing", async () => {
    const { clock, kong, health } = setup();
    await health.observation();
    health.recordStaleServed();
    expect((await health.observation()).staleServed).toBe(false);

    health.recordCall("GET credentials", "failure");
    clock.advance(1_000);
    health.recordCall("GET credentials", "failure");
    health.recordStaleServed();
    expect(await health.observation()).toMatchObject({ failingSince: 1_000_000, staleServed: true });

    // The next probe finds Kong again: the outage, and its stale serving, are over.
    clock.advance(5_000);
    expect(await health.observation()).toMatchObject({ answering: true, staleServed: false });
    expect(kong.probes).toBe(2);
  });

  test("a misconfigured Kong fails the probe even though Kong answered it", async () => {
    const { kong, health } = setup();
    kong.failure = kongMisconfigured("GET /status: Kong refused the admin token (401)", 401);
    expect(await health.observation()).toMatchObject({
      answering: false,
      error: "GET /status: Kong refused the admin token (401)",
    });
  });
});

describe("KongHealth: the probe is cached, not replayed", () => {
  test("the probe's answer is reused for the TTL and asked again once it has passed", async () => {
    const { clock, kong, health } = setup();
    await health.observation();
    clock.advance(4_999);
    await health.observation();
    expect(kong.probes).toBe(1);
    clock.advance(1);
    await health.observation();
    expect(kong.probes).toBe(2);
  });

  test("concurrent observers share one probe", async () => {
    const { kong, health } = setup();
    await Promise.all([health.observation(), health.observation(), health.observation()]);
    expect(kong.probes).toBe(1);
  });

  test("a probe's result counts when it completes: it is newer than a failure met meanwhile", async () => {
    const clock = manualClock(1_000_000);
    let answer: () => void = () => {};
    const kong = {
      probe: () =>
        new Promise<typeof ANSWERED>((resolve) => {
          answer = () => resolve(ANSWERED);
        }),
    };
    const health = new KongHealth(kong, 5_000, clock.now);
    const observed = health.observation();
    health.recordCall("GET consumer", "failure");
    answer();
    expect(await observed).toMatchObject({ answering: true, staleServed: false });
    expect((await observed).error).toBeUndefined();
  });

  test("the probe's response time is how long Kong took to answer it", async () => {
    const kong = { probe: () => Bun.sleep(30).then(() => ANSWERED) };
    const health = new KongHealth(kong, 5_000, manualClock().now);
    const started = performance.now();
    const { responseTimeMs } = await health.observation();
    const elapsed = performance.now() - started;
    expect(responseTimeMs).toBeGreaterThanOrEqual(25);
    expect(responseTimeMs).toBeLessThanOrEqual(Math.ceil(elapsed));
  });
});

describe("KongHealth: what a failure reports", () => {
  test("a probe failing with something other than a KongError says only that the probe failed", async () => {
    const { kong, health } = setup();
    kong.failure = new TypeError("fetch http://admin:secret@kong:8001/status failed");
    expect(await health.observation()).toMatchObject({ answering: false, error: "probe failed" });
  });

  test("a request's failure names the operation and how it failed", async () => {
    const { health } = setup();
    await health.observation();
    health.recordCall("POST credentials", "failure");
    expect((await health.observation()).error).toBe("POST credentials: failure");
  });

  test("the first probe failing starts the outage; no stale serving is reported before a stale token", async () => {
    const { kong, health } = setup();
    kong.failure = kongUnavailable("GET /status: Kong answered 503", 503);
    expect(await health.observation()).toEqual({
      answering: false,
      staleServed: false,
      responseTimeMs: expect.any(Number),
      failingSince: 1_000_000,
      error: "GET /status: Kong answered 503",
    });
  });

  test("a stale token recorded before any failure was seen is not reported once Kong fails", async () => {
    const { clock, kong, health } = setup();
    health.recordStaleServed();
    kong.failure = kongUnavailable("GET /status: Kong answered 503", 503);
    expect((await health.observation()).staleServed).toBe(false);
    clock.advance(5_000);
    expect((await health.observation()).staleServed).toBe(false);
  });

  test("while Kong answers, the observation carries neither failingSince nor error", async () => {
    const { health } = setup();
    const observed = await health.observation();
    expect(Object.keys(observed).sort()).toEqual(["answering", "responseTimeMs", "staleServed"]);
  });
});
