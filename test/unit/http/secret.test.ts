import { describe, expect, test } from "bun:test";
import { secretMatcher } from "../../../src/http/secret.ts";

describe("secretMatcher", () => {
  test("only the exact secret matches: not a prefix, an extension, another case or nothing", () => {
    const matches = secretMatcher("kong-shared-secret-0123456789");
    expect(matches("kong-shared-secret-0123456789")).toBe(true);
    for (const presented of [
      null,
      "",
      "kong-shared-secret-012345678",
      "kong-shared-secret-0123456789x",
      "KONG-SHARED-SECRET-0123456789",
    ]) {
      expect(matches(presented)).toBe(false);
    }
  });
});
