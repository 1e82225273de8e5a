import CircuitBreaker from "opossum";
import { circuitOpen, isKongError, type KongError, kongUnavailable } from "../kong/errors.ts";

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

type Operation = (deadline: number) => Promise<unknown>;

/**
 * The one circuit breaker in front of the Kong Admin API. Only infrastructure failures count against
 * it: an unknown consumer (404) or a refused admin token is Kong answering, not Kong failing. While
 * open, calls fail at once with an "unavailable" KongError so no request waits on a dead Kong.
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
      (_operation: string, run: Operation) => run(Date.now() + options.timeoutMs),
      {
        timeout: options.timeoutMs,
        errorThresholdPercentage: options.errorThresholdPercentage,
        resetTimeout: options.resetTimeoutMs,
        rollingCountTimeout: 10_000,
        rollingCountBuckets: 10,
        volumeThreshold: options.volumeThreshold ?? 5,
        // Filtered errors count as successes: Kong answered, it just said no.
        errorFilter: (error: unknown) => isKongError(error) && error.kind !== "unavailable",
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
   * Runs one Kong operation. `run` receives the deadline (epoch ms) its attempts must respect.
   * Rejections are always KongErrors.
   */
  async run<T>(operation: string, run: (deadline: number) => Promise<T>): Promise<T> {
    try {
      const result = (await this.breaker.fire(operation, run)) as T;
      this.notifyResult("success", operation);
      return result;
    } catch (error) {
      throw this.classify(operation, error);
    }
  }

  stats() {
    const { fires, failures, rejects, timeouts, successes, fallbacks } = this.breaker.stats;
    return { state: this.current, fires, failures, rejects, timeouts, successes, fallbacks };
  }

  shutdown(): void {
    this.breaker.shutdown();
  }

  private classify(operation: string, error: unknown): KongError {
    const code = (error as { code?: unknown } | null)?.code;
    if (code === "EOPENBREAKER") {
      this.notifyResult("rejected", operation);
      return circuitOpen(`${operation}: circuit breaker open, Kong not called`);
    }
    if (code === "ETIMEDOUT") {
      this.notifyResult("timeout", operation);
      return kongUnavailable(`${operation}: no answer within ${this.options.timeoutMs} ms`);
    }
    if (isKongError(error)) {
      this.notifyResult(error.kind === "unavailable" ? "failure" : "error", operation);
      return error;
    }
    this.notifyResult("failure", operation);
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
