import { describe, expect, test } from "bun:test";
import { consumerSecrets, pickCredential } from "../../../src/kong/credential.ts";
import { kongConsumerSchema, kongCredentialSchema } from "../../../src/kong/types.ts";

const ID = "6f1c6d1e-7a2b-4c3d-8e9f-0a1b2c3d4e5f";

describe("Kong entity schemas bound what is kept", () => {
  test("a consumer with an id or username longer than any real one is not a Kong entity", () => {
    expect(kongConsumerSchema.safeParse({ id: ID, username: "u".repeat(1024) }).success).toBe(true);
    expect(kongConsumerSchema.safeParse({ id: "i".repeat(65), username: "u" }).success).toBe(false);
    expect(kongConsumerSchema.safeParse({ id: ID, username: "u".repeat(1025) }).success).toBe(false);
  });

  test("only what the token path reads is kept", () => {
    const parsed = kongConsumerSchema.parse({
      id: ID,
      username: "u",
      custom_id: "c".repeat(100_000),
      tags: [],
    });
    expect(parsed).toEqual({ id: ID, username: "u" });
  });

  test("a credential's tags are kept; tags that cannot be read count as none, not as an invalid answer", () => {
    const base = { id: ID, key: "k", secret: "s", algorithm: "HS256", created_at: 1 };
    const tags = (value: unknown) => kongCredentialSchema.parse({ ...base, tags: value }).tags;
    expect(tags(["kong-auth-service", "t".repeat(128)])).toEqual(["kong-auth-service", "t".repeat(128)]);
    expect(tags(null)).toBeNull();
    expect(tags(["t".repeat(129)])).toBeNull();
    expect(tags(Array(65).fill("kong-auth-service"))).toBeNull();
    expect(tags(Array(64).fill("kong-auth-service"))).toHaveLength(64);
    expect(tags("kong-auth-service")).toBeNull();
    expect(tags([1])).toBeNull();
  });

  test("an over-long key, secret or algorithm makes the credential unusable, not the answer invalid", () => {
    const base = {
      id: ID,
      key: "k".repeat(512),
      secret: "s".repeat(1024),
      algorithm: "HS256",
      created_at: 1,
    };
    expect(pickCredential([kongCredentialSchema.parse(base)], consumerSecrets(false))?.key).toBe(base.key);
    for (const over of [
      { key: "k".repeat(513) },
      { secret: "s".repeat(1025) },
      { algorithm: "H".repeat(17) },
    ]) {
      const credential = kongCredentialSchema.parse({ ...base, ...over });
      expect(pickCredential([credential], consumerSecrets(false))).toBeUndefined();
    }
  });

  test("a credential without an algorithm is HS256, Kong's default, and so signable", () => {
    const credential = kongCredentialSchema.parse({ id: ID, key: "k", secret: "s" });
    expect(pickCredential([credential], consumerSecrets(false))).toMatchObject({
      key: "k",
      algorithm: "HS256",
    });
  });

  test("a wrongly typed field still makes the answer invalid", () => {
    expect(kongCredentialSchema.safeParse({ id: ID, key: 42, secret: "s" }).success).toBe(false);
  });
});
