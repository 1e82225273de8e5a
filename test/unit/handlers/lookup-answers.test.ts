import { describe, expect, test } from "bun:test";
import type { FoundCredential, LookupFailure } from "../../../src/credentials/service.ts";
import { failureAnswer, type LookupAnswerDeps, noteStaleCopy } from "../../../src/handlers/lookup-answers.ts";
import { problem } from "../../../src/http/problem.ts";
import type { Logger } from "../../../src/telemetry/logger.ts";
import type { ServiceMetrics } from "../../../src/telemetry/metrics.ts";

/**
 * What the token handlers do with a lookup's result besides answering: the metric labels and log
 * levels operators alert on (docs/operations.md: circuit_breaker_fallback_total's `source`, and
 * "Kong unavailable" at error only when the breaker did not already say so).
 */
function recording() {
  const calls = {
    stale: [] as string[],
    failed: [] as string[],
    lines: [] as [string, string][],
    staleServed: 0,
  };
  const logger = {
    log: (level: string, message: string) => calls.lines.push([level, message]),
    warn: (message: string) => calls.lines.push(["warn", message]),
    error: (message: string) => calls.lines.push(["error", message]),
  } as unknown as Logger;
  const metrics = {
    staleFallback: (tier: string) => calls.stale.push(tier),
    tokenFailed: (reason: string) => calls.failed.push(reason),
  } as unknown as ServiceMetrics;
  const deps: LookupAnswerDeps = {
    logger,
    metrics,
    kongHealth: { recordStaleServed: () => calls.staleServed++ },
    refuse: problem,
  };
  return { calls, deps };
}

const LOG = { consumer: { id: "c-1" }, http: { request: { id: "r-1" } } };
const found = (source: FoundCredential["source"]) =>
  ({ credential: {}, source, reason: "GET consumer: timeout" }) as unknown as FoundCredential;

describe("noteStaleCopy", () => {
  test.each([
    ["stale-memory", "in-memory"],
    ["stale-redis", "redis-stale"],
  ] as const)(
    "a copy from %s is counted as source %s, reported to /health and logged as a warning",
    (source, tier) => {
      const { calls, deps } = recording();
      noteStaleCopy(found(source), deps, LOG);
      expect(calls.stale).toEqual([tier]);
      expect(calls.staleServed).toBe(1);
      expect(calls.lines).toEqual([
        ["warn", "Kong unavailable (GET consumer: timeout); signing with a stale credential"],
      ]);
    },
  );

  test.each(["kong", "redis"] as const)("a fresh answer (%s) is none of that", (source) => {
    const { calls, deps } = recording();
    noteStaleCopy(found(source), deps, LOG);
    expect(calls).toEqual({ stale: [], failed: [], lines: [], staleServed: 0 });
  });
});

describe("failureAnswer", () => {
  const unavailable = (circuitOpen: boolean): LookupFailure => ({
    kind: "unavailable",
    message: "GET /consumers/c-1: timeout",
    circuitOpen,
    retryAfterSeconds: 7,
  });

  test("Kong unavailable: 503 with Retry-After; logged at error when Kong was asked, at debug when the open breaker refused", async () => {
    for (const [circuitOpen, level] of [
      [false, "error"],
      [true, "debug"],
    ] as const) {
      const { calls, deps } = recording();
      const answer = failureAnswer(unavailable(circuitOpen), deps, LOG);
      expect(answer.status).toBe(503);
      expect(answer.headers.get("retry-after")).toBe("7");
      expect(calls.failed).toEqual(["kong_unavailable"]);
      expect(calls.lines).toEqual([[level, "Kong unavailable: GET /consumers/c-1: timeout"]]);
    }
  });
});
