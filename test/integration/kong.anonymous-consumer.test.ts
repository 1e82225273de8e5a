import { afterEach, describe, expect, test } from "bun:test";
import { KongEmulator, type KongMode } from "../support/kong-emulator.ts";
import { type Stack, startStack } from "../support/stack.ts";

let stack: Stack | undefined;
let emulator: KongEmulator | undefined;
afterEach(async () => {
  await stack?.stop();
  await emulator?.stop();
  stack = undefined;
  emulator = undefined;
});

async function expectRefused(response: Response) {
  expect(response.status).toBe(401);
  expect(response.headers.get("content-type")).toBe("application/problem+json");
  expect(response.headers.get("www-authenticate")).toBe('Key realm="kong"');
  const body = (await response.json()) as { status: number; detail: string };
  expect(body.status).toBe(401);
  expect(body.detail).toBe("Anonymous consumers cannot obtain tokens.");
}

describe("Kong's anonymous consumer never gets a token or a credential", () => {
  test("Konnect: a realm consumer named anonymous is not mapped onto the control plane's anonymous consumer", async () => {
    stack = await startStack({ mode: "KONNECT" });
    const anonymous = stack.emulator.addConsumer({ username: "anonymous" });
    const realm = stack.emulator.addRealmConsumer({ username: "anonymous" });

    await expectRefused(await stack.tokens(realm));
    await expectRefused(await stack.tokens(realm));
    expect(stack.emulator.credentialsOf(anonymous.id)).toEqual([]);
    expect(stack.emulator.countCalls({ pathIncludes: "/anonymous" })).toBe(0);
  });

  test("Konnect: a realm name that resolves to the anonymous consumer (listed by id) gets no token and no credential", async () => {
    emulator = KongEmulator.start({ mode: "KONNECT" });
    const guest = emulator.addConsumer({ username: "guest" });
    stack = await startStack({ emulator, env: { KONG_ANONYMOUS_CONSUMERS: guest.id } });
    const realm = emulator.addRealmConsumer({ username: "guest" });

    const response = await stack.tokens(realm);
    expect(response.status).toBe(401);
    expect(emulator.credentialsOf(guest.id)).toEqual([]);
    expect(emulator.countCalls({ method: "POST" })).toBe(0);
  });

  test.each(["API_GATEWAY", "KONNECT"] as KongMode[])(
    "%s: the anonymous consumer's own id or name is refused before any Kong call",
    async (mode) => {
      emulator = KongEmulator.start({ mode });
      const anonymous = emulator.addConsumer({ username: "anonymous" });
      const guest = emulator.addConsumer({ username: "guest" });
      stack = await startStack({ emulator, env: { KONG_ANONYMOUS_CONSUMERS: `anonymous, ${guest.id}` } });

      await expectRefused(await stack.tokens(anonymous));
      await expectRefused(await stack.tokens({ id: crypto.randomUUID(), username: "anonymous" }));
      await expectRefused(await stack.tokens(guest));
      await expectRefused(await stack.tokens({ id: guest.id.toUpperCase(), username: "guest" }));
      expect(emulator.calls).toEqual([]);
      expect(emulator.credentialsOf(anonymous.id)).toEqual([]);
      expect(emulator.credentialsOf(guest.id)).toEqual([]);
    },
  );

  test("other consumers are unaffected", async () => {
    stack = await startStack({ mode: "KONNECT" });
    stack.emulator.addConsumer({ username: "anonymous" });
    const plane = stack.emulator.addConsumer({ username: "realm-user" });
    const realm = stack.emulator.addRealmConsumer({ username: "realm-user" });
    expect((await stack.tokens(realm)).status).toBe(200);
    expect(stack.emulator.credentialsOf(plane.id)).toHaveLength(1);
  });
});
