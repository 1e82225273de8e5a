import { LRUCache } from "lru-cache";
import type { CachedCredential } from "./types.ts";

export interface MemoryCacheOptions {
  readonly maxSize: number;
  /** How long an entry is served without asking Kong (CACHE_TTL_SECONDS). */
  readonly freshMs: number;
  /** How long past freshness an entry is kept as a fallback for outages (0: dropped when stale). */
  readonly staleMs: number;
  readonly unknownConsumerMs: number;
  readonly now?: () => number;
}

interface Slot {
  readonly entry: CachedCredential;
  readonly freshUntil: number;
}

/**
 * The first cache tier: bounded LRU of credentials with their imported keys, plus a short-lived
 * record of consumers Kong does not know, so forged ids cannot make every request reach Kong.
 */
export class MemoryCredentialCache {
  private readonly slots: LRUCache<string, Slot>;
  private readonly unknown: LRUCache<string, true>;
  private readonly now: () => number;
  private hits = 0;
  private misses = 0;

  constructor(private readonly options: MemoryCacheOptions) {
    this.now = options.now ?? Date.now;
    // One clock for freshness and for lru-cache's own expiry, so injected time drives both.
    // ttlResolution 0: lru-cache would otherwise arm a timer on every read to debounce its clock.
    const timing = { perf: { now: this.now }, ttlResolution: 0 };
    this.slots = new LRUCache({ max: options.maxSize, ttl: options.freshMs + options.staleMs, ...timing });
    this.unknown = new LRUCache({ max: options.maxSize, ttl: options.unknownConsumerMs, ...timing });
  }

  /** The hot path: a fresh entry or nothing, synchronously. */
  fresh(consumerId: string): CachedCredential | undefined {
    const slot = this.slots.get(consumerId);
    if (slot && slot.freshUntil > this.now()) {
      this.hits++;
      return slot.entry;
    }
    this.misses++;
    return undefined;
  }

  /** A fresh or stale entry: what a Kong outage can fall back on. */
  usable(consumerId: string): CachedCredential | undefined {
    const slot = this.slots.get(consumerId);
    if (!slot || slot.freshUntil + this.options.staleMs <= this.now()) return undefined;
    return slot.entry;
  }

  /** Stores an entry fresh from `fetchedAt`, replacing any fresh or stale copy. */
  set(entry: CachedCredential): void {
    this.unknown.delete(entry.consumerId);
    this.slots.set(entry.consumerId, { entry, freshUntil: entry.fetchedAt + this.options.freshMs });
  }

  markUnknown(consumerId: string): void {
    this.slots.delete(consumerId);
    // Stryker disable next-line BooleanLiteral: has() ignores the value; any value marks the consumer unknown.
    this.unknown.set(consumerId, true);
  }

  isKnownUnknown(consumerId: string): boolean {
    return this.unknown.has(consumerId);
  }

  delete(consumerId: string): void {
    this.slots.delete(consumerId);
    this.unknown.delete(consumerId);
  }

  /** Whether any entry can still be signed with, fresh or stale: what a Kong outage can fall back on. */
  hasUsable(): boolean {
    const now = this.now();
    for (const slot of this.slots.values()) {
      if (slot.freshUntil + this.options.staleMs > now) return true;
    }
    return false;
  }

  stats() {
    return { size: this.slots.size, hits: this.hits, misses: this.misses, ttlMs: this.options.freshMs };
  }
}
