export interface RateLimitDecision {
  readonly allowed: boolean;
  readonly limit: number;
  readonly remaining: number;
  /** Seconds until the window ends and the count starts again. */
  readonly resetSeconds: number;
}

/** Shares counts between instances: adds this instance's increments, answers the global totals. */
export interface RateLimitSync {
  /** `increments` per window key; resolves the global count per key, or undefined when unavailable. */
  push(increments: Map<string, number>, windowMs: number): Promise<Map<string, number> | undefined>;
}

/** Most keys one sync call carries, so no single Redis call is long (see scripts/measure-rate-sync.ts). */
export const SYNC_CHUNK_KEYS = 32;

export interface RateLimiterOptions {
  readonly maxRequests: number;
  readonly windowMs: number;
  /** How often counts are shared (RATE_LIMIT_SYNC_MS); unused without a sync. */
  readonly syncMs: number;
  /** Most consumers tracked at once (RATE_LIMIT_MAX_CONSUMERS); beyond it the oldest are forgotten. */
  readonly maxTrackedConsumers?: number;
  readonly sync?: RateLimitSync;
  readonly onSyncFailure?: () => void;
  readonly onSyncRecovered?: () => void;
  readonly now?: () => number;
}

const DEFAULT_MAX_TRACKED_CONSUMERS = 100_000;

interface Counter {
  readonly window: number;
  /** Requests this instance allowed in the window. */
  local: number;
  /** Of those, not yet pushed to the shared store. */
  unsynced: number;
  /** Requests other instances allowed, as of the last sync. */
  others: number;
}

/** What only an instance that shares its counts keeps. */
interface Sharing {
  readonly sync: RateLimitSync;
  /** Consumers with increments not yet pushed. */
  readonly changed: Set<string>;
}

/**
 * Per-consumer fixed windows, aligned to the clock so every instance agrees on them. Decisions are
 * taken in memory on the hot path; with Redis, every `syncMs` instances push the counters that
 * changed since the last sync, in chunks of SYNC_CHUNK_KEYS, and learn those consumers' global
 * totals in the same calls (Kong's rate-limiting plugin calls this sync_rate). The overshoot is
 * bounded by what the other instances allow within one sync interval. Without Redis, or while it is
 * unreachable, each instance enforces the limit on its own.
 *
 * Memory is bounded by `maxTrackedConsumers`: counters are kept in the order their windows started,
 * so expired windows are always at the head of the map and are dropped as new ones start; past the
 * bound the oldest counter is forgotten (that consumer starts its window again).
 */
export class RateLimiter {
  private readonly counters = new Map<string, Counter>();
  private readonly sharing: Sharing | undefined;
  private readonly now: () => number;
  private readonly maxTracked: number;
  private timer: ReturnType<typeof setInterval> | undefined;
  private syncing = false;
  private degraded = false;

  constructor(private readonly options: RateLimiterOptions) {
    this.now = options.now ?? Date.now;
    this.maxTracked = options.maxTrackedConsumers ?? DEFAULT_MAX_TRACKED_CONSUMERS;
    this.sharing = options.sync ? { sync: options.sync, changed: new Set() } : undefined;
  }

  get trackedConsumers(): number {
    return this.counters.size;
  }

  /** Consumers whose increments wait for the next sync; bounded like the counters. */
  get pendingConsumers(): number {
    return this.sharing?.changed.size ?? 0;
  }

  start(): void {
    if (!this.sharing || this.timer) return;
    this.timer = setInterval(() => void this.syncNow(), this.options.syncMs);
    this.timer.unref();
  }

  stop(): void {
    clearInterval(this.timer);
    this.timer = undefined;
  }

  take(consumerId: string): RateLimitDecision {
    const { maxRequests, windowMs } = this.options;
    const now = this.now();
    const window = Math.floor(now / windowMs);
    // At least 1 ms of the window is left, so never 0.
    const resetSeconds = Math.ceil(((window + 1) * windowMs - now) / 1000);
    let counter = this.counters.get(consumerId);
    if (!counter || counter.window !== window) counter = this.startWindow(consumerId, window);
    const used = counter.local + counter.others;
    if (used >= maxRequests) return { allowed: false, limit: maxRequests, remaining: 0, resetSeconds };
    counter.local++;
    if (counter.unsynced++ === 0) this.sharing?.changed.add(consumerId);
    return { allowed: true, limit: maxRequests, remaining: maxRequests - used - 1, resetSeconds };
  }

  /** Pushes the counters that changed since the last sync, chunk by chunk, learning their totals. */
  async syncNow(): Promise<void> {
    const sharing = this.sharing;
    if (!sharing || this.syncing) return;
    this.syncing = true;
    try {
      const window = Math.floor(this.now() / this.options.windowMs);
      // A snapshot: consumers changing meanwhile are pushed by the next sync.
      const waiting = [...sharing.changed];
      sharing.changed.clear();
      while (waiting.length > 0) {
        if (!(await this.push(sharing, waiting.splice(0, SYNC_CHUNK_KEYS), window))) {
          // The store is unavailable: one attempt per sync, the rest waits for the next one.
          for (const id of waiting) if (this.counters.has(id)) sharing.changed.add(id);
          return;
        }
      }
    } finally {
      this.syncing = false;
    }
  }

  /**
   * Appended, so the map stays ordered by window start. The consumer's previous counter, from an
   * earlier window, is at the head with the other expired ones and goes with them.
   */
  private startWindow(consumerId: string, window: number): Counter {
    for (const [id, oldest] of this.counters) {
      if (oldest.window >= window && this.counters.size < this.maxTracked) break;
      this.counters.delete(id);
      this.sharing?.changed.delete(id);
    }
    const counter: Counter = { window, local: 0, unsynced: 0, others: 0 };
    this.counters.set(consumerId, counter);
    return counter;
  }

  /** One call for one chunk; false when the store was unavailable (the chunk is kept for the next sync). */
  private async push(sharing: Sharing, ids: readonly string[], window: number): Promise<boolean> {
    const increments = new Map<string, number>();
    const pushed: { id: string; key: string; counter: Counter; sent: number }[] = [];
    for (const id of ids) {
      const counter = this.counters.get(id);
      // Forgotten since the snapshot, or its window has ended: those counts no longer decide anything.
      if (!counter || counter.window !== window) continue;
      const key = `${id}:${window}`;
      increments.set(key, counter.unsynced);
      pushed.push({ id, key, counter, sent: counter.unsynced });
      counter.unsynced = 0;
    }
    if (pushed.length === 0) return true;
    const totals = await sharing.sync.push(increments, this.options.windowMs);
    if (!totals) {
      for (const { id, counter, sent } of pushed) {
        counter.unsynced += sent;
        if (this.counters.get(id) === counter) sharing.changed.add(id);
      }
      if (!this.degraded) this.options.onSyncFailure?.();
      this.degraded = true;
      return false;
    }
    if (this.degraded) this.options.onSyncRecovered?.();
    this.degraded = false;
    for (const { key, counter } of pushed) {
      const total = totals.get(key);
      // The total includes what was pushed plus what others pushed; increments since are still local.
      if (total !== undefined) counter.others = Math.max(0, total - (counter.local - counter.unsynced));
    }
    return true;
  }
}
