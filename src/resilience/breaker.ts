import CircuitBreaker from "opossum";
import {
  circuitOpen,
  failed,
  type KongResult,
  type KongUnavailable,
  kongUnavailable,
} from "../kong/result.ts";

export type BreakerState = "closed" | "open" | "half-open";
/** `error`: Kong answered but refused (bad admin token, bad request); it does not count against Kong. */
export type KongOutcome = "success" | "failure" | "rejected" | "timeout" | "error";

export interface KongBreakerOptions {
  /** Budget of one Kong operation, its retry included (CIRCUIT_BREAKER_TIMEOUT). */
  readonly timeoutMs: number;
  readonly errorThresholdPercentage: number;
  readonly resetTimeoutMs: number;
  /** Calls needed in the window (10 s) before the error rate may open the breaker; 5 by default. */
  readonly volumeThreshold?: number;
  readonly now?: () => number;
}

export interface BreakerObserver {
  onStateChange?(state: BreakerState, previous: BreakerState): void;
  onResult?(operation: string, outcome: KongOutcome): void;
}

type Operation = (deadline: number) => Promise<KongResult<unknown>>;

/**
 * opossum counts a call as failed only when it rejects: an outage travels through it as this
 * rejection and comes out as a value again in `run`.
 */
class Outage extends Error {
  constructor(readonly failure: KongUnavailable) {
    super(failure.message);
  }
}

/**
 * The one circuit breaker in front of the Kong Admin API. Only infrastructure failures count against
 * it: an unknown consumer (404) or a refused admin token is Kong answering, not Kong failing. While
 * open, calls fail at once with a "unavailable" failure so no request waits on a dead Kong.
 */
export class KongBreaker {
  private readonly breaker: CircuitBreaker<[string, Operation], unknown>;
  // Stryker disable next-line ArrayDeclaration: a string in the list is skipped by the ?. calls, like no entry.
  private readonly observers: BreakerObserver[] = [];
  private readonly now: () => number;
  private current: BreakerState = "closed";
  /** When the breaker entered its current state, by the injectable clock. */
  private enteredAt = 0;

  constructor(private readonly options: KongBreakerOptions) {
    this.now = options.now ?? Date.now;
    this.breaker = new CircuitBreaker(
      // Deadlines are real time, as fetch timeouts are; the injectable clock only drives Retry-After.
      async (_operation: string, run: Operation) => {
        const result = await run(Date.now() + options.timeoutMs);
        if (!result.ok && result.error.kind === "unavailable") throw new Outage(result.error);
        // Kong answered, even if it said no: a success for the breaker.
        return result;
      },
      {
        timeout: options.timeoutMs,
        errorThresholdPercentage: options.errorThresholdPercentage,
        resetTimeout: options.resetTimeoutMs,
        rollingCountTimeout: 10_000,
        rollingCountBuckets: 10,
        volumeThreshold: options.volumeThreshold ?? 5,
      },
    );
    this.breaker.on("open", () => this.transition("open"));
    this.breaker.on("halfOpen", () => this.transition("half-open"));
    this.breaker.on("close", () => this.transition("closed"));
  }

  observe(observer: BreakerObserver): void {
    this.observers.push(observer);
  }

  get state(): BreakerState {
    return this.current;
  }

  /** Seconds until the breaker lets a trial call through; what a 503 tells clients to wait. */
  retryAfterSeconds(): number {
    if (this.current !== "open") return 1;
    const remaining = this.enteredAt + this.options.resetTimeoutMs - this.now();
    return Math.max(1, Math.ceil(remaining / 1000));
  }

  /**
   * Runs one Kong operation. `run` receives the deadline (epoch ms) its attempts must respect. A
   * call the breaker refused or timed out, and an exception thrown by `run`, come back as
   * "unavailable" failures.
   */
  async run<T>(operation: string, run: (deadline: number) => Promise<KongResult<T>>): Promise<KongResult<T>> {
    try {
      const result = (await this.breaker.fire(operation, run)) as KongResult<T>;
      this.notifyResult(
        result.ok || result.error.kind === "unknown-consumer" ? "success" : "error",
        operation,
      );
      return result;
    } catch (error) {
      return failed(this.classify(operation, error));
    }
  }

  stats() {
    const { fires, failures, rejects, timeouts, successes, fallbacks } = this.breaker.stats;
    return { state: this.current, fires, failures, rejects, timeouts, successes, fallbacks };
  }

  shutdown(): void {
    this.breaker.shutdown();
  }

  private classify(operation: string, error: unknown): KongUnavailable {
    const code = (error as { code?: unknown } | null)?.code;
    if (code === "EOPENBREAKER") {
      this.notifyResult("rejected", operation);
      return circuitOpen(`${operation}: circuit breaker open, Kong not called`);
    }
    if (code === "ETIMEDOUT") {
      this.notifyResult("timeout", operation);
      return kongUnavailable(`${operation}: no answer within ${this.options.timeoutMs} ms`);
    }
    this.notifyResult("failure", operation);
    if (error instanceof Outage) return error.failure;
    return kongUnavailable(
      `${operation}: ${error instanceof Error ? error.message : "failed"}`,
      undefined,
      error,
    );
  }

  private notifyResult(outcome: KongOutcome, operation: string) {
    for (const observer of this.observers) observer.onResult?.(operation, outcome);
  }

  /** opossum emits an event only when the state really changes. */
  private transition(next: BreakerState): void {
    const previous = this.current;
    this.current = next;
    this.enteredAt = this.now();
    for (const observer of this.observers) observer.onStateChange?.(next, previous);
  }
}
