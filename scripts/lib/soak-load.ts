/**
 * The soak's load: token requests sent open-loop (on a schedule, whatever the answers) to several
 * instances in turn, each answer's latency and outcome filed under the slice of time it was sent in.
 */

export interface Consumer {
  readonly id: string;
  readonly username: string;
}

export interface SliceFigures {
  sent: number;
  ok: number;
  /** Failures (not 200, or no answer) of requests sent inside a fault window. */
  failedInFault: number;
  /** Failures of requests sent outside every fault window: the soak fails on any. */
  failedOutside: number;
  /** A few examples of the failures outside fault windows, for the report. */
  readonly examples: string[];
  readonly latencies: number[];
}

export const emptySlice = (): SliceFigures => ({
  sent: 0,
  ok: 0,
  failedInFault: 0,
  failedOutside: 0,
  examples: [],
  latencies: [],
});

export interface LoadPlan {
  readonly urls: readonly string[];
  readonly rate: number;
  readonly seconds: number;
  readonly sliceSeconds: number;
  /** The consumer of the i-th request. */
  readonly pick: (i: number, elapsedMs: number) => Consumer;
  /** Whether a request sent at this time may fail (a fault window, with its grace). */
  readonly inFault: (elapsedMs: number) => boolean;
  readonly slices: SliceFigures[];
  readonly timeoutMs?: number;
}

/** Runs the plan to its end; resolves once every request sent has been answered or given up on. */
export async function runLoad(plan: LoadPlan): Promise<void> {
  const periodMs = 1000 / plan.rate;
  const total = Math.round(plan.rate * plan.seconds);
  const pending = new Set<Promise<void>>();
  const start = performance.now();
  for (let i = 0; i < total; i++) {
    const wait = start + i * periodMs - performance.now();
    if (wait > 0) await Bun.sleep(wait);
    const elapsed = performance.now() - start;
    const slice =
      plan.slices[Math.min(plan.slices.length - 1, Math.floor(elapsed / 1000 / plan.sliceSeconds))];
    if (!slice) continue;
    const request = send(plan, i, elapsed, slice);
    pending.add(request);
    void request.finally(() => pending.delete(request));
  }
  await Promise.all(pending);
}

async function send(plan: LoadPlan, i: number, elapsed: number, slice: SliceFigures): Promise<void> {
  const consumer = plan.pick(i, elapsed);
  const url = plan.urls[i % plan.urls.length] as string;
  slice.sent++;
  const sent = performance.now();
  let problem: string | undefined;
  try {
    const response = await fetch(`${url}/tokens`, {
      headers: { "x-consumer-id": consumer.id, "x-consumer-username": consumer.username },
      signal: AbortSignal.timeout(plan.timeoutMs ?? 5_000),
    });
    await response.arrayBuffer();
    if (response.status === 200) {
      slice.ok++;
      slice.latencies.push(performance.now() - sent);
      return;
    }
    problem = `${response.status} from ${url} for ${consumer.username}`;
  } catch (error) {
    problem = `${error instanceof Error ? error.name : "error"} from ${url} for ${consumer.username}`;
  }
  if (plan.inFault(elapsed)) {
    slice.failedInFault++;
    return;
  }
  slice.failedOutside++;
  if (slice.examples.length < 3) slice.examples.push(`${(elapsed / 1000).toFixed(1)} s: ${problem}`);
}

export function percentile(values: number[], p: number): number {
  if (values.length === 0) return Number.NaN;
  const sorted = [...values].sort((a, b) => a - b);
  return sorted[Math.min(sorted.length - 1, Math.floor(sorted.length * p))] as number;
}
