import type { KongOutcome } from "../resilience/breaker.ts";
import type { KongAdapter } from "./adapter.ts";

/** What this instance knows of Kong, newest evidence first. */
export interface KongObservation {
  /** The newest evidence, from the probe or from a token request, is Kong answering. */
  readonly answering: boolean;
  /** A token was signed with a stale copy since Kong began failing. */
  readonly staleServed: boolean;
  /** When this instance first saw Kong fail in the current outage (epoch ms); absent while it answers. */
  readonly failingSince?: number;
  /** Why the newest evidence is a failure, without consumer ids or URLs' secrets. */
  readonly error?: string;
  readonly responseTimeMs: number;
}

/**
 * Kong's health as seen from here: the probe of its health endpoint, remembered for a few seconds so
 * that polling /health cannot turn into load on Kong, and every Kong call a token request made. The
 * newest of the two wins, so a cached probe never hides a failure a request has just met, and an
 * instance nobody sends requests to (an unready pod) still sees Kong come back through the probe.
 */
export class KongHealth {
  private probing: Promise<void> | undefined;
  private probedAt = Number.NEGATIVE_INFINITY;
  private responseTimeMs = 0;
  private answering = true;
  private failingSince: number | undefined;
  private staleServed = false;
  private error: string | undefined;

  constructor(
    private readonly kong: Pick<KongAdapter, "probe">,
    private readonly ttlMs: number,
    private readonly now: () => number = Date.now,
  ) {}

  /**
   * A Kong call ended (the breaker's view, probes included). A refusal (`error`) is Kong answering
   * but not evidence of its health: it is request-specific, and requests must not be able to steer
   * readiness. A rejection is the open breaker, which speaks for itself.
   */
  recordCall(operation: string, outcome: KongOutcome): void {
    if (outcome === "success") this.observe(true);
    else if (outcome === "failure" || outcome === "timeout") this.observe(false, `${operation}: ${outcome}`);
  }

  /** A token was signed with a stale copy because Kong was unusable. */
  recordStaleServed(): void {
    if (!this.answering) this.staleServed = true;
  }

  async observation(): Promise<KongObservation> {
    if (!this.probing || this.now() - this.probedAt >= this.ttlMs) {
      this.probedAt = this.now();
      this.probing = this.probe();
    }
    await this.probing;
    return {
      answering: this.answering,
      staleServed: this.staleServed,
      responseTimeMs: this.responseTimeMs,
      ...(this.failingSince === undefined ? {} : { failingSince: this.failingSince }),
      ...(this.error === undefined ? {} : { error: this.error }),
    };
  }

  private observe(answering: boolean, error?: string): void {
    if (answering) {
      this.failingSince = undefined;
      this.staleServed = false;
      this.error = undefined;
    } else {
      this.failingSince ??= this.now();
      this.error = error;
    }
    this.answering = answering;
  }

  /** Recorded when it completes, in order with the requests' evidence; a cached result is not replayed. */
  private async probe(): Promise<void> {
    const started = performance.now();
    let error: string | undefined;
    try {
      const answer = await this.kong.probe();
      if (!answer.ok) error = answer.error.message;
    } catch {
      // A fault of the code must not take /health down with it, nor reach it with its details.
      error = "probe failed";
    }
    this.responseTimeMs = Math.round(performance.now() - started);
    this.observe(error === undefined, error);
  }
}
