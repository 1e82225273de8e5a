import { describe, expect, test } from "bun:test";
import type { Server } from "bun";
import {
  CONSUMER_HEADERS,
  consumerIdentity,
  type IdentityResult,
  MAX_USERNAME_LENGTH,
  readConsumerIdentity,
  type WithConsumer,
} from "../../../src/http/consumer-identity.ts";
import { CommonHeaders } from "../../../src/http/request-context.ts";
import { AnonymousConsumers } from "../../../src/kong/anonymous.ts";

const ID = "6f1c6d1e-7a2b-4c3d-8e9f-0a1b2c3d4e5f";

/** Bun's Headers hold each received byte as one character (Latin-1); Kong sends UTF-8 bytes. */
const onTheWire = (username: string) => Buffer.from(username, "utf8").toString("latin1");

function read(username: string) {
  return readConsumerIdentity(new Headers({ "x-consumer-id": ID, "x-consumer-username": username }));
}

describe("readConsumerIdentity: usernames as Kong sends them", () => {
  test.each(["josé", "user€", "山田太郎", "🦊", "Ünïcødé ☃"])(
    "UTF-8 bytes of %p read back as the name",
    (name) => {
      expect(read(onTheWire(name))).toEqual({ ok: true, identity: { consumerId: ID, username: name } });
    },
  );

  test("ASCII is returned as it is", () => {
    expect(read("alice.smith+1@example.com")).toEqual({
      ok: true,
      identity: { consumerId: ID, username: "alice.smith+1@example.com" },
    });
  });

  test("bytes that are not UTF-8 are left as received (Kong never sends them)", () => {
    expect(read("\u00c9mile")).toEqual({ ok: true, identity: { consumerId: ID, username: "\u00c9mile" } });
  });

  test.each(["\u0085", "\u009f", "\u007f", "\t"])(
    "a control character (%p), UTF-8 encoded or not, is malformed",
    (control) => {
      for (const username of [onTheWire(`a${control}b`), `a${control}b`]) {
        expect(read(username)).toEqual({ ok: false, detail: "The X-Consumer-Username header is malformed." });
      }
    },
  );

  test("the 256-character limit counts characters, not bytes", () => {
    for (const char of ["a", "é", "€", "🦊"]) {
      expect(read(onTheWire(char.repeat(256))).ok).toBe(true);
      expect(read(onTheWire(char.repeat(257)))).toEqual({
        ok: false,
        detail: "The X-Consumer-Username header is malformed.",
      });
    }
  });
});

const MALFORMED: IdentityResult = { ok: false, detail: "The X-Consumer-Username header is malformed." };
const ANONYMOUS: IdentityResult = { ok: false, detail: "Anonymous consumers cannot obtain tokens." };

function readHeaders(headers: Record<string, string>, anonymous?: AnonymousConsumers) {
  return readConsumerIdentity(new Headers(headers), anonymous);
}

describe("readConsumerIdentity: the consumer id", () => {
  test("a missing or empty X-Consumer-ID is refused as missing", () => {
    const cases: Record<string, string>[] = [
      { "x-consumer-username": "alice" },
      { "x-consumer-id": "", "x-consumer-username": "alice" },
    ];
    for (const headers of cases) {
      expect(readHeaders(headers)).toEqual({ ok: false, detail: "The X-Consumer-ID header is missing." });
    }
  });

  test.each([
    "not-a-uuid",
    "6f1c6d1e7a2b4c3d8e9f0a1b2c3d4e5f",
    `${ID}0`,
    `0${ID}`,
    `${ID}, ${ID}`,
    "6f1c6d1e-7a2b-4c3d-8e9f-0a1b2c3d4e5g",
    "6f1c6d1-7a2b-4c3d-8e9f-0a1b2c3d4e5f0",
    "6f1c6d1e-7a2-b4c3d-8e9f-0a1b2c3d4e5f",
    "6f1c6d1e-7a2b-4c3-d8e9f-0a1b2c3d4e5f",
    "6f1c6d1e-7a2b-4c3d-8e9-f0a1b2c3d4e5f",
    "6f1c6d1e_7a2b_4c3d_8e9f_0a1b2c3d4e5f",
  ])("an X-Consumer-ID that is not a UUID (%p) was not set by Kong", (id) => {
    expect(readHeaders({ "x-consumer-id": id, "x-consumer-username": "alice" })).toEqual({
      ok: false,
      detail: "The X-Consumer-ID header is not a Kong consumer id.",
    });
  });

  test("an upper-case UUID is accepted and lower-cased, so one consumer has one cache slot", () => {
    expect(readHeaders({ "x-consumer-id": ID.toUpperCase(), "x-consumer-username": "alice" })).toEqual({
      ok: true,
      identity: { consumerId: ID, username: "alice" },
    });
  });
});

describe("readConsumerIdentity: anonymous consumers", () => {
  test.each(["true", "TRUE", "True", "yes", "1", ""])(
    "X-Anonymous-Consumer: %p is refused before anything else",
    (value) => {
      expect(
        readHeaders({ "x-anonymous-consumer": value, "x-consumer-id": ID, "x-consumer-username": "alice" }),
      ).toEqual(ANONYMOUS);
      expect(readHeaders({ "x-anonymous-consumer": value })).toEqual(ANONYMOUS);
    },
  );

  test.each(["false", "FALSE", "False"])("X-Anonymous-Consumer: %p is a real consumer", (value) => {
    expect(
      readHeaders({ "x-anonymous-consumer": value, "x-consumer-id": ID, "x-consumer-username": "alice" }),
    ).toEqual({
      ok: true,
      identity: { consumerId: ID, username: "alice" },
    });
  });

  test("the consumers named in KONG_ANONYMOUS_CONSUMERS are refused by id, whatever its case, and by name", () => {
    const anonymous = new AnonymousConsumers([ID.toUpperCase(), "guest"]);
    const other = "0a1b2c3d-4e5f-4a6b-8c7d-9e0f1a2b3c4d";
    expect(readHeaders({ "x-consumer-id": ID, "x-consumer-username": "alice" }, anonymous)).toEqual(
      ANONYMOUS,
    );
    expect(
      readHeaders({ "x-consumer-id": ID.toUpperCase(), "x-consumer-username": "alice" }, anonymous),
    ).toEqual(ANONYMOUS);
    expect(readHeaders({ "x-consumer-id": other, "x-consumer-username": "guest" }, anonymous)).toEqual(
      ANONYMOUS,
    );
    expect(readHeaders({ "x-consumer-id": other, "x-consumer-username": "alice" }, anonymous)).toEqual({
      ok: true,
      identity: { consumerId: other, username: "alice" },
    });
  });
});

describe("readConsumerIdentity: the username", () => {
  test("a missing or empty X-Consumer-Username is refused as missing", () => {
    const cases: Record<string, string>[] = [
      { "x-consumer-id": ID },
      { "x-consumer-id": ID, "x-consumer-username": "" },
    ];
    for (const headers of cases) {
      expect(readHeaders(headers)).toEqual({
        ok: false,
        detail: "The X-Consumer-Username header is missing.",
      });
    }
  });

  test("printable ASCII up to 256 characters is taken as it is; 257 is malformed", () => {
    const longest = `${"x".repeat(254)} ~`;
    expect(read(longest)).toEqual({ ok: true, identity: { consumerId: ID, username: longest } });
    expect(read(`${longest}!`)).toEqual(MALFORMED);
  });

  test("the last printable ASCII and the first Latin-1 letters are not control characters", () => {
    expect(read("a~b")).toEqual({ ok: true, identity: { consumerId: ID, username: "a~b" } });
    expect(read(onTheWire("a\u00a0b"))).toEqual({
      ok: true,
      identity: { consumerId: ID, username: "a\u00a0b" },
    });
    expect(read("a\u00a0b")).toEqual({ ok: true, identity: { consumerId: ID, username: "a\u00a0b" } });
  });

  test.each(["\u0001", "\u001f", "\u0080"])("the control character %p is malformed", (control) => {
    expect(read(onTheWire(`a${control}b`))).toEqual(MALFORMED);
  });

  test("a byte-order mark Kong forwards is part of the name", () => {
    expect(read(onTheWire("\ufeffbob"))).toEqual({
      ok: true,
      identity: { consumerId: ID, username: "\ufeffbob" },
    });
  });

  test("bytes that are not UTF-8 are counted as received: 256 pass, 257 are malformed", () => {
    expect(read("\u00e9".repeat(256)).ok).toBe(true);
    expect(read("\u00e9".repeat(257))).toEqual(MALFORMED);
  });
});

describe("the identity step", () => {
  const context = () => ({
    requestId: "r-1",
    startedAt: 0,
    server: {} as Server<unknown>,
    headers: {},
    common: new CommonHeaders({}),
    headersGiven: false,
  });
  const ctx = context();
  const UPPER_ID = ID.toUpperCase();

  test("a consumer Kong named goes on in the context, the request's own context kept", async () => {
    const ctx = context();
    const before = { ...ctx };
    let refusals = 0;
    let received: WithConsumer | undefined;
    const step = consumerIdentity(new AnonymousConsumers(["anonymous"]), () => refusals++);
    const headers = { [CONSUMER_HEADERS.id]: UPPER_ID, [CONSUMER_HEADERS.username]: "alice" };
    const response = step(new Request("http://auth.internal/tokens", { headers }), ctx, (_request, c) => {
      received = c;
      return new Response("issued");
    }) as Response;
    expect(await response.text()).toBe("issued");
    expect(received).toEqual({ ...before, consumer: { consumerId: ID, username: "alice" } });
    // The same object, not a copy: what the handler notes in it reaches the pipeline.
    expect(received).toBe(ctx as unknown as WithConsumer);
    expect(refusals).toBe(0);
  });

  test("headers that break the rules, or an anonymous consumer: 401 with Kong's challenge, the handler never runs", async () => {
    let refusals = 0;
    const step = consumerIdentity(new AnonymousConsumers(["anonymous"]), () => refusals++);
    for (const [headers, detail] of [
      [{}, "The X-Consumer-ID header is missing."],
      [
        { [CONSUMER_HEADERS.id]: UPPER_ID, [CONSUMER_HEADERS.username]: "anonymous" },
        "Anonymous consumers cannot obtain tokens.",
      ],
    ] as const) {
      const response = step(new Request("http://auth.internal/tokens", { headers }), ctx, () => {
        throw new Error("the handler ran");
      }) as Response;
      expect(response.status).toBe(401);
      expect(response.headers.get("www-authenticate")).toBe('Key realm="kong"');
      expect(await response.json()).toEqual({
        type: "urn:auth-service:problem:unauthorized",
        title: "Unauthorized",
        status: 401,
        detail,
      });
    }
    expect(refusals).toBe(2);
  });

  test("the header names and the username limit the document states are the ones enforced", () => {
    expect(CONSUMER_HEADERS).toEqual({
      id: "X-Consumer-ID",
      username: "X-Consumer-Username",
      anonymous: "X-Anonymous-Consumer",
    });
    const named = (username: string) =>
      readConsumerIdentity(
        new Headers({ [CONSUMER_HEADERS.id]: UPPER_ID, [CONSUMER_HEADERS.username]: username }),
      ).ok;
    expect(named("a".repeat(MAX_USERNAME_LENGTH))).toBe(true);
    expect(named("a".repeat(MAX_USERNAME_LENGTH + 1))).toBe(false);
  });
});
