import { importSigningKey, secretBytes } from "../jwt/keys.ts";
import type { MemoryCredentialCache } from "./memory.ts";
import type { RedisCredentialStore } from "./redis.ts";
import type { CachedCredential, StoredCredential } from "./types.ts";

export type CacheTier = "memory" | "redis";

export interface CacheObserver {
  onRead?(tier: CacheTier, outcome: "hit" | "stale" | "miss", seconds: number): void;
}

/**
 * Memory first, Redis second. A memory hit never touches Redis; a Redis hit is promoted to memory
 * (fresh only as long as the original Kong answer is); writes go to both tiers.
 */
export class TieredCredentialCache {
  constructor(
    readonly memory: MemoryCredentialCache,
    readonly redis: RedisCredentialStore | undefined,
    private readonly secretIsBase64: boolean,
    private readonly observer: CacheObserver = {},
  ) {}

  /** The hot path: synchronous, memory only. */
  fresh(consumerId: string): CachedCredential | undefined {
    return this.memory.fresh(consumerId);
  }

  /** The shared tier, after a memory miss. Stale copies are returned too, marked as such. */
  async readShared(consumerId: string): Promise<{ entry: CachedCredential; fresh: boolean } | undefined> {
    if (!this.redis) return undefined;
    const started = performance.now();
    const found = await this.redis.read(consumerId);
    const entry = found && materialize(found.stored, this.secretIsBase64);
    const outcome = !entry ? "miss" : found.fresh ? "hit" : "stale";
    this.observer.onRead?.("redis", outcome, (performance.now() - started) / 1000);
    if (!entry || !found) return undefined;
    if (found.fresh) this.memory.set(entry);
    return { entry, fresh: found.fresh };
  }

  /** The memory tier's stale copy, for when Kong is unusable. */
  staleInMemory(consumerId: string): CachedCredential | undefined {
    return this.memory.read(consumerId)?.entry;
  }

  async store(entry: CachedCredential): Promise<void> {
    this.memory.set(entry);
    await this.redis?.write(entry);
  }

  async invalidate(consumerId: string): Promise<void> {
    this.memory.delete(consumerId);
    await this.redis?.remove(consumerId);
  }
}

/** Turns a stored credential into one the hot path can sign with; undefined if Kong could not use it. */
export function materialize(stored: StoredCredential, secretIsBase64: boolean): CachedCredential | undefined {
  const bytes = secretBytes(stored.secret, secretIsBase64);
  return bytes ? { ...stored, signingKey: importSigningKey(bytes) } : undefined;
}
