import { describe, expect, test } from "bun:test";
import { createStrategy, pathSegment } from "../../../src/kong/strategies.ts";

const KONNECT = "https://eu.api.konghq.com/v2/control-planes/0b5e0c5e-9d7c-4b47-8d9a-111111111111";

describe("pathSegment: one value, one path segment", () => {
  test("every character that would end or change the segment is percent-encoded", () => {
    expect(pathSegment("a/b?c#d%e f+g")).toBe("a%2Fb%3Fc%23d%25e%20f%2Bg");
    expect(pathSegment("...")).toBe("...");
  });

  test("values a URL parser would read as a dot segment (or none) are refused", () => {
    for (const value of ["", ".", ".."]) {
      expect(() => pathSegment(value)).toThrow(new RangeError("not usable as a path segment"));
    }
  });
});

describe("createStrategy: where each mode's endpoints live and how the admin token travels", () => {
  test("KONNECT: core-entities under the control plane, the control plane itself as the probe", () => {
    const strategy = createStrategy("KONNECT", `${KONNECT}/`, "kpat_abc");
    expect(strategy.mode).toBe("KONNECT");
    expect(strategy.consumerUrl("a/b")).toBe(`${KONNECT}/core-entities/consumers/a%2Fb`);
    expect(strategy.credentialsUrl("c d")).toBe(`${KONNECT}/core-entities/consumers/c%20d/jwt`);
    expect(strategy.probeUrl()).toBe(KONNECT);
    expect(strategy.headers).toEqual({ accept: "application/json", authorization: "Bearer kpat_abc" });
    expect(strategy.resolvesByUsername).toBe(true);
  });

  test("API_GATEWAY: /consumers at the Admin API root, /status as the probe", () => {
    const strategy = createStrategy("API_GATEWAY", "http://kong:8001///", "rbac");
    expect(strategy.mode).toBe("API_GATEWAY");
    expect(strategy.consumerUrl("a+b")).toBe("http://kong:8001/consumers/a%2Bb");
    expect(strategy.credentialsUrl("id")).toBe("http://kong:8001/consumers/id/jwt");
    expect(strategy.probeUrl()).toBe("http://kong:8001/status");
    expect(strategy.headers).toEqual({ accept: "application/json", "kong-admin-token": "rbac" });
    expect(strategy.resolvesByUsername).toBe(false);
  });

  test("without a token (open-source Kong) no admin header is sent at all, in either mode", () => {
    for (const mode of ["API_GATEWAY", "KONNECT"] as const) {
      for (const token of [undefined, ""]) {
        expect(createStrategy(mode, KONNECT, token).headers).toEqual({ accept: "application/json" });
      }
    }
  });

  test("a path segment that cannot be one is refused before any URL is built", () => {
    for (const mode of ["KONNECT", "API_GATEWAY"] as const) {
      const strategy = createStrategy(mode, KONNECT, "t");
      expect(() => strategy.consumerUrl("..")).toThrow(RangeError);
      expect(() => strategy.credentialsUrl(".")).toThrow(RangeError);
    }
  });
});
