import type { KongAdapter } from "./adapter.ts";
import { isKongError } from "./errors.ts";

export interface KongProbeResult {
  readonly healthy: boolean;
  readonly responseTimeMs: number;
  readonly checkedAt: number;
  readonly error?: string;
}

/**
 * Kong's health as seen from here, remembered for a few seconds so that probes and load balancers
 * polling /health cannot turn into load on Kong.
 */
export class KongHealthProbe {
  private last: Promise<KongProbeResult> | undefined;
  private lastAt = Number.NEGATIVE_INFINITY;

  constructor(
    private readonly kong: KongAdapter,
    private readonly ttlMs: number,
    private readonly now: () => number = Date.now,
  ) {}

  check(): Promise<KongProbeResult> {
    if (this.last && this.now() - this.lastAt < this.ttlMs) return this.last;
    this.lastAt = this.now();
    this.last = this.probe();
    return this.last;
  }

  private async probe(): Promise<KongProbeResult> {
    const started = performance.now();
    const done = (error?: string): KongProbeResult => ({
      healthy: error === undefined,
      responseTimeMs: Math.round(performance.now() - started),
      checkedAt: this.now(),
      ...(error === undefined ? {} : { error }),
    });
    try {
      await this.kong.probe();
      return done();
    } catch (error) {
      return done(isKongError(error) ? error.message : "probe failed");
    }
  }
}
