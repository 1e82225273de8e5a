import { describe, expect, spyOn, test } from "bun:test";
import { generateKeyPairSync, type KeyObject, sign, verify } from "node:crypto";
import { MAX_CONSECUTIVE_FAILURES, SigningPool } from "../../../src/jwt/signing-pool.ts";
import {
  errorLine,
  type FromWorker,
  type ToWorker,
  type WorkerEvents,
  workerFromSource,
} from "../../../src/jwt/signing-worker.ts";
import { waitFor } from "../../support/wait.ts";

const KEYS = {
  EdDSA: { pair: generateKeyPairSync("ed25519"), digest: null },
  ES256: { pair: generateKeyPairSync("ec", { namedCurve: "P-256" }), digest: "sha256" },
  RS256: { pair: generateKeyPairSync("rsa", { modulusLength: 2048 }), digest: "sha256" },
} as const;
const ed = KEYS.EdDSA.pair;

/** The request thread's own signature, as src/jwt/signer.ts makes it. */
const inlineOf = (key: KeyObject, digest: string | null) => (input: string) =>
  sign(digest, Buffer.from(input), { key, dsaEncoding: "ieee-p1363" }).toString("base64url");

const verifies = (input: string, signature: string, key: KeyObject, digest: string | null) =>
  verify(digest, Buffer.from(input), { key, dsaEncoding: "ieee-p1363" }, Buffer.from(signature, "base64url"));

/** A worker the test drives: it records what it is sent and answers or fails when told. */
class FakeWorker {
  readonly received: ToWorker[] = [];
  terminated = false;
  constructor(readonly events: WorkerEvents) {}
  post(message: ToWorker) {
    this.received.push(message);
  }
  terminate() {
    this.terminated = true;
  }
  get batches() {
    return this.received.filter((m): m is Extract<ToWorker, { kind: "sign" }> => m.kind === "sign");
  }
  /** Answers a batch as the real worker would, with the key the pool sent. */
  answer(batch: Extract<ToWorker, { kind: "sign" }>, signatures?: (string | null)[]) {
    const sent = batch.inputs.map((input) => inlineOf(ed.privateKey, null)(input));
    this.events.answer({ batch: batch.batch, signatures: signatures ?? sent } satisfies FromWorker);
  }
}

/** A pool over fake workers, with the turn's flush and the timers in the test's hands. */
function fakePool(size: number, { warn = true } = {}) {
  const workers: FakeWorker[] = [];
  const deferred: (() => void)[] = [];
  const timers = new Map<number, () => void>();
  let nextTimer = 0;
  const warnings: string[] = [];
  const pool = new SigningPool({
    size,
    createWorker: (events) => {
      const worker = new FakeWorker(events);
      workers.push(worker);
      return worker;
    },
    defer: (flush) => deferred.push(flush),
    timers: {
      set: (run) => {
        timers.set(++nextTimer, run);
        return nextTimer;
      },
      clear: (id) => timers.delete(id as number),
    },
    ...(warn ? { warn: (message: string, reason: string) => warnings.push(`${message}: ${reason}`) } : {}),
  });
  return {
    pool,
    workers,
    warnings,
    timers,
    /** Flushes waiting for the end of the turn. */
    scheduled: () => deferred.length,
    endTurn: () => {
      for (const flush of deferred.splice(0)) flush();
    },
    /** Fires every armed deadline. */
    expire: () => {
      for (const [id, run] of [...timers]) {
        timers.delete(id);
        run();
      }
    },
  };
}

describe("the signing pool with real workers", () => {
  test.each(Object.entries(KEYS))(
    "%s signatures made off the request thread verify with the public key (ES256 as JWS r‖s)",
    async (_alg, { pair, digest }) => {
      const pool = new SigningPool({ size: 2 });
      try {
        const signer = pool.signer(pair.privateKey, digest, inlineOf(pair.privateKey, digest));
        const inputs = Array.from(
          { length: 12 },
          (_, i) => `eyJhbGciOiJ4In0.eyJzdWIiOiJ1c2VyLSR7aX0ifQ-${i}`,
        );
        const signatures = await Promise.all(inputs.map((input) => signer(input)));
        signatures.forEach((signature, i) => {
          expect(verifies(inputs[i] as string, signature, pair.publicKey, digest)).toBe(true);
        });
        if (_alg === "ES256") expect(Buffer.from(signatures[0] as string, "base64url")).toHaveLength(64);
        expect(pool.stats).toEqual({ offThread: 12, shared: 0, inline: 0, workerFailures: 0, workers: 2 });
      } finally {
        pool.close();
      }
    },
  );

  test("with the process's timers, an answered batch's deadline is cleared", async () => {
    // The deadline is 60 s: a loaded machine never reaches it, and the test does not wait for it.
    const set = spyOn(globalThis, "setTimeout");
    const clear = spyOn(globalThis, "clearTimeout");
    const pool = new SigningPool({ size: 1, deadlineMs: 60_000 });
    try {
      const signer = pool.signer(ed.privateKey, null, inlineOf(ed.privateKey, null));
      await signer("first");
      const armed = set.mock.calls.findIndex((call) => call[1] === 60_000);
      expect(armed).toBeGreaterThanOrEqual(0);
      expect(clear).toHaveBeenCalledWith(set.mock.results[armed]?.value);
      expect(pool.stats).toEqual({ offThread: 1, shared: 0, inline: 0, workerFailures: 0, workers: 1 });
    } finally {
      pool.close();
      set.mockRestore();
      clear.mockRestore();
    }
  });

  test("a worker that exits is reported as failed, after what it answered", async () => {
    const seen: string[] = [];
    workerFromSource(
      { answer: (m) => seen.push(`answer ${m.batch}`), failed: (reason) => seen.push(reason) },
      "postMessage({ batch: 1, signatures: [] }); process.exit(0);",
    );
    await waitFor(() => seen.length === 2, "the answer and the exit");
    expect(seen).toEqual(["answer 1", "worker exited"]);
  });

  test("terminate stops the worker: its exit follows (which the pool, having dropped it, ignores)", async () => {
    const seen: string[] = [];
    const worker = workerFromSource({ answer: () => {}, failed: (reason) => seen.push(reason) });
    worker.terminate();
    await waitFor(() => seen.length > 0, "the worker's exit");
    expect(seen).toEqual(["worker exited"]);
  });

  test("a worker that throws outside a signature is reported as failed", async () => {
    const failures: string[] = [];
    const worker = workerFromSource({ answer: () => {}, failed: (reason) => failures.push(reason) });
    try {
      worker.post({ kind: "sign", batch: 1, keys: [0], inputs: null as unknown as string[] });
      await waitFor(() => failures.length > 0, "the worker's failure");
      expect(failures[0]).toBe(
        "worker error: TypeError: null is not an object (evaluating 'data.inputs.map')",
      );
    } finally {
      worker.terminate();
    }
  });

  test("a worker's error is reported by the line that names it, not by the source Bun quotes around it", () => {
    const quoted =
      "1 | throw new RangeError(x);\n    ^\nRangeError: too far\n      at <anonymous> (blob:1:2)\n";
    expect(errorLine(quoted)).toBe("RangeError: too far");
    expect(errorLine("1 | boom();\nerror: boom\n")).toBe("error: boom");
    expect(errorLine("something else\nmore")).toBe("something else");
  });

  test("a signature the worker cannot make comes back as null, not as a failure", async () => {
    const answers: FromWorker[] = [];
    const failures: string[] = [];
    const worker = workerFromSource({ answer: (m) => answers.push(m), failed: (r) => failures.push(r) });
    try {
      worker.post({ kind: "sign", batch: 7, keys: [3], inputs: ["no key 3 was sent"] });
      await waitFor(() => answers.length > 0, "the worker's answer");
      expect(answers).toEqual([{ batch: 7, signatures: [null] }]);
      expect(failures).toEqual([]);
    } finally {
      worker.terminate();
    }
  });
});

describe("the signing pool's batches", () => {
  test("one turn's signatures travel as one message per worker, split evenly, each worker holding the key", async () => {
    const { pool, workers, endTurn, scheduled } = fakePool(2);
    const signer = pool.signer(ed.privateKey, null, inlineOf(ed.privateKey, null));
    const asked = Array.from({ length: 5 }, (_, i) => signer(`input-${i}`));
    expect(workers.flatMap((w) => w.batches)).toEqual([]);
    expect(scheduled()).toBe(1);
    endTurn();
    for (const worker of workers) {
      expect(worker.received[0]).toMatchObject({ kind: "key", key: 0, digest: null });
    }
    expect(workers.map((w) => w.batches.map((b) => b.inputs))).toEqual([
      [["input-0", "input-1", "input-2"]],
      [["input-3", "input-4"]],
    ]);
    for (const worker of workers) worker.answer(worker.batches[0] as never);
    const signatures = await Promise.all(asked);
    signatures.forEach((signature, i) => {
      expect(verifies(`input-${i}`, signature, ed.publicKey, null)).toBe(true);
    });
    expect(pool.stats).toMatchObject({ offThread: 5, inline: 0 });
  });

  test("a shared key: this thread signs an equal share of the turn, after the workers' shares are sent", async () => {
    const { pool, workers, endTurn } = fakePool(2);
    const order: string[] = [];
    const inline = inlineOf(ed.privateKey, null);
    const signer = pool.signer(
      ed.privateKey,
      null,
      (input) => {
        order.push(`here ${input} after ${workers.flatMap((w) => w.batches).length} batches`);
        return inline(input);
      },
      true,
    );
    const asked = Array.from({ length: 7 }, (_, i) => signer(`input-${i}`));
    endTurn();
    // 7 tokens, 2 workers and this thread: shares of 3.
    expect(order).toEqual([
      "here input-0 after 2 batches",
      "here input-1 after 2 batches",
      "here input-2 after 2 batches",
    ]);
    expect(workers.map((w) => w.batches.map((b) => b.inputs))).toEqual([
      [["input-3", "input-4"]],
      [["input-5", "input-6"]],
    ]);
    for (const worker of workers) worker.answer(worker.batches[0] as never);
    const signatures = await Promise.all(asked);
    signatures.forEach((signature, i) => {
      expect(verifies(`input-${i}`, signature, ed.publicKey, null)).toBe(true);
    });
    expect(pool.stats).toMatchObject({ offThread: 4, shared: 3, inline: 0 });
  });

  test("one token alone, of a shared key, is signed here; of another key, by a worker", async () => {
    const { pool, workers, endTurn } = fakePool(2);
    const sharedKey = pool.signer(ed.privateKey, null, inlineOf(ed.privateKey, null), true);
    const workersOnly = pool.signer(ed.privateKey, null, inlineOf(ed.privateKey, null));
    const first = sharedKey("alone");
    endTurn();
    expect(verifies("alone", await first, ed.publicKey, null)).toBe(true);
    expect(workers.flatMap((w) => w.batches)).toEqual([]);
    void workersOnly("not shared");
    endTurn();
    expect(workers.flatMap((w) => w.batches.map((b) => b.inputs))).toEqual([["not shared"]]);
    expect(pool.stats).toMatchObject({ shared: 1, inline: 0 });
  });

  test("each signature goes to the key it was asked with", async () => {
    const { pool, workers, endTurn } = fakePool(1);
    const other = generateKeyPairSync("ed25519");
    const first = pool.signer(ed.privateKey, null, inlineOf(ed.privateKey, null));
    const second = pool.signer(other.privateKey, null, inlineOf(other.privateKey, null));
    void first("a");
    void second("b");
    endTurn();
    expect((workers[0] as FakeWorker).batches[0]).toMatchObject({ keys: [0, 1], inputs: ["a", "b"] });
  });
});

describe("the signing pool when a worker fails", () => {
  test("a worker that fails with batches in hand: they are signed here, and a new worker with the keys takes over", async () => {
    const { pool, workers, warnings, endTurn, timers } = fakePool(1);
    const signer = pool.signer(ed.privateKey, null, inlineOf(ed.privateKey, null));
    const held = [signer("a"), signer("b")];
    endTurn();
    const first = workers[0] as FakeWorker;
    first.events.failed("worker error: boom");
    // Its exit follows the error: one failure, one replacement.
    first.events.failed("worker exited");
    const signatures = await Promise.all(held);
    expect(verifies("a", signatures[0] as string, ed.publicKey, null)).toBe(true);
    expect(verifies("b", signatures[1] as string, ed.publicKey, null)).toBe(true);
    expect(first.terminated).toBe(true);
    expect(warnings).toEqual([
      "A signing worker failed: its tokens were signed on the request thread: worker error: boom",
    ]);
    expect(timers.size).toBe(0);
    expect(workers).toHaveLength(2);

    const replacement = workers[1] as FakeWorker;
    expect(replacement.received[0]).toMatchObject({ kind: "key", key: 0 });
    const later = signer("c");
    endTurn();
    replacement.answer(replacement.batches[0] as never);
    expect(verifies("c", await later, ed.publicKey, null)).toBe(true);
    expect(pool.stats).toEqual({ offThread: 1, shared: 0, inline: 2, workerFailures: 1, workers: 1 });
  });

  test("without a warn function, failures are still handled", async () => {
    const { pool, workers, endTurn } = fakePool(1, { warn: false });
    const signer = pool.signer(ed.privateKey, null, inlineOf(ed.privateKey, null));
    const held = signer("a");
    endTurn();
    for (let i = 0; i < MAX_CONSECUTIVE_FAILURES; i++) (workers.at(-1) as FakeWorker).events.failed("crash");
    expect(verifies("a", await held, ed.publicKey, null)).toBe(true);
    expect(pool.stats).toMatchObject({ workers: 0, workerFailures: MAX_CONSECUTIVE_FAILURES });
  });

  test("a late answer from a worker already replaced is ignored", async () => {
    const { pool, workers, endTurn } = fakePool(1);
    const signer = pool.signer(ed.privateKey, null, inlineOf(ed.privateKey, null));
    const held = signer("a");
    endTurn();
    const first = workers[0] as FakeWorker;
    first.events.failed("worker exited");
    const signed = await held;
    first.answer(first.batches[0] as never, ["forged"]);
    expect(signed).not.toBe("forged");
    expect(pool.stats).toMatchObject({ offThread: 0, inline: 1 });
  });

  test("no answer within the deadline: the batch is signed here and the worker replaced", async () => {
    const { pool, workers, warnings, endTurn, expire, timers } = fakePool(1);
    const signer = pool.signer(ed.privateKey, null, inlineOf(ed.privateKey, null));
    const held = signer("a");
    endTurn();
    expect(timers.size).toBe(1);
    expire();
    expect(verifies("a", await held, ed.publicKey, null)).toBe(true);
    expect(warnings).toEqual([
      "A signing worker failed: its tokens were signed on the request thread: no answer within the deadline",
    ]);
    expect((workers[0] as FakeWorker).terminated).toBe(true);
    expect(workers).toHaveLength(2);
  });

  test("the deadline is for the batch the worker is on: each answer re-arms it, the last one disarms it", async () => {
    const { pool, workers, endTurn, timers } = fakePool(1);
    const signer = pool.signer(ed.privateKey, null, inlineOf(ed.privateKey, null));
    const first = signer("a");
    endTurn();
    const second = signer("b");
    endTurn();
    const worker = workers[0] as FakeWorker;
    expect(timers.size).toBe(1);
    const armed = [...timers.keys()];
    worker.answer(worker.batches[0] as never);
    expect(timers.size).toBe(1);
    expect([...timers.keys()]).not.toEqual(armed);
    worker.answer(worker.batches[1] as never);
    expect(timers.size).toBe(0);
    await Promise.all([first, second]);
    expect(pool.stats).toMatchObject({ offThread: 2, workerFailures: 0 });
  });

  test(`after ${MAX_CONSECUTIVE_FAILURES} failures in a row it signs here for good and says so`, async () => {
    const { pool, workers, warnings, endTurn } = fakePool(2);
    const signer = pool.signer(ed.privateKey, null, inlineOf(ed.privateKey, null));
    for (let i = 0; i < MAX_CONSECUTIVE_FAILURES; i++)
      (workers.at(-1) as FakeWorker).events.failed(`crash ${i}`);
    expect(warnings.at(-1)).toBe(
      `Signing workers keep failing: signing on the request thread from now on: crash ${MAX_CONSECUTIVE_FAILURES - 1}`,
    );
    expect(workers.every((w) => w.terminated)).toBe(true);
    expect(pool.stats.workers).toBe(0);
    const later = signer("after");
    endTurn();
    expect(verifies("after", await later, ed.publicKey, null)).toBe(true);
    expect(pool.stats).toMatchObject({ inline: 1, workerFailures: MAX_CONSECUTIVE_FAILURES });
  });

  test("an answered batch resets the count of failures in a row", () => {
    const { pool, workers, endTurn } = fakePool(1);
    const signer = pool.signer(ed.privateKey, null, inlineOf(ed.privateKey, null));
    for (let round = 0; round < MAX_CONSECUTIVE_FAILURES; round++) {
      for (let i = 0; i < MAX_CONSECUTIVE_FAILURES - 1; i++)
        (workers.at(-1) as FakeWorker).events.failed("crash");
      void signer("x");
      endTurn();
      const worker = workers.at(-1) as FakeWorker;
      worker.answer(worker.batches[0] as never);
    }
    expect(pool.stats.workers).toBe(1);
  });

  test("a signature the worker could not make is made here, and its error reaches the caller", async () => {
    const { pool, workers, endTurn } = fakePool(1);
    const broken = pool.signer(ed.privateKey, null, () => {
      throw new Error("this key cannot sign");
    });
    const asked = broken("a");
    endTurn();
    const worker = workers[0] as FakeWorker;
    worker.answer(worker.batches[0] as never, [null]);
    await expect(asked).rejects.toThrow("this key cannot sign");
  });

  test("close: what the workers hold and anything asked later is signed here", async () => {
    const { pool, workers, endTurn } = fakePool(2);
    const signer = pool.signer(ed.privateKey, null, inlineOf(ed.privateKey, null));
    const held = signer("held");
    endTurn();
    const queued = signer("queued");
    pool.close();
    expect(workers.every((w) => w.terminated)).toBe(true);
    expect(verifies("held", await held, ed.publicKey, null)).toBe(true);
    expect(verifies("queued", await queued, ed.publicKey, null)).toBe(true);
    const later = signer("later");
    endTurn();
    expect(verifies("later", await later, ed.publicKey, null)).toBe(true);
    expect(pool.stats).toMatchObject({ offThread: 0, inline: 3, workers: 0 });
  });
});
