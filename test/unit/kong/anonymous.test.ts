import { describe, expect, test } from "bun:test";
import { AnonymousConsumers } from "../../../src/kong/anonymous.ts";

const ID = "6f1c6d1e-7a2b-4c3d-8e9f-0a1b2c3d4e5f";

describe("AnonymousConsumers: Kong's anonymous consumer, named by id or by username", () => {
  test("a UUID is matched as an id (whatever its case) and as a username", () => {
    const anonymous = new AnonymousConsumers([ID.toUpperCase()]);
    expect(anonymous.includes(ID, null)).toBe(true);
    expect(anonymous.includes("other-id", ID.toUpperCase())).toBe(true);
    expect(anonymous.includes("other-id", ID)).toBe(false);
  });

  test("a username is matched only as a username, exactly", () => {
    const anonymous = new AnonymousConsumers(["guest"]);
    expect(anonymous.includes(ID, "guest")).toBe(true);
    expect(anonymous.includes("guest", null)).toBe(false);
    expect(anonymous.includes("guest", "Guest")).toBe(false);
  });

  test("a value shaped almost like a UUID is a username only", () => {
    for (const value of [`${ID}0`, `x${ID}`, ID.replaceAll("-", ""), ID.replace("6", "g")]) {
      const anonymous = new AnonymousConsumers([value]);
      expect(anonymous.includes(value.toLowerCase(), null)).toBe(false);
      expect(anonymous.includes(ID, value)).toBe(true);
    }
  });

  test("a consumer without a username is anonymous only by its id", () => {
    const anonymous = new AnonymousConsumers(["guest", ID]);
    expect(anonymous.includes("someone", undefined)).toBe(false);
    expect(anonymous.includes("someone", null)).toBe(false);
    expect(new AnonymousConsumers([]).includes(ID, "guest")).toBe(false);
  });
});
