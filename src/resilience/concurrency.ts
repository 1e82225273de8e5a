/**
 * Bounds concurrent work: `limit` run at once, up to `queueLimit` wait in line, the rest are refused
 * at once. Used to keep a flood of new consumers from stampeding the Kong Admin API.
 */
export class ConcurrencyLimiter {
  private active = 0;
  private readonly waiting: (() => void)[] = [];

  constructor(
    private readonly limit: number,
    private readonly queueLimit: number,
  ) {}

  /** Resolves with a release function, or with undefined when the queue is full or `waitMs` passes. */
  async acquire(waitMs: number): Promise<(() => void) | undefined> {
    if (this.active < this.limit) {
      this.active++;
      return this.releaser();
    }
    if (this.waiting.length >= this.queueLimit || waitMs <= 0) return undefined;
    return new Promise((resolve) => {
      const grant = () => {
        clearTimeout(timer);
        this.active++;
        resolve(this.releaser());
      };
      // Still queued when it fires: a grant clears it the moment it takes the waiter out of the queue.
      const timer = setTimeout(() => {
        this.waiting.splice(this.waiting.indexOf(grant), 1);
        resolve(undefined);
      }, waitMs);
      this.waiting.push(grant);
    });
  }

  private releaser(): () => void {
    let released = false;
    return () => {
      if (released) return;
      released = true;
      this.active--;
      this.waiting.shift()?.();
    };
  }
}
