import type { Fault } from "./types.ts";

interface QueuedFault {
  fault: Fault;
  remaining: number;
}

/** Faults in the order they were injected; the first that matches a request is spent on it. */
export class FaultQueue {
  private queue: QueuedFault[] = [];

  add(fault: Fault): void {
    if (fault.times !== undefined && (!Number.isInteger(fault.times) || fault.times < 1)) {
      throw new Error(`fault.times must be a positive integer, got ${fault.times}`);
    }
    this.queue.push({ fault, remaining: fault.times ?? Number.POSITIVE_INFINITY });
  }

  clear(): void {
    this.queue = [];
  }

  take(call: { method: string; path: string }): Fault | undefined {
    const index = this.queue.findIndex((queued) => queued.fault.match?.(call) ?? true);
    const queued = this.queue[index];
    if (!queued) return undefined;
    queued.remaining -= 1;
    if (queued.remaining <= 0) this.queue.splice(index, 1);
    return queued.fault;
  }
}

/**
 * A response whose body stream errors before the first byte: Bun then closes the socket without
 * writing a status line, so the client sees a connection reset (ECONNRESET) rather than an answer.
 * Erroring with `undefined` keeps Bun from logging the "error" to stderr.
 */
export function connectionReset(): Response {
  return new Response(
    new ReadableStream({
      start(controller) {
        controller.error(undefined);
      },
    }),
  );
}

/** Resolves true after `ms`, or false as soon as any of the signals aborts. */
export function sleep(ms: number, ...signals: AbortSignal[]): Promise<boolean> {
  return new Promise((resolve) => {
    if (signals.some((signal) => signal.aborted)) return resolve(false);
    const finish = (elapsed: boolean) => {
      clearTimeout(timer);
      for (const signal of signals) signal.removeEventListener("abort", onAbort);
      resolve(elapsed);
    };
    const onAbort = () => finish(false);
    const timer = setTimeout(() => finish(true), ms);
    for (const signal of signals) signal.addEventListener("abort", onAbort, { once: true });
  });
}

/** Never answers: settles (with a reset) only when the client gives up or the emulator stops. */
export function hangUntil(...signals: AbortSignal[]): Promise<Response> {
  return new Promise((resolve) => {
    if (signals.some((signal) => signal.aborted)) return resolve(connectionReset());
    const release = () => {
      for (const signal of signals) signal.removeEventListener("abort", release);
      resolve(connectionReset());
    };
    for (const signal of signals) signal.addEventListener("abort", release, { once: true });
  });
}
