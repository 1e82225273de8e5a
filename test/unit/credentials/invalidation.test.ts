import { afterEach, describe, expect, test } from "bun:test";
import { MemoryCredentialCache } from "../../../src/cache/memory.ts";
import { TieredCredentialCache } from "../../../src/cache/tiered.ts";
import { createInvalidator } from "../../../src/credentials/invalidation.ts";
import { importSigningKey } from "../../../src/jwt/keys.ts";
import { consumerSecrets } from "../../../src/kong/credential.ts";
import { waitFor } from "../../support/wait.ts";
import { EPOCH, manualClock, SharedRedis } from "./instances.ts";

const cleanups: (() => Promise<void>)[] = [];
afterEach(async () => {
  for (const cleanup of cleanups.splice(0).reverse()) await cleanup();
});

const entry = (consumerId: string, fetchedAt: number) => ({
  consumerId,
  kongConsumerId: consumerId,
  username: "u",
  credentialId: `cred-${consumerId}`,
  key: `key-${consumerId}`,
  algorithm: "HS256" as const,
  secret: "s3cret-value-0123",
  fetchedAt,
  signingKey: importSigningKey(new TextEncoder().encode("s3cret-value-0123")),
});

function cacheOver(
  clock = manualClock(EPOCH),
  store?: ConstructorParameters<typeof TieredCredentialCache>[1],
) {
  const memory = new MemoryCredentialCache({
    maxSize: 10,
    freshMs: 60_000,
    staleMs: 0,
    unknownConsumerMs: 1,
    now: clock.now,
  });
  return { memory, cache: new TieredCredentialCache(memory, store, consumerSecrets(false)), clock };
}

describe("createInvalidator", () => {
  test("drops this instance's copies in both tiers and publishes to every instance", async () => {
    const redis = new SharedRedis();
    cleanups.push(() => redis.close());
    const clock = manualClock(EPOCH);
    const store = await redis.store(clock);
    const { memory, cache } = cacheOver(clock, store);
    const heard: string[] = [];
    const listener = await redis.store(clock);
    await listener.listenForInvalidations((id) => heard.push(id));
    await cache.remember(entry("c1", clock.now()));
    // The subscription is made on a connection of its own: publish until it is heard.
    const invalidate = createInvalidator(cache, store);
    let scope = "";
    await waitFor(async () => {
      scope = await invalidate("c1");
      return heard.includes("c1");
    }, "the invalidation to be heard");
    expect(scope).toBe("all-instances");
    expect(memory.usable("c1")).toBeUndefined();
    expect(await store.read("c1")).toBeUndefined();
  });

  test("without Redis, or with Redis not taking the message, only this instance: said so", async () => {
    const { memory, cache, clock } = cacheOver();
    memory.set(entry("c1", clock.now()));
    expect(await createInvalidator(cache, undefined)("c1")).toBe("this-instance");
    expect(memory.usable("c1")).toBeUndefined();
    const refusing = { publishInvalidation: async () => false };
    expect(await createInvalidator(cache, refusing)("c1")).toBe("this-instance");
  });
});
