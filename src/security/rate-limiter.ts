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
  /** Consumers with increments not yet pushed; only kept with a sync. */
  private readonly changed = new Set<string>();
  private readonly now: () => number;
  private readonly maxTracked: number;
  private timer: ReturnType<typeof setInterval> | undefined;
  private syncing = false;
  private degraded = false;

  constructor(private readonly options: RateLimiterOptions) {
    this.now = options.now ?? Date.now;
    this.maxTracked = options.maxTrackedConsumers ?? DEFAULT_MAX_TRACKED_CONSUMERS;
  }

  get trackedConsumers(): number {
    return this.counters.size;
  }

  start(): void {
    if (!this.options.sync || this.timer) return;
    this.timer = setInterval(() => void this.syncNow(), this.options.syncMs);
    this.timer.unref?.();
  }

  stop(): void {
    clearInterval(this.timer);
    this.timer = undefined;
  }

  take(consumerId: string): RateLimitDecision {
    const { maxRequests, windowMs } = this.options;
    const now = this.now();
    const window = Math.floor(now / windowMs);
    const resetSeconds = Math.max(1, Math.ceil(((window + 1) * windowMs - now) / 1000));
    let counter = this.counters.get(consumerId);
    if (!counter || counter.window !== window) counter = this.startWindow(consumerId, window);
    const used = counter.local + counter.others;
    if (used >= maxRequests) return { allowed: false, limit: maxRequests, remaining: 0, resetSeconds };
    counter.local++;
    if (counter.unsynced++ === 0 && this.options.sync) this.changed.add(consumerId);
    return { allowed: true, limit: maxRequests, remaining: maxRequests - used - 1, resetSeconds };
  }

  /** Pushes the counters that changed since the last sync, chunk by chunk, learning their totals. */
  async syncNow(): Promise<void> {
    if (!this.options.sync || this.syncing || this.changed.size === 0) return;
    this.syncing = true;
    try {
      const window = Math.floor(this.now() / this.options.windowMs);
      // A snapshot: consumers changing meanwhile are pushed by the next sync.
      const ids = [...this.changed];
      this.changed.clear();
      for (let start = 0; start < ids.length; start += SYNC_CHUNK_KEYS) {
        if (!(await this.push(ids.slice(start, start + SYNC_CHUNK_KEYS), window))) {
          for (const id of ids.slice(start + SYNC_CHUNK_KEYS)) this.changed.add(id);
          return;
        }
      }
    } finally {
      this.syncing = false;
    }
  }

  /** Re-inserted, so the map stays ordered by window start. */
  private startWindow(consumerId: string, window: number): Counter {
    this.counters.delete(consumerId);
    for (const [id, oldest] of this.counters) {
      if (oldest.window >= window && this.counters.size < this.maxTracked) break;
      this.counters.delete(id);
      this.changed.delete(id);
    }
    const counter: Counter = { window, local: 0, unsynced: 0, others: 0 };
    this.counters.set(consumerId, counter);
    return counter;
  }

  /** One call for one chunk; false when the store was unavailable (the chunk is kept for the next sync). */
  private async push(ids: readonly string[], window: number): Promise<boolean> {
    const sync = this.options.sync;
    if (!sync) return false;
    const increments = new Map<string, number>();
    const pushed: { id: string; key: string; counter: Counter; sent: number }[] = [];
    for (const id of ids) {
      const counter = this.counters.get(id);
      // Counts of a window that has ended no longer decide anything.
      if (!counter || counter.window !== window || counter.unsynced === 0) continue;
      const key = `${id}:${window}`;
      increments.set(key, counter.unsynced);
      pushed.push({ id, key, counter, sent: counter.unsynced });
      counter.unsynced = 0;
    }
    if (pushed.length === 0) return true;
    const totals = await sync.push(increments, this.options.windowMs);
    if (!totals) {
      for (const { id, counter, sent } of pushed) {
        counter.unsynced += sent;
        if (this.counters.get(id) === counter) this.changed.add(id);
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
