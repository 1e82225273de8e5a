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

export interface RateLimiterOptions {
  readonly maxRequests: number;
  readonly windowMs: number;
  /** How often counts are shared (RATE_LIMIT_SYNC_MS); unused without a sync. */
  readonly syncMs: number;
  readonly sync?: RateLimitSync;
  readonly onSyncFailure?: () => void;
  readonly onSyncRecovered?: () => void;
  readonly now?: () => number;
}

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
 * taken in memory on the hot path; with Redis, instances push their increments and pull the global
 * totals every `syncMs` in one round trip (Kong's rate-limiting plugin calls this sync_rate). The
 * overshoot is bounded by what the other instances allow within one sync interval. Without Redis,
 * or while it is unreachable, each instance enforces the limit on its own.
 */
export class RateLimiter {
  private readonly counters = new Map<string, Counter>();
  private readonly now: () => number;
  private timer: ReturnType<typeof setInterval> | undefined;
  private syncing = false;
  private degraded = false;

  constructor(private readonly options: RateLimiterOptions) {
    this.now = options.now ?? Date.now;
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
    if (!counter || counter.window !== window) {
      counter = { window, local: 0, unsynced: 0, others: 0 };
      this.counters.set(consumerId, counter);
      // A consumer new to this instance: learn what the others counted now rather than at the next tick.
      if (this.timer) queueMicrotask(() => void this.syncNow());
    }
    const used = counter.local + counter.others;
    if (used >= maxRequests) return { allowed: false, limit: maxRequests, remaining: 0, resetSeconds };
    counter.local++;
    counter.unsynced++;
    return { allowed: true, limit: maxRequests, remaining: maxRequests - used - 1, resetSeconds };
  }

  /** One round trip: push every pending increment, learn every active consumer's global count. */
  async syncNow(): Promise<void> {
    const sync = this.options.sync;
    if (!sync || this.syncing) return;
    this.syncing = true;
    try {
      const window = Math.floor(this.now() / this.options.windowMs);
      const increments = new Map<string, number>();
      const pushed = new Map<string, Counter>();
      for (const [consumerId, counter] of this.counters) {
        if (counter.window !== window) {
          this.counters.delete(consumerId);
          continue;
        }
        increments.set(`${consumerId}:${window}`, counter.unsynced);
        pushed.set(`${consumerId}:${window}`, counter);
      }
      if (increments.size === 0) return;
      const sent = new Map([...pushed].map(([key, counter]) => [key, counter.unsynced]));
      for (const counter of pushed.values()) counter.unsynced = 0;
      const totals = await sync.push(increments, this.options.windowMs);
      if (!totals) {
        for (const [key, counter] of pushed) counter.unsynced += sent.get(key) ?? 0;
        if (!this.degraded) this.options.onSyncFailure?.();
        this.degraded = true;
        return;
      }
      if (this.degraded) this.options.onSyncRecovered?.();
      this.degraded = false;
      for (const [key, counter] of pushed) {
        const total = totals.get(key);
        // The total includes what was pushed plus what others pushed; increments since are still local.
        if (total !== undefined) counter.others = Math.max(0, total - (counter.local - counter.unsynced));
      }
    } finally {
      this.syncing = false;
    }
  }
}
