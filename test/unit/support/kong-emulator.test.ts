import { afterEach, beforeEach, describe, expect, test } from "bun:test";
import { KongEmulator, type KongMode, uuid } from "../../support/kong-emulator.ts";
import { AdminClient } from "./admin-client.ts";

const ALNUM_32 = /^[A-Za-z0-9]{32}$/;
const UUID = /^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$/;

describe.each(["API_GATEWAY", "KONNECT"] as const)("Kong emulator credential API (%s)", (mode: KongMode) => {
  let kong: KongEmulator;
  let admin: AdminClient;

  beforeEach(() => {
    kong = KongEmulator.start({ mode });
    admin = new AdminClient(kong);
  });
  afterEach(() => kong.stop());

  function expectNotFound(response: { status: number; body: unknown; headers: Headers }) {
    expect(response.status).toBe(404);
    if (mode === "API_GATEWAY") {
      expect(response.body).toEqual({ message: "Not found" });
    } else {
      expect(response.headers.get("content-type")).toBe("application/problem+json");
      expect(response.body).toMatchObject({ status: 404, title: "Not Found", detail: "Not found" });
      expect((response.body as { instance: string }).instance).toMatch(/^kong:trace:\d+$/);
    }
  }

  test("creates a credential with a generated 32-character alphanumeric key and secret", async () => {
    const consumer = kong.addConsumer({ username: "alice" });
    const before = Math.floor(Date.now() / 1000);
    const created = await admin.request("POST", `/consumers/${consumer.id}/jwt`);
    const after = Math.floor(Date.now() / 1000);

    expect(created.status).toBe(201);
    expect(created.body.id).toMatch(UUID);
    expect(created.body.key).toMatch(ALNUM_32);
    expect(created.body.secret).toMatch(ALNUM_32);
    expect(created.body.key).not.toBe(created.body.secret);
    expect(created.body).toMatchObject({
      consumer: { id: consumer.id },
      algorithm: "HS256",
      rsa_public_key: null,
      tags: null,
    });
    expect(Number.isInteger(created.body.created_at)).toBe(true);
    expect(created.body.created_at).toBeGreaterThanOrEqual(before);
    expect(created.body.created_at).toBeLessThanOrEqual(after);
    expect(kong.credentialByKey(created.body.key)?.consumer.id).toBe(consumer.id);
  });

  test("keeps a custom key, secret and algorithm from a JSON body", async () => {
    kong.addConsumer({ username: "bob" });
    const created = await admin.request("POST", "/consumers/bob/jwt", {
      json: { key: "bob-key", secret: "bob-secret", algorithm: "HS512", tags: ["t1"] },
    });
    expect(created.status).toBe(201);
    expect(created.body).toMatchObject({
      key: "bob-key",
      secret: "bob-secret",
      algorithm: "HS512",
      tags: ["t1"],
    });

    const fetched = await admin.request("GET", `/consumers/bob/jwt/${created.body.id}`);
    expect(fetched.body).toEqual(created.body);
  });

  test("accepts a form-encoded body", async () => {
    kong.addConsumer({ username: "carol" });
    const created = await admin.request("POST", "/consumers/carol/jwt", {
      form: [
        ["key", "carol-key"],
        ["algorithm", "HS384"],
        ["tags[]", "a"],
        ["tags[]", "b"],
      ],
    });
    expect(created.status).toBe(201);
    expect(created.body).toMatchObject({ key: "carol-key", algorithm: "HS384", tags: ["a", "b"] });
    expect(created.body.secret).toMatch(ALNUM_32);
  });

  test("refuses a key already used by any consumer with 409", async () => {
    kong.addConsumer({ username: "first" });
    kong.addConsumer({ username: "second" });
    kong.addCredential("first", { key: "shared-key" });

    const conflict = await admin.request("POST", "/consumers/second/jwt", { json: { key: "shared-key" } });
    expect(conflict.status).toBe(409);
    const message = `UNIQUE violation detected on '{key="shared-key"}'`;
    if (mode === "API_GATEWAY") {
      expect(conflict.body).toEqual({
        code: 5,
        name: "unique constraint violation",
        message,
        fields: { key: "shared-key" },
      });
    } else {
      expect(conflict.body).toMatchObject({ status: 409, title: "Conflict", detail: message });
    }
    expect(kong.credentialsOf("second")).toEqual([]);
  });

  test.each([
    [{ algorithm: "none" }, "algorithm"],
    [{ colour: "blue" }, "colour"],
    [{ key: "" }, "key"],
    [{ secret: 42 }, "secret"],
  ])("refuses %j with a 400 schema violation on %s", async (body, field) => {
    kong.addConsumer({ username: "dave" });
    const refused = await admin.request("POST", "/consumers/dave/jwt", { json: body });
    expect(refused.status).toBe(400);
    if (mode === "API_GATEWAY") {
      expect(refused.body).toMatchObject({ code: 2, name: "schema violation" });
      expect(Object.keys(refused.body.fields)).toEqual([field]);
      expect(refused.body.message).toBe(`schema violation (${field}: ${refused.body.fields[field]})`);
    } else {
      expect(refused.body).toMatchObject({ status: 400, title: "Bad Request" });
      expect(refused.body.invalid_parameters.map((p: { field: string }) => p.field)).toEqual([field]);
    }
    expect(kong.credentialsOf("dave")).toEqual([]);
  });

  test("accepts an ES256 credential whatever its key holds, since Kong checks no ES key on create", async () => {
    kong.addConsumer({ username: "erin" });
    const created = await admin.request("POST", "/consumers/erin/jwt", {
      json: { algorithm: "ES256", rsa_public_key: "-----BEGIN PUBLIC KEY-----\nx\n-----END PUBLIC KEY-----" },
    });
    expect(created.status).toBe(201);
    expect(created.body.algorithm).toBe("ES256");
  });

  test("refuses malformed JSON with 400", async () => {
    kong.addConsumer({ username: "frank" });
    const refused = await admin.request("POST", "/consumers/frank/jwt", {
      rawBody: "{not json",
      headers: { "content-type": "application/json" },
    });
    expect(refused.status).toBe(400);
    expect(JSON.stringify(refused.body)).toContain("Cannot parse JSON body");
  });

  test("answers 404 for an unknown consumer on every consumer and credential endpoint", async () => {
    const ghost = uuid();
    for (const [method, path] of [
      ["GET", `/consumers/${ghost}`],
      ["GET", "/consumers/nobody"],
      ["GET", `/consumers/${ghost}/jwt`],
      ["POST", `/consumers/${ghost}/jwt`],
      ["GET", `/consumers/${ghost}/jwt/some-key`],
      ["DELETE", `/consumers/${ghost}/jwt/${uuid()}`],
    ] as const) {
      expectNotFound(await admin.request(method, path));
    }
  });

  test("finds a consumer by id, by username, and by an upper-case id", async () => {
    const consumer = kong.addConsumer({ username: "grace", custom_id: "g-1", tags: ["vip"] });
    const expected = { ...consumer, updated_at: consumer.created_at };
    for (const value of [consumer.id, "grace", consumer.id.toUpperCase()]) {
      const found = await admin.request("GET", `/consumers/${value}`);
      expect(found.status).toBe(200);
      expect(found.body).toEqual(expected);
    }
  });

  test("looks a UUID-shaped value up by id only, never by username", async () => {
    const uuidName = uuid();
    const consumer = kong.addConsumer({ username: uuidName });
    expectNotFound(await admin.request("GET", `/consumers/${uuidName}`));
    expect((await admin.request("GET", `/consumers/${consumer.id}`)).body.username).toBe(uuidName);
  });

  test("percent-decodes path segments exactly once and records the raw path", async () => {
    kong.addConsumer({ username: "team/a b+c%" });
    const encoded = encodeURIComponent("team/a b+c%");
    expect((await admin.request("GET", `/consumers/${encoded}`)).status).toBe(200);
    expect(kong.calls.at(-1)?.path).toEndWith(`/consumers/${encoded}`);
    expect(encoded).toBe("team%2Fa%20b%2Bc%25");
    expectNotFound(await admin.request("GET", `/consumers/${encodeURIComponent(encoded)}`));
  });

  test("finds UTF-8 usernames by their percent-encoded UTF-8 bytes, not by their Latin-1 reading", async () => {
    for (const username of ["josé", "user€", "山田太郎", "🦊 fox"]) {
      const consumer = kong.addConsumer({ username });
      const found = await admin.request("GET", `/consumers/${encodeURIComponent(username)}`);
      expect(found.status).toBe(200);
      expect(found.body.id).toBe(consumer.id);
      expect(found.body.username).toBe(username);
      const credentials = await admin.request("GET", `/consumers/${encodeURIComponent(username)}/jwt`);
      expect(credentials.status).toBe(200);
      // The bytes read one per character (what a Latin-1 header gives) name nobody.
      const misread = Buffer.from(username, "utf8").toString("latin1");
      expectNotFound(await admin.request("GET", `/consumers/${encodeURIComponent(misread)}`));
    }
    expect(kong.calls[0]?.path).toEndWith("/consumers/jos%C3%A9");
  });

  test("treats an unescaped '+' in a segment as a space, as ngx.unescape_uri does", async () => {
    kong.addConsumer({ username: "a b" });
    kong.addConsumer({ username: "c+d" });
    expect((await admin.request("GET", "/consumers/a+b")).body.username).toBe("a b");
    expectNotFound(await admin.request("GET", "/consumers/c+d"));
    expect((await admin.request("GET", "/consumers/c%2Bd")).body.username).toBe("c+d");
  });

  test("gets a credential by id or by key, only under its own consumer", async () => {
    kong.addConsumer({ username: "heidi" });
    kong.addConsumer({ username: "ivan" });
    const credential = kong.addCredential("heidi", { key: "heidi key/1" });
    const byId = await admin.request("GET", `/consumers/heidi/jwt/${credential.id}`);
    const byKey = await admin.request("GET", `/consumers/heidi/jwt/${encodeURIComponent("heidi key/1")}`);
    expect(byId.status).toBe(200);
    expect(byId.body).toEqual(credential);
    expect(byKey.body).toEqual(credential);
    expectNotFound(await admin.request("GET", `/consumers/ivan/jwt/${credential.id}`));
  });

  test("deletes a credential with 204 and no body", async () => {
    kong.addConsumer({ username: "judy" });
    const credential = kong.addCredential("judy");
    const deleted = await admin.request("DELETE", `/consumers/judy/jwt/${credential.id}`);
    expect(deleted.status).toBe(204);
    expect(deleted.text).toBe("");
    expect(kong.credentialByKey(credential.key)).toBeUndefined();
    expectNotFound(await admin.request("GET", `/consumers/judy/jwt/${credential.id}`));
    expectNotFound(await admin.request("DELETE", `/consumers/judy/jwt/${credential.key}`));
  });

  test("answers 405 for a method the path does not support", async () => {
    kong.addConsumer({ username: "mallory" });
    for (const [method, path] of [
      ["PATCH", "/consumers/mallory/jwt"],
      ["DELETE", "/consumers/mallory"],
      ["POST", "/consumers/mallory/jwt/abc"],
    ] as const) {
      const refused = await admin.request(method, path);
      expect(refused.status).toBe(405);
      expect(JSON.stringify(refused.body)).toContain("Method not allowed");
    }
  });
});
