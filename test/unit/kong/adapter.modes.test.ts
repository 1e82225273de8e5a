import { afterEach, describe, expect, test } from "bun:test";
import { KongEmulator } from "../../support/kong-emulator.ts";
import { adapterFor, json, kongFailureOf, kongValueOf, scriptedKongs } from "./support/kong-adapter.ts";

const TOKEN = `kpat_${"x".repeat(40)}`;
const RBAC_TOKEN = "rbac-admin-token-0123456789abcdef";

const kong = scriptedKongs();
let emulator: KongEmulator | undefined;
afterEach(async () => {
  await emulator?.stop();
  emulator = undefined;
});

/** The token path's four calls, in order: lookup, list, create, probe. */
async function tokenPath(adapter: ReturnType<typeof adapterFor>["adapter"], username: string) {
  const consumer = await kongValueOf(adapter.findConsumer(username));
  const before = await kongValueOf(adapter.listCredentials(consumer.id));
  const created = await kongValueOf(adapter.createCredential(consumer.id));
  expect(await adapter.probe()).toEqual({ ok: true, value: undefined });
  return { consumer, before, created };
}

describe("KONNECT: the control plane's core-entities API, with a bearer token", () => {
  test("the token path works against Konnect, every call carrying exactly the bearer token", async () => {
    emulator = KongEmulator.start({ mode: "KONNECT", adminToken: TOKEN });
    const alice = emulator.addConsumer({ username: "alice" });
    const { adapter } = adapterFor(`${emulator.adminUrl}/`, { mode: "KONNECT", token: TOKEN });

    const { consumer, before, created } = await tokenPath(adapter, "alice");
    expect(consumer).toEqual({ id: alice.id, username: "alice" });
    expect(before).toEqual([]);
    expect(emulator.credentialsOf(alice.id).map((c) => c.key)).toEqual([created?.key as string]);

    const base = `/v2/control-planes/${emulator.controlPlaneId}`;
    expect(emulator.calls.map((call) => `${call.method} ${call.path} ${call.status}`)).toEqual([
      `GET ${base}/core-entities/consumers/alice 200`,
      `GET ${base}/core-entities/consumers/${alice.id}/jwt 200`,
      `POST ${base}/core-entities/consumers/${alice.id}/jwt 201`,
      `GET ${base} 200`,
    ]);
    for (const call of emulator.calls) {
      expect(call.headers.get("authorization")).toBe(`Bearer ${TOKEN}`);
      expect(call.headers.get("kong-admin-token")).toBeNull();
      expect(call.headers.get("accept")).toBe("application/json");
    }
  });

  test("a wrong Konnect token is a misconfiguration", async () => {
    emulator = KongEmulator.start({ mode: "KONNECT", adminToken: TOKEN });
    const { adapter } = adapterFor(emulator.adminUrl, { mode: "KONNECT", token: `${TOKEN}-wrong` });
    expect(await kongFailureOf(adapter.probe())).toMatchObject({ kind: "misconfigured", status: 401 });
  });
});

describe("API_GATEWAY: the self-hosted Admin API", () => {
  test("with RBAC, every call carries exactly Kong-Admin-Token", async () => {
    emulator = KongEmulator.start({ adminToken: RBAC_TOKEN });
    emulator.addConsumer({ username: "alice" });
    const { adapter } = adapterFor(`${emulator.adminUrl}//`, { token: RBAC_TOKEN });
    await tokenPath(adapter, "alice");

    expect(emulator.calls.map((call) => `${call.method} ${call.path} ${call.status}`)).toEqual([
      "GET /consumers/alice 200",
      expect.stringMatching(/^GET \/consumers\/[0-9a-f-]{36}\/jwt 200$/),
      expect.stringMatching(/^POST \/consumers\/[0-9a-f-]{36}\/jwt 201$/),
      "GET /status 200",
    ]);
    for (const call of emulator.calls) {
      expect(call.headers.get("kong-admin-token")).toBe(RBAC_TOKEN);
      expect(call.headers.get("authorization")).toBeNull();
      expect(call.headers.get("accept")).toBe("application/json");
    }
  });

  test("open-source Kong without a token: no admin credentials are sent at all", async () => {
    const server = kong(() => json(200, {}));
    const { adapter } = adapterFor(server.url);
    expect(await adapter.probe()).toEqual({ ok: true, value: undefined });
    const [request] = server.requests;
    expect(request?.headers.get("kong-admin-token")).toBeNull();
    expect(request?.headers.get("authorization")).toBeNull();
    expect(request?.path).toBe("/status");
  });

  test("a wrong RBAC token is a misconfiguration", async () => {
    emulator = KongEmulator.start({ adminToken: RBAC_TOKEN });
    const { adapter } = adapterFor(emulator.adminUrl, { token: "not-the-token" });
    expect(await kongFailureOf(adapter.findConsumer("alice"))).toMatchObject({
      kind: "misconfigured",
      status: 401,
    });
  });

  test("usernames are one percent-encoded path segment: Kong finds exactly that consumer", async () => {
    emulator = KongEmulator.start();
    const { adapter } = adapterFor(emulator.adminUrl);
    for (const username of ["a b+c", "x/y", "q?r#s", "100%", "Zoë", "..."]) {
      const consumer = emulator.addConsumer({ username });
      expect(await kongValueOf(adapter.findConsumer(username))).toEqual({ id: consumer.id, username });
    }
    expect(emulator.calls.map((call) => call.path)).toEqual([
      "/consumers/a%20b%2Bc",
      "/consumers/x%2Fy",
      "/consumers/q%3Fr%23s",
      "/consumers/100%25",
      "/consumers/Zo%C3%AB",
      "/consumers/...",
    ]);
  });
});

describe("the health probe", () => {
  test("any JSON answer from the health endpoint is Kong answering", async () => {
    const server = kong(() => json(200, ["not", "an", "object"]));
    expect(await adapterFor(server.url).adapter.probe()).toEqual({ ok: true, value: undefined });
    expect(server.requests.map((r) => `${r.method} ${r.path}`)).toEqual(["GET /status"]);
  });

  test("a health endpoint that is not found means KONG_ADMIN_URL points elsewhere", async () => {
    const server = kong(() => json(404, { message: "Not found" }));
    const { adapter, outcomes } = adapterFor(server.url);
    expect(await kongFailureOf(adapter.probe())).toMatchObject({
      kind: "misconfigured",
      status: 404,
      message: "Kong health endpoint not found; check KONG_ADMIN_URL",
    });
    expect(outcomes).toEqual([["GET health", "success"]]);
  });

  test("a health endpoint answering garbage is an outage", async () => {
    const server = kong(() => new Response("not json"));
    expect(await kongFailureOf(adapterFor(server.url).adapter.probe())).toMatchObject({
      kind: "unavailable",
      message: "GET /status: unreadable response body",
    });
  });
});
