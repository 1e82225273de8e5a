import { afterEach, describe, expect, test } from "bun:test";
import { manualClock } from "../support/clock.ts";
import { type Stack, startStack } from "../support/stack.ts";

let stack: Stack | undefined;
afterEach(async () => {
  await stack?.stop();
  stack = undefined;
});

describe("a consumer Kong does not know", () => {
  test("is not asked of Kong again for 10 s, and is once they have passed", async () => {
    const clock = manualClock();
    stack = await startStack({ now: clock.now });
    const ghost = { id: crypto.randomUUID(), username: "ghost" };
    const consumerCalls = () => stack?.emulator.countCalls({ pathIncludes: ghost.id }) ?? 0;

    expect((await stack.tokens(ghost)).status).toBe(401);
    expect(consumerCalls()).toBe(1);

    // Kong learns the consumer right away; the service keeps its record for the full 10 s.
    stack.emulator.addCredential(stack.emulator.addConsumer(ghost).id);
    clock.advance(10_000);
    expect((await stack.tokens(ghost)).status).toBe(401);
    expect(consumerCalls()).toBe(1);

    clock.advance(1);
    expect((await stack.tokens(ghost)).status).toBe(200);
    expect(consumerCalls()).toBeGreaterThan(1);
  });
});
