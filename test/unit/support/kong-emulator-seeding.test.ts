import { afterEach, beforeEach, describe, expect, test } from "bun:test";
import { KongEmulator } from "../../support/kong-emulator.ts";
import { AdminClient } from "./admin-client.ts";

describe("Kong emulator seeding helpers", () => {
  let kong: KongEmulator;

  beforeEach(() => {
    kong = KongEmulator.start();
  });
  afterEach(() => kong.stop());

  test("seeds credentials with chosen fields, visible over HTTP", async () => {
    const consumer = kong.addConsumer({ username: "seeded", custom_id: "c-9" });
    const credential = kong.addCredential("seeded", {
      id: "0f8e2c1a-3b4d-4e5f-8a9b-1c2d3e4f5a6b",
      key: "seed-key",
      secret: "seed-secret",
      algorithm: "HS384",
      created_at: 1_600_000_000,
    });
    expect(credential).toEqual({
      id: "0f8e2c1a-3b4d-4e5f-8a9b-1c2d3e4f5a6b",
      consumer: { id: consumer.id },
      key: "seed-key",
      secret: "seed-secret",
      algorithm: "HS384",
      rsa_public_key: null,
      tags: null,
      created_at: 1_600_000_000,
    });
    const fetched = await new AdminClient(kong).request("GET", `/consumers/${consumer.id}/jwt/seed-key`);
    expect(fetched.body).toEqual(credential);
    expect(kong.credentialsOf(consumer.id)).toEqual([credential]);
    expect(kong.credentialByKey("seed-key")).toEqual({ credential, consumer });
  });

  test("generates consumer ids and usernames when none are given", () => {
    const first = kong.addConsumer();
    const second = kong.addConsumer({ custom_id: "only-custom" });
    expect(first.id).not.toBe(second.id);
    expect(first.username).toMatch(/^consumer-\d+$/);
    expect(second).toMatchObject({ username: null, custom_id: "only-custom", tags: null });
  });

  test("refuses duplicates and impossible credentials the way the Admin API would", () => {
    kong.addConsumer({ username: "dup" });
    kong.addCredential("dup", { key: "k" });
    expect(() => kong.addConsumer({ username: "dup" })).toThrow();
    expect(() => kong.addCredential("dup", { key: "k" })).toThrow();
    expect(() => kong.addCredential("dup", { algorithm: "RS256" })).toThrow();
    expect(() => kong.addCredential("dup", { algorithm: "none" })).toThrow();
    expect(() => kong.addCredential("nobody")).toThrow();
  });

  test("removes a credential by id or key, and a consumer with all its credentials", () => {
    kong.addConsumer({ username: "leaving" });
    const a = kong.addCredential("leaving", { key: "a" });
    kong.addCredential("leaving", { key: "b" });
    kong.addCredential("leaving", { key: "c" });
    kong.removeCredential("leaving", "b");
    kong.removeCredential("leaving", a.id);
    expect(kong.credentialsOf("leaving").map((c) => c.key)).toEqual(["c"]);

    const consumer = kong.credentialByKey("c")?.consumer;
    kong.removeConsumer(consumer?.id ?? "");
    expect(kong.credentialByKey("c")).toBeUndefined();
    expect(() => kong.credentialsOf("leaving")).toThrow();
  });

  test("hands out copies, so a test cannot corrupt the store by accident", () => {
    kong.addConsumer({ username: "copy" });
    const credential = kong.addCredential("copy", { key: "original" });
    credential.key = "mutated";
    expect(kong.credentialByKey("original")?.credential.key).toBe("original");
  });

  test("a Konnect realm consumer is known to Kong's proxy but not to the control plane", async () => {
    const konnect = KongEmulator.start({ mode: "KONNECT" });
    try {
      const plane = konnect.addConsumer({ username: "anonymous" });
      const realm = konnect.addRealmConsumer({ username: "anonymous" });
      expect(realm.id).not.toBe(plane.id);
      expect(realm.username).toBe("anonymous");
      const admin = new AdminClient(konnect);
      expect((await admin.request("GET", `/consumers/${realm.id}`)).status).toBe(404);
      expect((await admin.request("GET", "/consumers/anonymous")).body.id).toBe(plane.id);
      expect(() => konnect.addRealmConsumer({ username: "anonymous" })).toThrow();
      expect(() => konnect.addRealmConsumer({ id: plane.id, username: "other" })).toThrow();
    } finally {
      await konnect.stop();
    }
  });

  test("realm consumers exist only in KONNECT mode", () => {
    expect(() => kong.addRealmConsumer({ username: "realm-user" })).toThrow();
  });
});
