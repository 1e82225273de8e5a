export interface RetryOptions<T> {
  /** Epoch ms after which no attempt may start or continue. */
  readonly deadline: number;
  /** Base backoff; the actual wait is jittered between half and all of it. */
  readonly baseDelayMs: number;
  /** The shortest budget worth starting a second attempt with. */
  readonly minAttemptMs: number;
  /** Whether an attempt's outcome is a transient failure worth a second attempt. */
  readonly shouldRetry: (outcome: T) => boolean;
  readonly now?: () => number;
}

/**
 * One retry with jittered backoff, for idempotent reads only, and only when what is left of the
 * deadline still leaves the second attempt a fair chance. `attempt` receives its own time budget.
 * Failures are outcomes; an exception is a fault of the code and is never retried.
 */
export async function retryOnce<T>(
  attempt: (budgetMs: number) => Promise<T>,
  options: RetryOptions<T>,
): Promise<T> {
  const now = options.now ?? Date.now;
  const first = await attempt(options.deadline - now());
  if (!options.shouldRetry(first)) return first;
  const delay = options.baseDelayMs * (0.5 + Math.random() * 0.5);
  if (options.deadline - now() - delay < options.minAttemptMs) return first;
  await Bun.sleep(delay);
  return attempt(options.deadline - now());
}
