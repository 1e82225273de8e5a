import { describe, expect, test } from "bun:test";
import { kongMisconfigured, kongUnavailable } from "../../../src/kong/errors.ts";
import { KongHealth } from "../../../src/kong/health.ts";
import { manualClock } from "../../support/clock.ts";

/** A probe that answers as told, counting how often it is asked. */
function fakeKong() {
  const kong = {
    failure: undefined as Error | undefined,
    probes: 0,
    async probe() {
      kong.probes++;
      if (kong.failure) throw kong.failure;
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
