export interface RetryOptions {
  /** Epoch ms after which no attempt may start or continue. */
  readonly deadline: number;
  /** Base backoff; the actual wait is jittered between half and all of it. */
  readonly baseDelayMs: number;
  /** The shortest budget worth starting a second attempt with. */
  readonly minAttemptMs: number;
  readonly shouldRetry: (error: unknown) => boolean;
  readonly now?: () => number;
}

/**
 * One retry with jittered backoff, for idempotent reads only, and only when what is left of the
 * deadline still leaves the second attempt a fair chance. `attempt` receives its own time budget.
 */
export async function retryOnce<T>(
  attempt: (budgetMs: number) => Promise<T>,
  options: RetryOptions,
): Promise<T> {
  const now = options.now ?? Date.now;
  try {
    return await attempt(options.deadline - now());
  } catch (error) {
    if (!options.shouldRetry(error)) throw error;
    const delay = options.baseDelayMs * (0.5 + Math.random() * 0.5);
    if (options.deadline - now() - delay < options.minAttemptMs) throw error;
    await Bun.sleep(delay);
    return attempt(options.deadline - now());
  }
}
