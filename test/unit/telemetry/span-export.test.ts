import { describe, expect, spyOn, test } from "bun:test";
import type { ExportResult } from "../../../src/telemetry/export-stats.ts";
import {
  EpochClock,
  encodeEnvelope,
  type FinishedSpan,
  SpanKindCode,
  StatusCode,
} from "../../../src/telemetry/span-encoding.ts";
import { type SpanBatch, SpanBatcher, spanBatchSerializer } from "../../../src/telemetry/span-export.ts";
import { decodeTraceRequest } from "../../support/otlp-proto.ts";
import { idWords } from "../../support/span-ids.ts";
import { waitFor } from "../../support/wait.ts";

const envelope = encodeEnvelope({ "service.name": "test" }, { name: "scope", version: "1" });

function span(i: number): FinishedSpan {
  return {
    ...idWords("0af7651916cd43dd8448eb211c80319c", (i + 1).toString(16).padStart(16, "0")),
    traceState: undefined,
    parentIsRemote: false,
    name: `span ${i}`,
    kind: SpanKindCode.INTERNAL,
    start: i,
    attributes: { index: i },
    events: undefined,
    statusCode: StatusCode.UNSET,
    statusMessage: undefined,
  };
}

/**
 * An exporter that records batches (decoded as it is handed them, as a transport sends them) and
 * answers when told to (or at once), with success unless `code` says otherwise.
 */
function recordingExporter(answerAtOnce: boolean, code = 0) {
  const batches: SpanBatch[] = [];
  const sent: string[][] = [];
  const pending: ((result: ExportResult) => void)[] = [];
  let shutdowns = 0;
  let flushes = 0;
  return {
    get flushes() {
      return flushes;
    },
    batches,
    names: () => sent.flat(),
    answerAll: () => {
      for (const done of pending.splice(0)) done({ code });
    },
    /** Whether each batch exported so far still holds what it held when it was handed over. */
    intact: () =>
      batches.map((batch, i) => {
        try {
          const names = decodeTraceRequest(batch.request).map((s) => s.name);
          return JSON.stringify(names) === JSON.stringify(sent[i]);
        } catch {
          return false;
        }
      }),
    get inFlight() {
      return pending.length;
    },
    get shutdowns() {
      return shutdowns;
    },
    exporter: {
      export(batch: SpanBatch, done: (result: ExportResult) => void) {
        batches.push(batch);
        sent.push(decodeTraceRequest(batch.request).map((s) => s.name));
        if (answerAtOnce) done({ code });
        else pending.push(done);
      },
      forceFlush: async () => {
        flushes++;
      },
      shutdown: async () => {
        shutdowns++;
      },
    },
  };
}

const options = { maxExportBatchSize: 4, maxQueueSize: 10, scheduledDelayMs: 60_000 };

describe("SpanBatcher (batch span processing)", () => {
  test("a full batch is exported at once, in order, with its count", () => {
    const sink = recordingExporter(true);
    const batcher = new SpanBatcher(sink.exporter, envelope, new EpochClock(), options);
    for (let i = 0; i < 9; i++) batcher.add(span(i), i + 1);
    expect(sink.batches.map((batch) => batch.count)).toEqual([4, 4]);
    expect(sink.names()).toEqual([0, 1, 2, 3, 4, 5, 6, 7].map((i) => `span ${i}`));
    expect(batcher.pending).toBe(1);
  });

  test("one export at a time; the batch in flight does not count against the queue limit", () => {
    const sink = recordingExporter(false);
    const batcher = new SpanBatcher(sink.exporter, envelope, new EpochClock(), options);
    // 4 spans in flight, then exactly maxQueueSize (10) waiting: none dropped.
    for (let i = 0; i < 14; i++) batcher.add(span(i), i + 1);
    expect(sink.inFlight).toBe(1);
    expect(sink.batches.map((batch) => batch.count)).toEqual([4]);
    expect(batcher.pending).toBe(10);
    expect(batcher.dropped).toBe(0);
    // The queue is full: the next span is dropped and counted.
    batcher.add(span(14), 15);
    expect(batcher.dropped).toBe(1);

    // The first batch answered: the next one leaves the queue, which has room for 4 more again.
    sink.answerAll();
    expect(sink.batches.map((batch) => batch.count)).toEqual([4, 4]);
    expect(batcher.pending).toBe(6);
    for (let i = 15; i < 19; i++) batcher.add(span(i), i + 1);
    expect(batcher.dropped).toBe(1);
    batcher.add(span(19), 20);
    expect(batcher.dropped).toBe(2);

    // Every span that was not dropped goes out, in order (the last two wait for the delay).
    for (let round = 0; round < 3; round++) sink.answerAll();
    expect(sink.names()).toEqual(
      [...Array.from({ length: 14 }, (_, i) => i), 15, 16].map((i) => `span ${i}`),
    );
    expect(batcher.pending).toBe(2);
  });

  test("a collector as fast as the spans arrive: nothing dropped while fewer than the limit wait", () => {
    const sink = recordingExporter(false);
    const batcher = new SpanBatcher(sink.exporter, envelope, new EpochClock(), options);
    // Each round ends one batch while 2.5 batches (10 spans, the limit) keep waiting behind it.
    for (let i = 0; i < 14; i++) batcher.add(span(i), i + 1);
    for (let round = 0; round < 50; round++) {
      sink.answerAll();
      for (let i = 0; i < 4; i++) batcher.add(span(100 + round * 4 + i), 1);
      expect(batcher.pending).toBe(10);
    }
    expect(batcher.dropped).toBe(0);
  });

  test("a sent batch's buffer carries a later batch: no new 100 KB buffer per export", () => {
    const sink = recordingExporter(true);
    const batcher = new SpanBatcher(sink.exporter, envelope, new EpochClock(), options);
    for (let i = 0; i < 12; i++) batcher.add(span(i), i + 1);
    const [first, second, third] = sink.batches.map((batch) => batch.request);
    expect(third?.buffer).toBe(first?.buffer as ArrayBuffer);
    expect(second?.buffer).not.toBe(first?.buffer as ArrayBuffer);
    expect(decodeTraceRequest(third as Uint8Array).map((s) => s.name)).toEqual(
      [8, 9, 10, 11].map((i) => `span ${i}`),
    );
  });

  test("a batch in flight is never written over while later batches are sealed", () => {
    const sink = recordingExporter(false);
    const batcher = new SpanBatcher(sink.exporter, envelope, new EpochClock(), {
      ...options,
      maxQueueSize: 40,
    });
    for (let round = 0; round < 5; round++) {
      for (let i = 0; i < 12; i++) batcher.add(span(round * 12 + i), 1);
      // The batch in flight, checked before it is answered: later batches went elsewhere.
      expect(sink.intact().at(-1)).toBe(true);
      sink.answerAll();
    }
    expect(sink.batches.length).toBeGreaterThan(3);
  });

  test("a batch whose export failed keeps its bytes: only sent ones are reused", () => {
    const sink = recordingExporter(true, 1);
    const batcher = new SpanBatcher(sink.exporter, envelope, new EpochClock(), options);
    for (let i = 0; i < 24; i++) batcher.add(span(i), i + 1);
    expect(sink.batches).toHaveLength(6);
    expect(new Set(sink.batches.map((batch) => batch.request.buffer)).size).toBe(6);
    expect(sink.intact()).toEqual(Array(6).fill(true));
  });

  test("one timer for a partial batch, cleared when the batch fills first", () => {
    // The delay is a minute: the test never waits for it, it reads what was armed and cleared.
    const set = spyOn(globalThis, "setTimeout");
    const clear = spyOn(globalThis, "clearTimeout");
    try {
      const sink = recordingExporter(true);
      const batcher = new SpanBatcher(sink.exporter, envelope, new EpochClock(), options);
      for (let i = 0; i < 3; i++) batcher.add(span(i), i + 1);
      const armed = set.mock.calls.filter((call) => call[1] === 60_000);
      expect(armed).toHaveLength(1);
      batcher.add(span(3), 4);
      expect(sink.batches.map((batch) => batch.count)).toEqual([4]);
      expect(clear).toHaveBeenCalledWith(set.mock.results[set.mock.calls.indexOf(armed[0] as never)]?.value);
      // The next partial batch arms a timer of its own.
      batcher.add(span(4), 5);
      expect(set.mock.calls.filter((call) => call[1] === 60_000)).toHaveLength(2);
    } finally {
      set.mockRestore();
      clear.mockRestore();
    }
  });

  test("forceFlush with nothing in flight sends the partial batch, then flushes the exporter", async () => {
    const sink = recordingExporter(true);
    const batcher = new SpanBatcher(sink.exporter, envelope, new EpochClock(), options);
    batcher.add(span(0), 1);
    batcher.add(span(1), 2);
    await batcher.forceFlush();
    expect(sink.names()).toEqual(["span 0", "span 1"]);
    expect(sink.flushes).toBe(1);
    // Nothing held: the exporter is flushed all the same.
    await batcher.forceFlush();
    expect(sink.flushes).toBe(2);
    expect(sink.batches).toHaveLength(1);
  });

  test("the serializer hands the encoded request over as it is, and reads answers with the given reader", () => {
    const read = (data: Uint8Array) => ({ read: data.length });
    const serializer = spanBatchSerializer(read);
    const batch = { request: new Uint8Array([1, 2, 3]), count: 1 };
    expect(serializer.serializeRequest(batch)).toBe(batch.request);
    expect(serializer.deserializeResponse(new Uint8Array(5))).toEqual({ read: 5 });
  });

  test("a partial batch is sent after the scheduled delay", async () => {
    const sink = recordingExporter(true);
    const batcher = new SpanBatcher(sink.exporter, envelope, new EpochClock(), {
      ...options,
      scheduledDelayMs: 20,
    });
    batcher.add(span(1), 2);
    expect(sink.batches).toHaveLength(0);
    await waitFor(() => sink.batches.length > 0, "the scheduled export");
    expect(sink.names()).toEqual(["span 1"]);
    expect(batcher.pending).toBe(0);
  });

  test("forceFlush sends what is held and waits for exports in flight; shutdown then stops", async () => {
    const sink = recordingExporter(false);
    const batcher = new SpanBatcher(sink.exporter, envelope, new EpochClock(), options);
    for (let i = 0; i < 6; i++) batcher.add(span(i), i + 1);
    let flushed = false;
    const flush = batcher.forceFlush().then(() => {
      flushed = true;
    });
    // Only the flush resolving could change this; a timer turn lets it, were it wrongly done already.
    await Bun.sleep(5);
    expect(flushed).toBe(false);
    sink.answerAll();
    await waitFor(() => sink.inFlight === 1, "the held spans to go out once the first batch is answered");
    expect(flushed).toBe(false);
    sink.answerAll();
    await flush;
    expect(sink.batches.map((batch) => batch.count)).toEqual([4, 2]);
    expect(sink.flushes).toBe(1);

    const stopping = batcher.shutdown();
    await stopping;
    expect(sink.shutdowns).toBe(1);
    batcher.add(span(50), 51);
    expect(batcher.pending).toBe(0);
  });
});
