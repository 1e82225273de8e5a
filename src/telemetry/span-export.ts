import type { ExportResult } from "./export-stats.ts";
import { SpanColumns } from "./span-columns.ts";
import {
  type EpochClock,
  type ExportEnvelope,
  type FinishedSpan,
  TraceRequestWriter,
} from "./span-encoding.ts";

/** A batch ready to export: an encoded ExportTraceServiceRequest, and how many spans it holds. */
export interface SpanBatch {
  readonly request: Uint8Array;
  readonly count: number;
}

/** The part of OpenTelemetry's OTLPExporterBase the batcher uses. */
export interface BatchExporter {
  export(batch: SpanBatch, done: (result: ExportResult) => void): void;
  forceFlush(): Promise<void>;
  shutdown(): Promise<void>;
}

export interface BatchOptions {
  /** OTEL_BSP_MAX_EXPORT_BATCH_SIZE: spans per export request. */
  readonly maxExportBatchSize: number;
  /** OTEL_BSP_MAX_QUEUE_SIZE: spans held before new ones are dropped. */
  readonly maxQueueSize: number;
  /** How long a partial batch waits before it is sent (the SDK's OTEL_BSP_SCHEDULE_DELAY default, 5 s). */
  readonly scheduledDelayMs: number;
}

/**
 * Batch span processing with the semantics of the SDK's BatchSpanProcessor: batches of
 * OTEL_BSP_MAX_EXPORT_BATCH_SIZE, at most OTEL_BSP_MAX_QUEUE_SIZE spans waiting besides the batch in
 * flight (later ones are dropped and counted), a partial batch sent after the scheduled delay, one export in flight, and
 * flush on demand and at shutdown.
 *
 * A span's data is copied into columns when it ends (SpanColumns) and the batch is encoded when it is
 * sealed, all in one loop: measured in the running service, encoding in a batch costs half as much
 * per span as encoding each span between requests (docs/testing.md, "Telemetry overhead").
 */
export class SpanBatcher {
  private readonly writer: TraceRequestWriter;
  private readonly current: SpanColumns;
  private readonly ready: SpanBatch[] = [];
  private queued = 0;
  private exporting = false;
  private timer: ReturnType<typeof setTimeout> | undefined;
  private readonly idleWaiters: (() => void)[] = [];
  private stopped = false;
  /** Spans dropped because the queue was full (the collector slower than the request rate). */
  dropped = 0;

  constructor(
    private readonly exporter: BatchExporter,
    envelope: ExportEnvelope,
    private readonly clock: EpochClock,
    private readonly options: BatchOptions,
  ) {
    this.current = new SpanColumns(options.maxExportBatchSize);
    this.writer = new TraceRequestWriter(envelope);
  }

  /** Called when a sampled span ends; `end` is a performance.now() reading. */
  add(span: FinishedSpan, end: number): void {
    if (this.stopped) return;
    if (this.queued >= this.options.maxQueueSize) {
      this.dropped++;
      return;
    }
    this.current.add(span, end);
    this.queued++;
    if (this.current.count >= this.options.maxExportBatchSize) {
      this.seal();
      this.exportNext();
    } else if (this.timer === undefined) {
      this.timer = setTimeout(() => {
        this.timer = undefined;
        this.seal();
        this.exportNext();
      }, this.options.scheduledDelayMs);
      // Stryker disable next-line OptionalChaining: Bun's timers have unref; the ?. is for runtimes whose timers are numbers.
      this.timer.unref?.();
    }
  }

  /**
   * Spans waiting to be exported: held or sealed, not the batch in flight. This is what the SDK's
   * BatchSpanProcessor counts against OTEL_BSP_MAX_QUEUE_SIZE; counting the batch being sent too
   * dropped spans under load while the queue held fewer than the limit.
   */
  get pending(): number {
    return this.queued;
  }

  private seal(): void {
    // clearTimeout(undefined) does nothing: no timer, nothing to clear.
    clearTimeout(this.timer);
    this.timer = undefined;
    const count = this.current.count;
    if (count === 0) return;
    this.current.encodeInto(this.writer.spans, this.clock);
    this.ready.push({ request: this.writer.finish(), count });
  }

  private exportNext(): void {
    if (this.exporting) return;
    const batch = this.ready.shift();
    if (!batch) {
      for (const wake of this.idleWaiters.splice(0)) wake();
      return;
    }
    this.exporting = true;
    this.queued -= batch.count;
    this.exporter.export(batch, (result) => {
      // A failed batch is gone, as with the SDK's processor; the exporter has retried what it could.
      // Only a sent one's buffer is reused: after a timeout, the transport may still be reading it.
      if (result.code === 0) this.writer.recycle(batch.request);
      this.exporting = false;
      this.exportNext();
    });
  }

  /** Exports everything held now; resolves when it has been sent (or has failed). */
  forceFlush(): Promise<void> {
    this.seal();
    // With nothing to send, exportNext wakes the waiter at once.
    const idle = new Promise<void>((resolve) => this.idleWaiters.push(resolve));
    this.exportNext();
    return idle.then(() => this.exporter.forceFlush());
  }

  async shutdown(): Promise<void> {
    await this.forceFlush();
    this.stopped = true;
    await this.exporter.shutdown();
  }
}

/** The batch's request as it is, for OpenTelemetry's HTTP export delegate. */
export function spanBatchSerializer(deserializeResponse: (data: Uint8Array) => unknown) {
  return {
    serializeRequest: (batch: SpanBatch) => batch.request,
    deserializeResponse,
  };
}
