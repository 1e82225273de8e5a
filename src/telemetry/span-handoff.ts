import type { Attributes, HrTime, Link, SpanContext, SpanKind, SpanStatus } from "@opentelemetry/api";
import type { InstrumentationScope } from "@opentelemetry/core";
import type { Resource } from "@opentelemetry/resources";
import type { ReadableSpan, SpanProcessor, TimedEvent } from "@opentelemetry/sdk-trace";

/**
 * Finished spans cross from the request thread to the export worker (src/telemetry/export-worker.ts)
 * in batches of two parts: every number in a Float64Array whose buffer is transferred, not copied, and
 * every string appended to one string, its length among the numbers. Structured cloning or
 * JSON-encoding span objects costs about 2 µs a span in Bun, this about a tenth of that. The worker
 * reads the spans back into ReadableSpan objects and hands them to the SDK's own BatchSpanProcessor
 * and OTLP exporter: this file only moves data, it never formats OTLP itself.
 */

/** What the export worker is started with. */
export interface ExportWorkerSettings {
  readonly url: string;
  readonly timeoutMillis: number;
  readonly maxExportBatchSize: number;
  readonly maxQueueSize: number;
  readonly resourceAttributes: Attributes;
}

/** Messages from the request thread to the export worker. */
export type ToWorker =
  | { type: "init"; settings: ExportWorkerSettings }
  | { type: "spans"; count: number; numbers: Float64Array; text: string; newScopes: InstrumentationScope[] }
  | { type: "flush"; id: number }
  | { type: "shutdown"; id: number };

/** Messages from the export worker to the request thread. */
export type FromWorker =
  | { type: "ready" }
  | { type: "accepted"; count: number }
  | { type: "exported"; ok: boolean; items: number; durationMs: number; error?: string }
  | { type: "done"; id: number }
  | { type: "error"; message: string };

enum ValueTag {
  String = 0,
  Number = 1,
  Boolean = 2,
  /** Arrays (and anything else the SDK accepted) travel as JSON. */
  Json = 3,
  Undefined = 4,
}

/** Appends spans to a batch. */
export class SpanBatchWriter {
  private numbers: Float64Array;
  private used = 0;
  private parts: string[] = [];
  count = 0;

  constructor(private readonly initialCapacity = 4096) {
    this.numbers = new Float64Array(initialCapacity);
  }

  write(span: ReadableSpan, scopeIndex: number): void {
    const context = span.spanContext();
    const parent = span.parentSpanContext;
    this.string(context.traceId);
    this.string(context.spanId);
    this.number(context.traceFlags);
    this.string(context.traceState?.serialize());
    this.string(parent?.spanId);
    this.number(parent?.isRemote ? 1 : 0);
    this.string(span.name);
    this.number(span.kind);
    this.number(span.startTime[0]);
    this.number(span.startTime[1]);
    this.number(span.endTime[0]);
    this.number(span.endTime[1]);
    this.number(span.status.code);
    this.string(span.status.message);
    this.attributes(span.attributes);
    this.number(span.droppedAttributesCount);
    this.number(span.events.length);
    for (const event of span.events) {
      this.string(event.name);
      this.number(event.time[0]);
      this.number(event.time[1]);
      this.attributes(event.attributes);
      this.number(event.droppedAttributesCount ?? 0);
    }
    this.number(span.droppedEventsCount);
    this.number(span.links.length);
    for (const link of span.links) {
      this.string(link.context.traceId);
      this.string(link.context.spanId);
      this.number(link.context.traceFlags);
      this.string(link.context.traceState?.serialize());
      this.number(link.context.isRemote ? 1 : 0);
      this.attributes(link.attributes);
      this.number(link.droppedAttributesCount ?? 0);
    }
    this.number(span.droppedLinksCount);
    this.number(scopeIndex);
    this.count++;
  }

  /** The batch so far, leaving the writer empty; `numbers` is a fresh buffer that may be transferred. */
  take(): { count: number; numbers: Float64Array; text: string } {
    const batch = {
      count: this.count,
      numbers: this.numbers.subarray(0, this.used),
      text: this.parts.join(""),
    };
    // The buffer is transferred with the batch: the next batch writes into a new one of the same size.
    this.numbers = new Float64Array(this.numbers.length);
    this.used = 0;
    this.parts = [];
    this.count = 0;
    return batch;
  }

  private number(value: number): void {
    if (this.used === this.numbers.length) {
      const grown = new Float64Array(Math.max(this.initialCapacity, this.numbers.length * 2));
      grown.set(this.numbers);
      this.numbers = grown;
    }
    this.numbers[this.used++] = value;
  }

  private string(value: string | undefined): void {
    if (value === undefined) {
      this.number(-1);
      return;
    }
    this.number(value.length);
    this.parts.push(value);
  }

  private attributes(attributes: Attributes | undefined): void {
    if (attributes === undefined) {
      this.number(-1);
      return;
    }
    let count = 0;
    for (const key in attributes) if (Object.hasOwn(attributes, key)) count++;
    this.number(count);
    for (const key in attributes) {
      if (!Object.hasOwn(attributes, key)) continue;
      this.string(key);
      const value = attributes[key];
      switch (typeof value) {
        case "string":
          this.number(ValueTag.String);
          this.string(value);
          break;
        case "number":
          this.number(ValueTag.Number);
          this.number(value);
          break;
        case "boolean":
          this.number(ValueTag.Boolean);
          this.number(value ? 1 : 0);
          break;
        case "undefined":
          this.number(ValueTag.Undefined);
          break;
        default:
          this.number(ValueTag.Json);
          this.string(JSON.stringify(value));
      }
    }
  }
}

/** What a worker needs to rebuild spans: the resource, the scopes, and a TraceState parser. */
export interface DecodeContext {
  readonly resource: Resource;
  readonly scopes: readonly InstrumentationScope[];
  readonly parseTraceState: (serialized: string) => NonNullable<SpanContext["traceState"]>;
}

/** Instrumentation scopes are few and fixed: each is sent once, then referred to by its index. */
interface ScopeTable {
  readonly scopes: InstrumentationScope[];
  readonly index: Map<InstrumentationScope, number>;
}

/** Reads back what SpanBatchWriter wrote. */
export function readSpans(
  batch: { count: number; numbers: Float64Array; text: string },
  context: DecodeContext,
): ReadableSpan[] {
  const reader = new SpanBatchReader(batch.numbers, batch.text, context);
  const spans: ReadableSpan[] = [];
  for (let n = 0; n < batch.count; n++) spans.push(reader.span());
  return spans;
}

class SpanBatchReader {
  private at = 0;
  private textAt = 0;

  constructor(
    private readonly numbers: Float64Array,
    private readonly text: string,
    private readonly context: DecodeContext,
  ) {}

  span(): ReadableSpan {
    const traceId = this.string() as string;
    const spanContext: SpanContext = { traceId, spanId: this.string() as string, traceFlags: this.number() };
    const traceState = this.traceState();
    if (traceState) spanContext.traceState = traceState;
    const parentSpanId = this.string();
    const parentIsRemote = this.number() === 1;
    const parentSpanContext: SpanContext | undefined = parentSpanId
      ? { traceId, spanId: parentSpanId, traceFlags: spanContext.traceFlags, isRemote: parentIsRemote }
      : undefined;
    const name = this.string() as string;
    const kind = this.number() as SpanKind;
    const startTime: HrTime = [this.number(), this.number()];
    const endTime: HrTime = [this.number(), this.number()];
    const status: SpanStatus = { code: this.number() };
    const message = this.string();
    if (message !== undefined) status.message = message;
    const attributes = this.attributes() ?? {};
    const droppedAttributesCount = this.number();
    const events: TimedEvent[] = [];
    for (let count = this.number(), i = 0; i < count; i++) {
      const eventName = this.string() as string;
      const time: HrTime = [this.number(), this.number()];
      events.push({
        name: eventName,
        time,
        attributes: this.attributes(),
        droppedAttributesCount: this.number(),
      });
    }
    const droppedEventsCount = this.number();
    const links: Link[] = [];
    for (let count = this.number(), i = 0; i < count; i++) {
      const linkContext: SpanContext = {
        traceId: this.string() as string,
        spanId: this.string() as string,
        traceFlags: this.number(),
      };
      const linkTraceState = this.traceState();
      if (linkTraceState) linkContext.traceState = linkTraceState;
      linkContext.isRemote = this.number() === 1;
      links.push({
        context: linkContext,
        attributes: this.attributes(),
        droppedAttributesCount: this.number(),
      });
    }
    const droppedLinksCount = this.number();
    const scope = this.context.scopes[this.number()] ?? { name: "unknown" };
    return {
      name,
      kind,
      spanContext: () => spanContext,
      parentSpanContext,
      startTime,
      endTime,
      duration: durationOf(startTime, endTime),
      status,
      attributes,
      droppedAttributesCount,
      events,
      droppedEventsCount,
      links,
      droppedLinksCount,
      ended: true,
      resource: this.context.resource,
      instrumentationScope: scope,
    };
  }

  private number(): number {
    return this.numbers[this.at++] as number;
  }

  private string(): string | undefined {
    const length = this.number();
    if (length < 0) return undefined;
    const value = this.text.slice(this.textAt, this.textAt + length);
    this.textAt += length;
    return value;
  }

  private traceState() {
    const serialized = this.string();
    return serialized ? this.context.parseTraceState(serialized) : undefined;
  }

  private attributes(): Attributes | undefined {
    const count = this.number();
    if (count < 0) return undefined;
    const result: Attributes = {};
    for (let i = 0; i < count; i++) {
      const key = this.string() as string;
      const tag = this.number() as ValueTag;
      if (tag === ValueTag.String) result[key] = this.string();
      else if (tag === ValueTag.Number) result[key] = this.number();
      else if (tag === ValueTag.Boolean) result[key] = this.number() === 1;
      else if (tag === ValueTag.Json) result[key] = JSON.parse(this.string() as string);
      else result[key] = undefined;
    }
    return result;
  }
}

function durationOf(start: HrTime, end: HrTime): HrTime {
  let seconds = end[0] - start[0];
  let nanos = end[1] - start[1];
  if (nanos < 0) {
    seconds -= 1;
    nanos += 1e9;
  }
  return [seconds, nanos];
}

/** The part of a Worker (or a test double) the processor talks to. */
export interface WorkerPort {
  postMessage(message: ToWorker, transfer: Bun.Transferable[]): void;
}

export interface HandoffOptions {
  /** Spans sent per message; the worker's BatchSpanProcessor batches exports on its own. */
  readonly batchSize: number;
  /** Spans handed over but not yet taken by the worker, beyond which new spans are dropped. */
  readonly maxQueueSize: number;
  /** A partial batch waits at most this long before it is handed over. */
  readonly delayMs: number;
}

/**
 * A SpanProcessor for the request thread: sampled spans are copied into slots and posted to the export
 * worker in batches. The only work left on the request path is the copy. Spans the worker has not
 * taken yet count against `maxQueueSize`; beyond it spans are dropped and counted, like the SDK's
 * BatchSpanProcessor does when its queue is full, so a stalled worker cannot grow memory without bound.
 */
export class WorkerSpanProcessor implements SpanProcessor {
  private readonly batch = new SpanBatchWriter();
  private outstanding = 0;
  private timer: ReturnType<typeof setTimeout> | undefined;
  private readonly scopes: ScopeTable = { scopes: [], index: new Map() };
  private newScopes: InstrumentationScope[] = [];
  private nextRequest = 1;
  private readonly waiting = new Map<number, () => void>();
  private closed = false;
  /** Spans dropped because the worker fell behind. */
  dropped = 0;

  constructor(
    private readonly port: WorkerPort,
    private readonly options: HandoffOptions,
  ) {}

  onStart(): void {}

  onEnd(span: ReadableSpan): void {
    if (this.closed || (span.spanContext().traceFlags & 1) === 0) return;
    if (this.outstanding + this.batch.count >= this.options.maxQueueSize) {
      this.dropped++;
      return;
    }
    this.batch.write(span, this.scopeIndexOf(span.instrumentationScope));
    if (this.batch.count >= this.options.batchSize) this.send();
    else this.timer ??= setTimeout(() => this.send(), this.options.delayMs).unref();
  }

  /** Called with every message from the worker. */
  receive(message: FromWorker): void {
    if (message.type === "accepted") this.outstanding = Math.max(0, this.outstanding - message.count);
    else if (message.type === "done") {
      this.waiting.get(message.id)?.();
      this.waiting.delete(message.id);
    }
  }

  forceFlush(): Promise<void> {
    this.send();
    return this.request("flush");
  }

  async shutdown(): Promise<void> {
    if (this.closed) return;
    this.send();
    this.closed = true;
    await this.request("shutdown");
  }

  /** Settles every pending flush or shutdown, for when the worker is gone. */
  abandon(): void {
    for (const resolve of this.waiting.values()) resolve();
    this.waiting.clear();
  }

  private request(type: "flush" | "shutdown"): Promise<void> {
    const id = this.nextRequest++;
    return new Promise((resolve) => {
      this.waiting.set(id, resolve);
      this.port.postMessage({ type, id }, []);
    });
  }

  private send(): void {
    if (this.timer) {
      clearTimeout(this.timer);
      this.timer = undefined;
    }
    if (this.batch.count === 0) return;
    const batch = this.batch.take();
    this.port.postMessage({ type: "spans", ...batch, newScopes: this.newScopes }, [
      batch.numbers.buffer as ArrayBuffer,
    ]);
    this.outstanding += batch.count;
    if (this.newScopes.length > 0) this.newScopes = [];
  }

  private scopeIndexOf(scope: InstrumentationScope): number {
    let index = this.scopes.index.get(scope);
    if (index === undefined) {
      index = this.scopes.scopes.length;
      this.scopes.scopes.push(scope);
      this.scopes.index.set(scope, index);
      this.newScopes.push({ name: scope.name, version: scope.version, schemaUrl: scope.schemaUrl });
    }
    return index;
  }
}
