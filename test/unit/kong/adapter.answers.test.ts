import { describe, expect, test } from "bun:test";
import {
  adapterFor,
  json,
  kongFailureOf,
  kongValueOf,
  scriptedKongs,
  UNKNOWN_CONSUMER,
} from "./support/kong-adapter.ts";

const ID = "6f1c6d1e-7a2b-4c3d-8e9f-0a1b2c3d4e5f";
const CREDENTIAL = { id: ID, key: "k".repeat(32), secret: "s".repeat(32), algorithm: "HS256", created_at: 7 };

const kong = scriptedKongs();

describe("how the adapter reads Kong's answers", () => {
  test("a consumer is returned with only what the token path reads", async () => {
    const server = kong(() => json(200, { id: ID, username: "alice", custom_id: "c", tags: ["t"] }));
    const { adapter } = adapterFor(server.url);
    expect(await kongValueOf(adapter.findConsumer("alice"))).toEqual({ id: ID, username: "alice" });
    expect(server.requests.map((r) => `${r.method} ${r.path}`)).toEqual(["GET /consumers/alice"]);
  });

  test("404 is an answer: an unknown consumer is null, on a lookup, a list and a create", async () => {
    const server = kong(() => json(404, { message: "Not found" }));
    const { adapter, outcomes } = adapterFor(server.url);
    expect(await adapter.findConsumer("ghost")).toEqual(UNKNOWN_CONSUMER);
    expect(await adapter.listCredentials(ID)).toEqual(UNKNOWN_CONSUMER);
    expect(await adapter.createCredential(ID)).toEqual(UNKNOWN_CONSUMER);
    // Nothing is retried, and Kong answering 404 counts for it, not against it.
    expect(server.requests).toHaveLength(3);
    expect(outcomes.map(([, outcome]) => outcome)).toEqual(["success", "success", "success"]);
  });

  test("a create posts the algorithm as JSON and returns Kong's 201 credential", async () => {
    const server = kong(() => json(201, { ...CREDENTIAL, consumer: { id: ID }, rsa_public_key: null }));
    const { adapter } = adapterFor(server.url);
    expect(await kongValueOf(adapter.createCredential(ID, { algorithm: "HS512" }))).toEqual({
      ...CREDENTIAL,
      rsa_public_key: null,
    });
    const [request] = server.requests;
    expect(request?.method).toBe("POST");
    expect(request?.path).toBe(`/consumers/${ID}/jwt`);
    expect(request?.headers.get("content-type")).toBe("application/json");
    expect(JSON.parse(request?.body ?? "")).toEqual({ algorithm: "HS512" });
  });

  test("a create without an algorithm asks Kong for HS256", async () => {
    const server = kong(() => json(201, CREDENTIAL));
    const { adapter } = adapterFor(server.url);
    await adapter.createCredential(ID);
    expect(JSON.parse(server.requests[0]?.body ?? "")).toEqual({ algorithm: "HS256" });
  });

  test("reads send no body and no content-type", async () => {
    const server = kong(() => json(200, { id: ID }));
    const { adapter } = adapterFor(server.url);
    await adapter.findConsumer(ID);
    expect(server.requests[0]?.body).toBe("");
    expect(server.requests[0]?.headers.get("content-type")).toBeNull();
  });

  for (const status of [401, 403]) {
    test(`${status}: Kong refused the admin token, a misconfiguration, not an outage; never retried`, async () => {
      const server = kong(() => json(status, { message: "Invalid credentials" }));
      const { adapter, outcomes } = adapterFor(server.url, { token: "t".repeat(40) });
      const error = await kongFailureOf(adapter.findConsumer("alice"));
      expect(error).toMatchObject({ kind: "misconfigured", status });
      expect(error.message).toBe(`GET /consumers/alice: Kong refused the admin token (${status})`);
      expect(server.requests).toHaveLength(1);
      // A refusal is Kong answering: it does not count against the breaker.
      expect(outcomes).toEqual([["GET consumer", "error"]]);
    });
  }

  for (const status of [429, 500, 502, 503, 504]) {
    test(`${status}: Kong is unavailable; a read is retried once`, async () => {
      const server = kong(() => json(status, { message: "busy" }));
      const { adapter, outcomes } = adapterFor(server.url);
      const error = await kongFailureOf(adapter.findConsumer("alice"));
      expect(error).toMatchObject({ kind: "unavailable", status });
      expect(error.message).toBe(`GET /consumers/alice: Kong answered ${status}`);
      expect(server.requests).toHaveLength(2);
      expect(outcomes).toEqual([["GET consumer", "failure"]]);
    });
  }

  for (const status of [400, 405, 409, 422, 499]) {
    test(`${status}: Kong refused the request's shape, a misconfiguration; never retried`, async () => {
      const server = kong(() => json(status, { message: "schema violation" }));
      const { adapter } = adapterFor(server.url);
      const error = await kongFailureOf(adapter.listCredentials(ID));
      expect(error).toMatchObject({ kind: "misconfigured", status });
      expect(error.message).toBe(`GET /consumers/${ID}/jwt: Kong answered ${status}`);
      expect(server.requests).toHaveLength(1);
    });
  }

  test("a 503 that passes is hidden by the read's retry", async () => {
    const server = kong((_request, index) => (index === 0 ? json(503, {}) : json(200, { id: ID })));
    const { adapter } = adapterFor(server.url);
    expect(await kongValueOf(adapter.findConsumer(ID))).toEqual({ id: ID });
    expect(server.requests).toHaveLength(2);
  });

  test("a create is never repeated, even when Kong is unavailable (it may have succeeded)", async () => {
    const server = kong(() => json(503, {}));
    const { adapter } = adapterFor(server.url);
    expect(await kongFailureOf(adapter.createCredential(ID))).toMatchObject({
      kind: "unavailable",
      status: 503,
    });
    expect(server.requests).toHaveLength(1);
  });

  test("a 2xx other than 200 and 201 is read like them", async () => {
    const server = kong(() => json(203, { id: ID }));
    const { adapter } = adapterFor(server.url);
    expect(await kongValueOf(adapter.findConsumer(ID))).toEqual({ id: ID });
  });
});

describe("Kong's redirects are refused, never followed", () => {
  for (const status of [300, 301, 302, 303, 304, 307, 308]) {
    test(`${status}: a misconfigured KONG_ADMIN_URL; the Location never receives the admin token`, async () => {
      const elsewhere = kong(() => json(200, { id: ID }));
      const server = kong(
        () => new Response(null, { status, headers: { location: `${elsewhere.url}/consumers/alice` } }),
      );
      const { adapter, outcomes } = adapterFor(server.url, { token: "secret-admin-token" });
      const error = await kongFailureOf(adapter.findConsumer("alice"));
      expect(error).toMatchObject({ kind: "misconfigured", status });
      expect(error.message).toBe(`GET /consumers/alice: Kong answered ${status}`);
      expect(elsewhere.requests).toHaveLength(0);
      expect(server.requests).toHaveLength(1);
      expect(outcomes).toEqual([["GET consumer", "error"]]);
    });
  }
});

describe("an answer the adapter cannot use is an outage (Kong, or what is in front of it, misbehaves)", () => {
  test("invalid JSON is unavailable, not a misconfiguration, and a read retries it", async () => {
    const server = kong(() => new Response("<html>proxy error</html>", { status: 200 }));
    const { adapter, outcomes } = adapterFor(server.url);
    const error = await kongFailureOf(adapter.findConsumer("alice"));
    expect(error).toMatchObject({ kind: "unavailable", status: 200 });
    expect(error.message).toBe("GET /consumers/alice: unreadable response body");
    expect(error).toMatchObject({ cause: expect.any(SyntaxError) });
    expect(server.requests).toHaveLength(2);
    expect(outcomes).toEqual([["GET consumer", "failure"]]);
  });

  test("an empty 200 or 204 is unreadable, not an empty consumer", async () => {
    const server = kong((_request, index) =>
      index === 0 ? new Response(null, { status: 204 }) : new Response("", { status: 200 }),
    );
    const { adapter } = adapterFor(server.url);
    expect(await kongFailureOf(adapter.findConsumer("alice"))).toMatchObject({
      kind: "unavailable",
      message: "GET /consumers/alice: unreadable response body",
    });
  });

  test.each([
    ["a consumer without an id", { username: "alice" }],
    ["a consumer whose id is a number", { id: 42, username: "alice" }],
    ["an array instead of a consumer", [{ id: ID }]],
    ["null", null],
  ])("%s is not a Kong entity", async (_name, body) => {
    const server = kong(() => json(200, body));
    const { adapter } = adapterFor(server.url);
    const error = await kongFailureOf(adapter.findConsumer("alice"));
    expect(error).toMatchObject({ kind: "unavailable", status: 200 });
    expect(error.message).toBe("GET /consumers/alice: response is not a Kong entity");
    expect(server.requests).toHaveLength(2);
  });

  test.each([
    ["a list without data", { next: null }],
    ["a list whose data is not an array", { data: CREDENTIAL, next: null }],
    ["a list holding a credential without an id", { data: [{ key: "k" }], next: null }],
    ["a list whose next is not a string", { data: [], next: 5 }],
  ])("%s is not a Kong entity", async (_name, body) => {
    const server = kong(() => json(200, body));
    const { adapter } = adapterFor(server.url);
    const error = await kongFailureOf(adapter.listCredentials(ID));
    expect(error).toMatchObject({
      kind: "unavailable",
      message: `GET /consumers/${ID}/jwt: response is not a Kong entity`,
    });
  });

  test("a created credential of the wrong shape is not a Kong entity", async () => {
    const server = kong(() => json(201, { id: ID, key: 5 }));
    const { adapter } = adapterFor(server.url);
    expect(await kongFailureOf(adapter.createCredential(ID))).toMatchObject({
      kind: "unavailable",
      message: `POST /consumers/${ID}/jwt: response is not a Kong entity`,
    });
  });
});
