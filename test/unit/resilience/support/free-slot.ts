import type { ConcurrencyLimiter } from "../../../../src/resilience/concurrency.ts";

/**
 * Whether a caller that will not wait gets a slot now. A granted slot is given back at once, so asking
 * changes nothing: while a slot is free, nobody is waiting for one.
 */
export async function hasFreeSlot(limiter: ConcurrencyLimiter): Promise<boolean> {
  const release = await limiter.acquire(0);
  release?.();
  return release !== undefined;
}
