import { describe, expect, test } from "bun:test";
import {
  circuitOpen,
  isKongError,
  KongError,
  kongMisconfigured,
  kongUnavailable,
} from "../../../src/kong/errors.ts";

describe("KongError: how a Kong failure reaches the handlers", () => {
  test("an outage keeps its status and cause; Kong was asked", () => {
    const cause = new Error("ECONNRESET");
    const error = kongUnavailable("GET consumer: Kong answered 503", 503, cause);
    expect(error).toMatchObject({ kind: "unavailable", status: 503, circuitOpen: false, cause });
    expect(error.message).toBe("GET consumer: Kong answered 503");
  });

  test("a misconfiguration keeps its status", () => {
    expect(kongMisconfigured("refused", 401)).toMatchObject({
      kind: "misconfigured",
      status: 401,
      circuitOpen: false,
    });
  });

  test("an open breaker is an outage in which Kong was not even asked (logged quietly)", () => {
    const error = circuitOpen("GET consumer: circuit breaker open");
    expect(error).toMatchObject({ kind: "unavailable", circuitOpen: true, status: undefined });
  });

  test("a KongError says what it is in logs and stack traces", () => {
    const error = kongUnavailable("x");
    expect(error.name).toBe("KongError");
    expect(String(error)).toBe("KongError: x");
  });

  test("only KongErrors are recognised as Kong's answer", () => {
    expect(isKongError(kongMisconfigured("x"))).toBe(true);
    expect(isKongError(new KongError("unavailable", "x"))).toBe(true);
    for (const other of [new Error("x"), { kind: "unavailable" }, null, undefined, "KongError"]) {
      expect(isKongError(other)).toBe(false);
    }
  });
});
