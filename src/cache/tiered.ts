import type { SigningPolicy } from "../kong/credential.ts";
import type { MemoryCredentialCache } from "./memory.ts";
import type { ClaimResult, LockResult, RedisCredentialStore } from "./redis.ts";
import type { CachedCredential } from "./types.ts";

export type CacheTier = "memory" | "redis";

export interface CacheObserver {
  onRead?(tier: CacheTier, outcome: "hit" | "stale" | "miss", seconds: number): void;
}

/** What the shared tier held when it was read: a fresh entry, or a stale copy kept for Kong outages. */
export interface SharedCopy {
  readonly entry: CachedCredential;
  readonly fresh: boolean;
}

/** A copy to sign with while Kong is unusable, and the tier it came from. */
export interface StaleCopy {
  readonly entry: CachedCredential;
  readonly tier: CacheTier;
}

/** Without Redis there is nobody to race: the single-flight is the only guard. */
const NO_SHARED_LOCK: Promise<LockResult> = Promise.resolve({ kind: "unavailable" });
const NO_SHARED_CLAIM: Promise<ClaimResult> = Promise.resolve("unavailable");

/**
 * The credential cache as the credential service speaks to it. Memory first, Redis second: a memory
 * hit never touches Redis; a Redis hit is promoted to memory (fresh only as long as the original
 * Kong answer is); what is remembered or forgotten is remembered or forgotten in both tiers.
 */
export class TieredCredentialCache {
  constructor(
    private readonly memory: MemoryCredentialCache,
    private readonly redis: RedisCredentialStore | undefined,
    /** Which stored entries this instance signs with, and how their keys are imported. */
    private readonly policy: SigningPolicy,
    private readonly observer: CacheObserver = {},
  ) {}

  /** The hot path: synchronous, memory only. */
  fresh(consumerId: string): CachedCredential | undefined {
    return this.memory.fresh(consumerId);
  }

  /** The shared tier, after a memory miss. Stale copies are returned too, marked as such. */
  async readShared(consumerId: string): Promise<SharedCopy | undefined> {
    if (!this.redis) return undefined;
    const started = performance.now();
    const copy = this.copyOf(await this.redis.read(consumerId));
    const outcome = !copy ? "miss" : copy.fresh ? "hit" : "stale";
    this.observer.onRead?.("redis", outcome, (performance.now() - started) / 1000);
    if (copy?.fresh) this.memory.set(copy.entry);
    return copy;
  }

  /** What this instance can sign with of a stored record. */
  private copyOf(found: Awaited<ReturnType<RedisCredentialStore["read"]>>): SharedCopy | undefined {
    if (!found) return undefined;
    const entry = this.policy.materialize(found.stored);
    if (!entry) return undefined;
    // An entry of a key that is no longer active is only a fallback: never promoted, never fresh.
    return { entry, fresh: found.fresh && this.policy.isCurrent(entry) };
  }

  /**
   * What can stand in while Kong is unusable: this instance's own copy first, else the shared copy
   * read before Kong was asked (Redis is not read again: it answered a moment ago).
   */
  stale(consumerId: string, shared: SharedCopy | undefined): StaleCopy | undefined {
    const own = this.memory.usable(consumerId);
    if (own) return { entry: own, tier: "memory" };
    return shared && { entry: shared.entry, tier: "redis" };
  }

  /** Whether this instance's memory or the shared tier still holds the credential for the consumer. */
  async signsWith(consumerId: string, credentialId: string): Promise<boolean> {
    if (this.memory.usable(consumerId)?.credentialId === credentialId) return true;
    const found = await this.redis?.read(consumerId);
    return found?.stored.credentialId === credentialId;
  }

  /** A credential Kong just gave: served from memory at once, shared with the other instances. */
  async remember(entry: CachedCredential): Promise<void> {
    this.memory.set(entry);
    await this.redis?.write(entry);
  }

  /** The consumer is gone (deleted in Kong, or invalidated): no tier may keep signing for it. */
  async forget(consumerId: string): Promise<void> {
    this.memory.delete(consumerId);
    await this.redis?.remove(consumerId);
  }

  /** Kong does not know the consumer: forged ids are answered for a while without asking Kong. */
  rememberUnknown(consumerId: string): void {
    this.memory.markUnknown(consumerId);
  }

  isRememberedUnknown(consumerId: string): boolean {
    return this.memory.isKnownUnknown(consumerId);
  }

  /** A per-consumer lock across instances, so that racing instances create one credential. */
  lockForProvisioning(consumerId: string, ttlMs: number): Promise<LockResult> {
    return this.redis ? this.redis.lock(consumerId, ttlMs) : NO_SHARED_LOCK;
  }

  /** A claim across instances on refreshing one lifetime of a consumer's entry. */
  claimRefresh(consumerId: string, fetchedAt: number, ttlMs: number): Promise<ClaimResult> {
    return this.redis ? this.redis.claimRefresh(consumerId, fetchedAt, ttlMs) : NO_SHARED_CLAIM;
  }
}
