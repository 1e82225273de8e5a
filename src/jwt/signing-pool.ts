import type { KeyObject } from "node:crypto";

/**
 * Asymmetric signatures off the request thread. An Ed25519 signature costs 11–19 µs here and an
 * RS256 one about 450 µs, against 0.4 µs for HMAC: signed inline, an RS256 token holds every other
 * request (readiness probes included) for that long, and the service's signing stops at one core. A
 * pool of workers signs the tokens asked for in one turn of the event loop, split across the workers
 * (and, for cheap signatures, the request thread: see flush); the request thread sends and receives
 * strings.
 *
 * Nothing is lost when a worker fails: a batch whose worker exits, throws or does not answer within
 * the deadline is signed on the request thread, and the worker is replaced; after
 * MAX_CONSECUTIVE_FAILURES in a row without a batch answered, the pool stops using workers for good
 * and says so once.
 */

import {
  type FromWorker,
  type SigningWorker,
  type ToWorker,
  type WorkerFactory,
  workerFromSource,
} from "./signing-worker.ts";

export interface PoolOptions {
  readonly size: number;
  readonly createWorker?: WorkerFactory;
  /** Runs the flush once the event loop's turn is over, so one turn's tokens travel in one message. */
  readonly defer?: (flush: () => void) => void;
  readonly timers?: { set(run: () => void, ms: number): unknown; clear(timer: unknown): void };
  readonly deadlineMs?: number;
  readonly warn?: (message: string, reason: string) => void;
}

export const MAX_CONSECUTIVE_FAILURES = 3;
const DEFAULT_DEADLINE_MS = 2_000;

interface Job {
  readonly key: number;
  readonly input: string;
  readonly resolve: (signature: string) => void;
  readonly reject: (error: unknown) => void;
}
interface Slot {
  worker: SigningWorker;
  /** In the order sent: a worker answers them in that order. */
  readonly batches: Map<number, Job[]>;
  /**
   * Armed while the worker holds batches, re-armed at each answer: the deadline is for the batch it is
   * on, not for the queue behind it, which may be long under load (RS256).
   */
  watchdog: unknown;
}
interface RegisteredKey {
  readonly message: ToWorker;
  readonly inline: (input: string) => string;
  /** The request thread takes its share of this key's signatures (a cheap one: EdDSA, ES256). */
  readonly shared: boolean;
}

export class SigningPool {
  private readonly slots: Slot[] = [];
  private readonly keys: RegisteredKey[] = [];
  private queue: Job[] = [];
  private scheduled = false;
  private nextBatch = 0;
  private nextSlot = 0;
  private failuresInARow = 0;
  /** offThread: by a worker; shared: this thread's share; inline: here because no worker could. */
  private readonly counts = { offThread: 0, shared: 0, inline: 0, workerFailures: 0 };
  private readonly createWorker: WorkerFactory;
  private readonly defer: (flush: () => void) => void;
  private readonly timers: NonNullable<PoolOptions["timers"]>;
  private readonly deadlineMs: number;

  constructor(private readonly options: PoolOptions) {
    this.createWorker = options.createWorker ?? workerFromSource;
    this.defer = options.defer ?? setImmediate;
    this.timers = options.timers ?? { set: setTimeout, clear: (t) => clearTimeout(t as Timer) };
    this.deadlineMs = options.deadlineMs ?? DEFAULT_DEADLINE_MS;
    for (let i = 0; i < options.size; i++) this.slots.push(this.spawn());
  }

  /** Signatures done where, and how many workers failed: for tests and the bench. */
  get stats(): Readonly<typeof this.counts> & { readonly workers: number } {
    return { ...this.counts, workers: this.slots.length };
  }

  /**
   * The signature function of one private key; `inline` is the same signature on this thread, what a
   * failed batch falls back to. Each worker imports the key once. With `shared`, this thread also
   * signs its share of each turn's tokens (see flush).
   */
  signer(
    key: KeyObject,
    digest: string | null,
    inline: (input: string) => string,
    shared = false,
  ): (input: string) => Promise<string> {
    const id = this.keys.length;
    const pkcs8 = new Uint8Array(key.export({ format: "der", type: "pkcs8" }));
    const registered = { message: { kind: "key", key: id, digest, pkcs8 } as const, inline, shared };
    this.keys.push(registered);
    for (const slot of this.slots) slot.worker.post(registered.message);
    return (input) =>
      new Promise<string>((resolve, reject) => {
        this.queue.push({ key: id, input, resolve, reject });
        if (this.scheduled) return;
        this.scheduled = true;
        this.defer(() => this.flush());
      });
  }

  /** Stops the workers; what they still hold, and anything asked for later, is signed here. */
  close(): void {
    for (const slot of this.slots.splice(0)) this.retire(slot);
    this.flush();
  }

  /**
   * The turn's signatures, split in equal shares between the workers and, for shared keys, this
   * thread: it would otherwise only wait for the workers' answers (measured: EdDSA 0.53 → 0.58 of the
   * HMAC rate on 2 cores, docs/testing.md). RS256 is never shared: it is what the pool keeps off this
   * thread. The workers' shares are sent before this thread signs its own.
   */
  private flush(): void {
    this.scheduled = false;
    const jobs = this.queue;
    this.queue = [];
    const workers = this.slots.length;
    const share = Math.ceil(jobs.length / (workers + 1));
    const here: Job[] = [];
    const there: Job[] = [];
    for (const job of jobs) {
      const shared = workers === 0 || (this.keys[job.key] as RegisteredKey).shared;
      (shared && here.length < share ? here : there).push(job);
    }
    const perWorker = Math.ceil(there.length / workers);
    for (let start = 0; start < there.length; start += perWorker) {
      this.dispatch(there.slice(start, start + perWorker));
    }
    for (const job of here) this.signInline(job, workers > 0);
  }

  private dispatch(jobs: Job[]): void {
    const slot = this.slots[this.nextSlot++ % this.slots.length] as Slot;
    // Stryker disable next-line UpdateOperator: counting down gives ids as unique as counting up.
    const batch = this.nextBatch++;
    slot.batches.set(batch, jobs);
    if (slot.watchdog === undefined) this.arm(slot);
    slot.worker.post({
      kind: "sign",
      batch,
      keys: jobs.map((job) => job.key),
      inputs: jobs.map((job) => job.input),
    });
  }

  private arm(slot: Slot): void {
    slot.watchdog = this.timers.set(() => this.fail(slot, "no answer within the deadline"), this.deadlineMs);
  }

  private disarm(slot: Slot): void {
    this.timers.clear(slot.watchdog);
    slot.watchdog = undefined;
  }

  private spawn(): Slot {
    const slot: Slot = {
      worker: undefined as unknown as SigningWorker,
      batches: new Map(),
      watchdog: undefined,
    };
    slot.worker = this.createWorker({
      answer: (message) => this.answered(slot, message),
      failed: (reason) => this.fail(slot, reason),
    });
    for (const key of this.keys) slot.worker.post(key.message);
    return slot;
  }

  private answered(slot: Slot, { batch, signatures }: FromWorker): void {
    const jobs = slot.batches.get(batch);
    if (jobs === undefined) return;
    slot.batches.delete(batch);
    this.disarm(slot);
    if (slot.batches.size > 0) this.arm(slot);
    this.failuresInARow = 0;
    for (let i = 0; i < jobs.length; i++) {
      const job = jobs[i] as Job;
      const signature = signatures[i];
      if (typeof signature !== "string") {
        this.signInline(job);
        continue;
      }
      this.counts.offThread++;
      job.resolve(signature);
    }
  }

  /** A worker that failed is dropped, its batches signed here, and a new one takes its place. */
  private fail(slot: Slot, reason: string): void {
    const index = this.slots.indexOf(slot);
    if (index < 0) return;
    this.counts.workerFailures++;
    this.failuresInARow++;
    this.retire(slot);
    if (this.failuresInARow < MAX_CONSECUTIVE_FAILURES) {
      this.slots[index] = this.spawn();
      this.options.warn?.("A signing worker failed: its tokens were signed on the request thread", reason);
      return;
    }
    // The failed one is retired already; retiring it again with the others does nothing.
    for (const other of this.slots.splice(0)) this.retire(other);
    this.options.warn?.("Signing workers keep failing: signing on the request thread from now on", reason);
  }

  /** Stops the worker and signs here what it still held. */
  private retire(slot: Slot): void {
    slot.worker.terminate();
    this.disarm(slot);
    for (const jobs of slot.batches.values()) for (const job of jobs) this.signInline(job);
    slot.batches.clear();
  }

  /** `byDesign`: this thread's share of a turn, not a fallback. */
  private signInline(job: Job, byDesign = false): void {
    if (byDesign) this.counts.shared++;
    else this.counts.inline++;
    try {
      job.resolve((this.keys[job.key] as RegisteredKey).inline(job.input));
    } catch (error) {
      job.reject(error);
    }
  }
}
