import { describe, expect, test } from "bun:test";
import {
  circuitOpen,
  failed,
  kongMisconfigured,
  kongUnavailable,
  succeeded,
  unknownConsumer,
} from "../../../src/kong/result.ts";

describe("KongResult: how a Kong failure reaches the handlers", () => {
  test("an outage keeps its status and cause; Kong was asked", () => {
    const cause = new Error("ECONNRESET");
    expect(kongUnavailable("GET consumer: Kong answered 503", 503, cause)).toEqual({
      kind: "unavailable",
      message: "GET consumer: Kong answered 503",
      status: 503,
      circuitOpen: false,
      cause,
    });
  });

  test("a misconfiguration keeps its status", () => {
    expect(kongMisconfigured("refused", 401)).toEqual({
      kind: "misconfigured",
      message: "refused",
      status: 401,
    });
  });

  test("an open breaker is an outage in which Kong was not even asked (logged quietly)", () => {
    expect(circuitOpen("GET consumer: circuit breaker open")).toEqual({
      kind: "unavailable",
      message: "GET consumer: circuit breaker open",
      circuitOpen: true,
    });
  });

  test("an unknown consumer carries nothing but its kind, and cannot be changed by whoever receives it", () => {
    expect(unknownConsumer).toEqual({ kind: "unknown-consumer" });
    expect(Object.isFrozen(unknownConsumer)).toBe(true);
  });

  test("a result is a value or a failure, told apart by `ok`", () => {
    expect(succeeded(7)).toEqual({ ok: true, value: 7 });
    expect(failed(unknownConsumer)).toEqual({ ok: false, error: { kind: "unknown-consumer" } });
  });
});
