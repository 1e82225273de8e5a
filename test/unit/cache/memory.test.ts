import { describe, expect, test } from "bun:test";
import { createSecretKey } from "node:crypto";
import { MemoryCredentialCache } from "../../../src/cache/memory.ts";
import type { CachedCredential } from "../../../src/cache/types.ts";

const key = createSecretKey(new Uint8Array(32));

function entry(consumerId: string, fetchedAt: number): CachedCredential {
  return {
    consumerId,
    kongConsumerId: consumerId,
    username: `user-${consumerId}`,
    credentialId: `cred-${consumerId}`,
    key: `key-${consumerId}`,
    algorithm: "HS256",
    secret: "s",
    fetchedAt,
    signingKey: key,
  };
}

function cacheAt(options: Partial<ConstructorParameters<typeof MemoryCredentialCache>[0]> = {}) {
  const clock = { now: 1_000_000 };
  const cache = new MemoryCredentialCache({
    maxSize: 3,
    freshMs: 1000,
    staleMs: 0,
    unknownConsumerMs: 500,
    now: () => clock.now,
    ...options,
  });
  return { cache, clock };
}

describe("MemoryCredentialCache", () => {
  test("an entry is fresh for the TTL, then gone when no stale window is kept", () => {
    const { cache, clock } = cacheAt();
    cache.set(entry("a", clock.now));
    expect(cache.fresh("a")?.key).toBe("key-a");
    clock.now += 999;
    expect(cache.fresh("a")).toBeDefined();
    clock.now += 1;
    expect(cache.fresh("a")).toBeUndefined();
    expect(cache.usable("a")).toBeUndefined();
  });

  test("past its TTL an entry is kept as stale for the stale window", () => {
    const { cache, clock } = cacheAt({ staleMs: 5000 });
    cache.set(entry("a", clock.now));
    clock.now += 2000;
    expect(cache.fresh("a")).toBeUndefined();
    expect(cache.usable("a")?.key).toBe("key-a");
    clock.now += 4000;
    expect(cache.usable("a")).toBeUndefined();
  });

  test("bounded by size, least recently used first out", () => {
    const { cache, clock } = cacheAt();
    for (const id of ["a", "b", "c"]) cache.set(entry(id, clock.now));
    cache.fresh("a");
    cache.set(entry("d", clock.now));
    expect(cache.fresh("b")).toBeUndefined();
    expect(cache.fresh("a")).toBeDefined();
    expect(cache.stats().size).toBe(3);
  });

  test("a newer entry replaces fresh and stale copies", () => {
    const { cache, clock } = cacheAt({ staleMs: 5000 });
    cache.set(entry("a", clock.now));
    clock.now += 2000;
    cache.set({ ...entry("a", clock.now), key: "rotated" });
    expect(cache.fresh("a")?.key).toBe("rotated");
  });

  test("unknown consumers are remembered briefly and forgotten once known", () => {
    const { cache, clock } = cacheAt();
    cache.markUnknown("x");
    expect(cache.isKnownUnknown("x")).toBe(true);
    clock.now += 501;
    expect(cache.isKnownUnknown("x")).toBe(false);
    cache.markUnknown("y");
    cache.set(entry("y", clock.now));
    expect(cache.isKnownUnknown("y")).toBe(false);
  });

  test("hits and misses are counted", () => {
    const { cache, clock } = cacheAt();
    cache.set(entry("a", clock.now));
    cache.fresh("a");
    cache.fresh("a");
    cache.fresh("zz");
    expect(cache.stats()).toMatchObject({ hits: 2, misses: 1, size: 1, ttlMs: 1000 });
  });

  test("a fresh, then stale copy is usable until the end of the stale window, and counts as something an outage can fall back on", () => {
    const { cache, clock } = cacheAt({ staleMs: 5000 });
    expect(cache.hasUsable()).toBe(false);
    cache.set(entry("a", clock.now));
    clock.now += 999;
    expect(cache.fresh("a")?.key).toBe("key-a");
    expect(cache.usable("a")?.key).toBe("key-a");
    clock.now += 1;
    expect(cache.fresh("a")).toBeUndefined();
    expect(cache.usable("a")?.key).toBe("key-a");
    clock.now += 4999;
    expect(cache.usable("a")?.key).toBe("key-a");
    expect(cache.hasUsable()).toBe(true);
    clock.now += 1;
    expect(cache.usable("a")).toBeUndefined();
    expect(cache.hasUsable()).toBe(false);
  });

  test("an entry fetched earlier than now is fresh only for what is left of its TTL", () => {
    const { cache, clock } = cacheAt();
    cache.set(entry("a", clock.now - 600));
    expect(cache.fresh("a")).toBeDefined();
    clock.now += 400;
    expect(cache.fresh("a")).toBeUndefined();
  });

  test("a consumer marked unknown loses its cached credential; delete forgets both", () => {
    const { cache, clock } = cacheAt({ staleMs: 5000 });
    cache.set(entry("a", clock.now));
    cache.markUnknown("a");
    expect(cache.usable("a")).toBeUndefined();
    expect(cache.isKnownUnknown("a")).toBe(true);
    cache.delete("a");
    expect(cache.isKnownUnknown("a")).toBe(false);
    cache.set(entry("b", clock.now));
    cache.delete("b");
    expect(cache.usable("b")).toBeUndefined();
    expect(cache.hasUsable()).toBe(false);
  });
});
