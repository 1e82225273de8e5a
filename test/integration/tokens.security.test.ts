import { afterAll, beforeAll, beforeEach, describe, expect, test } from "bun:test";
import type { EmulatedConsumer } from "../support/kong-emulator.ts";
import { type Stack, startStack } from "../support/stack.ts";

describe("GET /tokens refuses what Kong would never send", () => {
  let stack: Stack;
  let consumer: EmulatedConsumer;
  beforeAll(async () => {
    stack = await startStack();
    consumer = stack.emulator.addConsumer({ username: "victim" });
    stack.emulator.addCredential(consumer.id);
  });
  beforeEach(() => stack.emulator.resetCalls());
  afterAll(() => stack.stop());

  const send = (headers: Record<string, string>) => stack.fetch("/tokens", { headers });

  async function refused(response: Response, status = 401) {
    expect(response.status).toBe(status);
    expect(response.headers.get("content-type")).toBe("application/problem+json");
    if (status === 401) expect(response.headers.get("www-authenticate")).toBe('Key realm="kong"');
    expect(stack.emulator.calls).toHaveLength(0);
  }

  test("no headers at all", async () => refused(await send({})));
  test("missing X-Consumer-ID", async () => refused(await send({ "x-consumer-username": "victim" })));
  test("missing X-Consumer-Username", async () => refused(await send({ "x-consumer-id": consumer.id })));
  test("empty values", async () => refused(await send({ "x-consumer-id": "", "x-consumer-username": "" })));

  test.each(["true", "TRUE", "True", "tRuE", "yes", "1"])("X-Anonymous-Consumer: %s", async (value) =>
    refused(
      await send({
        "x-consumer-id": consumer.id,
        "x-consumer-username": "victim",
        "x-anonymous-consumer": value,
      }),
    ),
  );

  test("X-Anonymous-Consumer: false is an ordinary consumer", async () => {
    const response = await send({
      "x-consumer-id": consumer.id,
      "x-consumer-username": "victim",
      "x-anonymous-consumer": "false",
    });
    expect(response.status).toBe(200);
  });

  test.each([
    ["not a uuid", "victim"],
    ["../../status", "victim"],
    ["%2e%2e%2fstatus", "victim"],
    ["x".repeat(300), "victim"],
  ])("X-Consumer-ID %p never reaches Kong", async (id, username) =>
    refused(await send({ "x-consumer-id": id, "x-consumer-username": username })),
  );

  test("an oversized username", async () =>
    refused(await send({ "x-consumer-id": consumer.id, "x-consumer-username": "v".repeat(257) })));

  test.each(["\t", "\u007f", "\u0085"])("a control character %p in the username", async (control) =>
    refused(await send({ "x-consumer-id": consumer.id, "x-consumer-username": `vic${control}tim` })),
  );

  test("C0 controls other than tab are refused by Bun's HTTP parser before any handler runs", async () => {
    const response = await send({ "x-consumer-id": consumer.id, "x-consumer-username": "vic\u0001tim" });
    expect(response.status).toBe(400);
    expect(stack.emulator.calls).toHaveLength(0);
  });

  test("a username that differs from Kong's record for the id is refused", async () => {
    const response = await send({ "x-consumer-id": consumer.id, "x-consumer-username": "attacker" });
    expect(response.status).toBe(401);
    const body = (await response.json()) as { detail: string };
    expect(body.detail).toContain("does not match");
  });

  test("repeated consumer headers are refused", async () => {
    const headers = new Headers();
    headers.append("x-consumer-id", consumer.id);
    headers.append("x-consumer-id", crypto.randomUUID());
    headers.append("x-consumer-username", "victim");
    await refused(await stack.fetch("/tokens", { headers }));
  });

  test("an upper-case id is the same consumer: no second cache slot, Kong lookup or credential", async () => {
    expect((await send({ "x-consumer-id": consumer.id, "x-consumer-username": "victim" })).status).toBe(200);
    stack.emulator.resetCalls();
    const response = await send({
      "x-consumer-id": consumer.id.toUpperCase(),
      "x-consumer-username": "victim",
    });
    expect(response.status).toBe(200);
    // Served from the slot the lower-case id filled: Kong is not asked again.
    expect(stack.emulator.calls).toHaveLength(0);
    expect(stack.emulator.credentialsOf(consumer.id)).toHaveLength(1);
  });
});

describe("Konnect realm lookups keep the Kong path to the consumer's own", () => {
  test.each(["..", ".", "../status", "a/b", "%2e%2e", "x?y#z"])("username %p", async (username) => {
    const stack = await startStack({ mode: "KONNECT" });
    try {
      const response = await stack.tokens({ id: crypto.randomUUID(), username });
      expect(response.status).toBe(401);
      const prefix = new URL(stack.emulator.adminUrl).pathname;
      for (const call of stack.emulator.calls) {
        expect(call.path.startsWith(`${prefix}/core-entities/consumers/`)).toBe(true);
        const rest = call.path.slice(`${prefix}/core-entities/consumers/`.length).split("/");
        expect(rest.length).toBeLessThanOrEqual(2);
        expect(decodeURIComponent(rest[0] as string)).not.toMatch(/^\.\.?$/);
        if (rest.length === 2) expect(rest[1]).toBe("jwt");
      }
    } finally {
      await stack.stop();
    }
  });
});
