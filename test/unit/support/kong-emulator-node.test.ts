import { afterEach, describe, expect, test } from "bun:test";
import { KongEmulator } from "../../support/kong-emulator.ts";
import { AdminClient } from "./admin-client.ts";

const started: KongEmulator[] = [];
function start(...args: Parameters<typeof KongEmulator.start>): KongEmulator {
  const kong = KongEmulator.start(...args);
  started.push(kong);
  return kong;
}
afterEach(async () => {
  await Promise.all(started.splice(0).map((kong) => kong.stop()));
});

describe("Kong emulator, API_GATEWAY node and authentication", () => {
  test("starts quickly and serves the Admin API at its origin", async () => {
    const begin = performance.now();
    const kong = start();
    // Binding takes a few ms; the bound is loose for a loaded machine, not a measure of it.
    expect(performance.now() - begin).toBeLessThan(1_000);
    expect(kong.origin).toMatch(/^http:\/\/127\.0\.0\.1:\d+$/);
    expect(kong.adminUrl).toBe(kong.origin);
    expect(kong.adminToken).toBeUndefined();

    const info = await fetch(`${kong.adminUrl}/`);
    expect(info.status).toBe(200);
    expect(info.headers.get("server")).toBe("kong/3.10.0");
    expect(((await info.json()) as { version: string }).version).toBe("3.10.0");

    const status = (await (await fetch(`${kong.adminUrl}/status`)).json()) as { database: unknown };
    expect(status.database).toEqual({ reachable: true });
  });

  test("is open without an admin token, like open-source Kong", async () => {
    const kong = start();
    kong.addConsumer({ username: "open" });
    expect((await fetch(`${kong.adminUrl}/consumers/open`)).status).toBe(200);
  });

  test("requires Kong-Admin-Token when configured with one (Enterprise RBAC)", async () => {
    const kong = start({ adminToken: "rbac-token" });
    kong.addConsumer({ username: "guarded" });
    const url = `${kong.adminUrl}/consumers/guarded`;
    const attempts: Record<string, string>[] = [
      {},
      { "kong-admin-token": "wrong" },
      { authorization: "Bearer rbac-token" },
    ];
    for (const headers of attempts) {
      const refused = await fetch(url, { headers });
      expect(refused.status).toBe(401);
      expect(await refused.json()).toEqual({
        message: "Invalid credentials. Token or User credentials required",
      });
    }
    expect((await fetch(url, { headers: { "Kong-Admin-Token": "rbac-token" } })).status).toBe(200);
    expect((await new AdminClient(kong).request("GET", "/consumers/guarded")).status).toBe(200);
  });

  test("answers 404 Not found for paths it does not know", async () => {
    const kong = start();
    const missing = await fetch(`${kong.adminUrl}/services`);
    expect(missing.status).toBe(404);
    expect(await missing.json()).toEqual({ message: "Not found" });
  });
});

describe("Kong emulator, KONNECT control plane and authentication", () => {
  test("exposes the control-plane prefix as adminUrl and a generated kpat_ token", async () => {
    const kong = start({ mode: "KONNECT", controlPlaneId: "6a1f7b9e-1c2d-4e5f-8a9b-0c1d2e3f4a5b" });
    expect(kong.adminUrl).toBe(`${kong.origin}/v2/control-planes/6a1f7b9e-1c2d-4e5f-8a9b-0c1d2e3f4a5b`);
    expect(kong.adminToken).toMatch(/^kpat_[A-Za-z0-9]{40}$/);

    const plane = await new AdminClient(kong).send("GET", kong.adminUrl);
    expect(plane.status).toBe(200);
    expect(plane.body).toMatchObject({
      id: kong.controlPlaneId,
      config: { cluster_type: expect.any(String) },
    });
  });

  test("requires the bearer token on every path", async () => {
    const kong = start({ mode: "KONNECT", adminToken: "spat_system-account" });
    kong.addConsumer({ username: "cp-user" });
    const url = `${kong.adminUrl}/core-entities/consumers/cp-user`;
    const attempts: Record<string, string>[] = [
      {},
      { authorization: "Bearer kpat_wrong" },
      { "kong-admin-token": "spat_system-account" },
    ];
    for (const headers of attempts) {
      const refused = await fetch(url, { headers });
      expect(refused.status).toBe(401);
      expect(refused.headers.get("content-type")).toBe("application/problem+json");
      expect(await refused.json()).toMatchObject({ status: 401, title: "Unauthorized" });
    }
    const allowed = await fetch(url, { headers: { authorization: "Bearer spat_system-account" } });
    expect(allowed.status).toBe(200);
  });

  test("answers 404 for another control plane or an unknown path", async () => {
    const kong = start({ mode: "KONNECT" });
    kong.addConsumer({ username: "cp-user" });
    const admin = new AdminClient(kong);
    for (const url of [
      `${kong.origin}/v2/control-planes/${crypto.randomUUID()}/core-entities/consumers/cp-user`,
      `${kong.origin}/v2/control-planes/${crypto.randomUUID()}`,
      `${kong.adminUrl}/core-entities/services`,
      `${kong.origin}/consumers/cp-user`,
    ]) {
      const missing = await admin.send("GET", url);
      expect(missing.status).toBe(404);
      expect(missing.body).toMatchObject({ status: 404, title: "Not Found" });
    }
  });
});
