import type {
  Span as ApiSpan,
  SpanAttributes as ApiSpanAttributes,
  SpanContext as ApiSpanContext,
  Context,
  Exception,
  SpanStatus,
  TimeInput,
} from "@opentelemetry/api";
import { createTraceState, TraceFlags } from "@opentelemetry/api";
import {
  attributeValue,
  type FinishedSpan,
  type SpanAttributes,
  type SpanEvent,
  StatusCode,
} from "./span-encoding.ts";
import { randomWord, type SpanContext, wordsToHex } from "./trace-context.ts";

/** What a span holds while code runs inside it: the service's own span, or a library's context. */
export type ActiveStore = LiveSpan | Context;

/** Where sampled spans go when they end (the OTLP batcher). */
export interface SpanSink {
  add(span: FinishedSpan, end: number): void;
}

/** The trace a span belongs to: its id as words, the caller's tracestate, the sampling decision. */
export interface TraceOf {
  readonly t0: number;
  readonly t1: number;
  readonly t2: number;
  readonly t3: number;
  readonly traceState: string | undefined;
  readonly sampled: boolean;
}

/** A time as the OpenTelemetry API gives it (epoch based), on the `performance.now()` clock. */
export function performanceTime(time: TimeInput): number {
  if (typeof time === "number") return time < performance.timeOrigin ? time : time - performance.timeOrigin;
  if (time instanceof Date) return time.getTime() - performance.timeOrigin;
  return time[0] * 1e3 + time[1] / 1e6 - performance.timeOrigin;
}

/** The API lets an exception be a string or an object with a name, a message or a code. */
/** What the encoder can carry of attributes given through the API (see attributeValue). */
export function recordedAttributes(given: ApiSpanAttributes): SpanAttributes {
  const attributes: SpanAttributes = {};
  for (const key in given) {
    const value = attributeValue(given[key]);
    if (value !== undefined) attributes[key] = value;
  }
  return attributes;
}

function exceptionEvent(error: unknown, time: number): { event: SpanEvent; message: string } {
  const err: { name?: unknown; message?: unknown; stack?: unknown } =
    typeof error === "object" && error !== null ? error : new Error(String(error));
  const message = String(err.message ?? "");
  const attributes: SpanAttributes = {
    "exception.type": String(err.name ?? "Error"),
    "exception.message": message,
  };
  if (typeof err.stack === "string" && err.stack) attributes["exception.stacktrace"] = err.stack;
  return { event: { name: "exception", time, attributes }, message };
}

/**
 * One span, for the service's own tracing and for libraries through the OpenTelemetry API (it is an
 * API `Span`). A span that is not sampled still has ids (they travel to Kong and into logs) but
 * records nothing. Ids are 32-bit words; their hex form is built only when asked for. Links are not
 * recorded: the encoder has no place for them, and no code the service runs sets any.
 */
export class LiveSpan implements FinishedSpan, SpanContext, TraceOf, ApiSpan {
  readonly t0: number;
  readonly t1: number;
  readonly t2: number;
  readonly t3: number;
  readonly s0 = randomWord();
  readonly s1 = randomWord() || 1;
  readonly traceState: string | undefined;
  readonly sampled: boolean;
  start = performance.now();
  events: SpanEvent[] | undefined;
  statusCode: number = StatusCode.UNSET;
  statusMessage: string | undefined;
  private ended = false;

  constructor(
    private readonly sink: SpanSink,
    trace: TraceOf,
    readonly hasParent: boolean,
    readonly p0: number,
    readonly p1: number,
    readonly parentIsRemote: boolean,
    public name: string,
    readonly kind: number,
    readonly attributes: SpanAttributes,
  ) {
    this.t0 = trace.t0;
    this.t1 = trace.t1;
    this.t2 = trace.t2;
    this.t3 = trace.t3;
    this.traceState = trace.traceState;
    this.sampled = trace.sampled;
  }

  get traceId(): string {
    return wordsToHex(this.t0, this.t1, this.t2, this.t3);
  }

  get spanId(): string {
    return wordsToHex(this.s0, this.s1);
  }

  get parentSpanId(): string | undefined {
    return this.hasParent ? wordsToHex(this.p0, this.p1) : undefined;
  }

  child(name: string, kind: number, attributes: SpanAttributes): LiveSpan {
    return new LiveSpan(this.sink, this, true, this.s0, this.s1, false, name, kind, attributes);
  }

  spanContext(): ApiSpanContext {
    return {
      traceId: this.traceId,
      spanId: this.spanId,
      traceFlags: this.sampled ? TraceFlags.SAMPLED : TraceFlags.NONE,
      isRemote: false,
      ...(this.traceState ? { traceState: createTraceState(this.traceState) } : {}),
    };
  }

  isRecording(): boolean {
    return this.sampled && !this.ended;
  }

  setAttribute(key: string, value: unknown): this {
    if (!this.sampled || this.ended) return this;
    const recorded = attributeValue(value);
    if (recorded !== undefined) this.attributes[key] = recorded;
    return this;
  }

  setAttributes(attributes: ApiSpanAttributes): this {
    for (const key in attributes) this.setAttribute(key, attributes[key]);
    return this;
  }

  addEvent(name: string, attributesOrTime?: ApiSpanAttributes | TimeInput, time?: TimeInput): this {
    if (!this.isRecording()) return this;
    // The second argument is a time (a number, an HrTime pair, a Date) or the attributes.
    const isTime =
      typeof attributesOrTime === "number" ||
      Array.isArray(attributesOrTime) ||
      attributesOrTime instanceof Date;
    const at = isTime ? (attributesOrTime as TimeInput) : time;
    const attributes =
      !isTime && attributesOrTime ? recordedAttributes(attributesOrTime as ApiSpanAttributes) : {};
    this.pushEvent({ name, time: at === undefined ? performance.now() : performanceTime(at), attributes });
    return this;
  }

  addLink(): this {
    return this;
  }

  addLinks(): this {
    return this;
  }

  setStatus(status: SpanStatus): this {
    if (!this.isRecording()) return this;
    this.statusCode = status.code;
    this.statusMessage = status.code === StatusCode.ERROR ? status.message : undefined;
    return this;
  }

  updateName(name: string): this {
    if (!this.ended) this.name = name;
    return this;
  }

  recordException(exception: Exception, time?: TimeInput): void {
    if (!this.isRecording()) return;
    this.pushEvent(
      exceptionEvent(exception, time === undefined ? performance.now() : performanceTime(time)).event,
    );
  }

  /** An `exception` event (OpenTelemetry semantic conventions) and an error status. */
  fail(error: unknown): void {
    if (!this.isRecording()) return;
    const { event, message } = exceptionEvent(error, performance.now());
    this.pushEvent(event);
    this.statusCode = StatusCode.ERROR;
    this.statusMessage = message;
  }

  end(endTime?: TimeInput): void {
    if (this.ended) return;
    this.ended = true;
    if (this.sampled)
      this.sink.add(this, endTime === undefined ? performance.now() : performanceTime(endTime));
  }

  private pushEvent(event: SpanEvent): void {
    if (this.events) this.events.push(event);
    else this.events = [event];
  }
}
