/**
 * OTLP protobuf encoding of the service's own spans (opentelemetry/proto/trace/v1/trace.proto).
 *
 * A finished span is copied into columns (`SpanColumns`: ids as bytes, times as numbers, attributes as
 * flat lists) and its batch is encoded in one loop when it is full, into a request whose envelope
 * (resource, instrumentation scope) `TraceRequestWriter` writes in front of the spans. The SDK's span
 * objects and its serializer cost more than the rest of a cached request (docs/testing.md).
 */

/** An array attribute, as the OpenTelemetry API allows them: primitives, with holes. */
export type ArrayAttribute = readonly (string | number | boolean | null | undefined)[];
export type AttributeValue = string | number | boolean | ArrayAttribute;
export type SpanAttributes = Record<string, AttributeValue>;

/**
 * A value the API may hand over (its type is `unknown`) as something OTLP can carry here, or
 * undefined: like the SDK's spans, anything but primitives and arrays of them is left out.
 */
export function attributeValue(value: unknown): AttributeValue | undefined {
  const type = typeof value;
  if (type === "string" || type === "number" || type === "boolean") return value as AttributeValue;
  if (!Array.isArray(value)) return undefined;
  const primitive = (item: unknown) =>
    item === null || item === undefined || ["string", "number", "boolean"].includes(typeof item);
  return value.every(primitive) ? (value as ArrayAttribute) : undefined;
}

/** OTLP Span.SpanKind. */
export const SpanKindCode = { INTERNAL: 1, SERVER: 2, CLIENT: 3 } as const;
/** OTLP Status.StatusCode. */
export const StatusCode = { UNSET: 0, OK: 1, ERROR: 2 } as const;

export interface SpanEvent {
  readonly name: string;
  /** Milliseconds on the `performance.now()` clock. */
  readonly time: number;
  readonly attributes: SpanAttributes;
}

/**
 * What a finished span hands to the encoder. Ids are 32-bit words, most significant first (trace id
 * t0..t3, span id s0 s1, parent span id p0 p1 when `hasParent`). Times are milliseconds on the
 * `performance.now()` clock.
 */
export interface FinishedSpan {
  readonly t0: number;
  readonly t1: number;
  readonly t2: number;
  readonly t3: number;
  readonly s0: number;
  readonly s1: number;
  readonly p0: number;
  readonly p1: number;
  readonly hasParent: boolean;
  readonly traceState: string | undefined;
  /** Whether the parent came from another process (W3C traceparent); false for a root span. */
  readonly parentIsRemote: boolean;
  readonly name: string;
  readonly kind: number;
  readonly start: number;
  readonly attributes: SpanAttributes;
  readonly events: readonly SpanEvent[] | undefined;
  readonly statusCode: number;
  readonly statusMessage: string | undefined;
}

import { ProtoWriter, varintSize, WIRE_LEN, WIRE_VARINT } from "./proto-writer.ts";

const TWO_32 = 2 ** 32;

/**
 * Converts `performance.now()` milliseconds to Unix-epoch nanoseconds as the two 32-bit halves of a
 * fixed64, without BigInt and without losing precision (epoch nanoseconds exceed 2^53).
 */
export class EpochClock {
  private readonly originLow: number;
  private readonly originHigh: number;

  constructor(timeOriginMs = performance.timeOrigin) {
    const wholeMs = Math.floor(timeOriginMs);
    const subNs = Math.round((timeOriginMs - wholeMs) * 1e6);
    // wholeMs * 1e6 + subNs, split as high * 2^32 + low; wholeMs < 2^42, so split it first.
    const msHigh = Math.floor(wholeMs / 2 ** 21);
    const msLow = wholeMs % 2 ** 21;
    const lowPart = msLow * 1e6 + subNs; // < 2^41
    const highPart = msHigh * 1e6; // multiplied by 2^21 below
    // value = highPart * 2^21 + lowPart
    const highPartLow11 = highPart % 2 ** 11;
    const total = highPartLow11 * 2 ** 21 + lowPart; // < 2^42, exact
    this.originLow = total % TWO_32;
    this.originHigh = Math.floor(highPart / 2 ** 11) + Math.floor(total / TWO_32);
  }

  /** Writes the epoch time of `nowMs` (a performance.now() reading) as a fixed64 field. */
  write(writer: ProtoWriter, field: number, nowMs: number): void {
    const ns = Math.round(nowMs * 1e6); // exact for the first 104 days of uptime, then to a few ns
    const sumLow = this.originLow + (ns % TWO_32);
    const low = sumLow % TWO_32;
    const high = this.originHigh + Math.floor(ns / TWO_32) + Math.floor(sumLow / TWO_32);
    writer.fixed64(field, low, high);
  }
}

function writeAnyValue(writer: ProtoWriter, field: number, value: AttributeValue | null | undefined): void {
  const mark = writer.beginMessage(field);
  if (typeof value === "string") writer.string(1, value);
  else if (typeof value === "boolean") {
    writer.tag(2, WIRE_VARINT);
    writer.varint(value ? 1 : 0);
  } else if (typeof value === "number") {
    if (Number.isSafeInteger(value)) {
      writer.tag(3, WIRE_VARINT);
      writer.varint(value);
    } else writer.double(4, value);
  } else if (value) {
    // AnyValue.array_value (ArrayValue.values); a hole (null, undefined) stays as an empty AnyValue.
    const array = writer.beginMessage(5);
    for (const item of value) writeAnyValue(writer, 1, item);
    writer.endMessage(array);
  }
  writer.endMessage(mark);
}

/** Attribute values OTLP can carry: undefined (never set) and NaN are left out. */
export function recordable(value: AttributeValue | undefined): value is AttributeValue {
  // Number.isNaN is false for anything but the number NaN.
  return value !== undefined && !Number.isNaN(value);
}

/** KeyValue list entries under `field`. */
export function writeAttributes(writer: ProtoWriter, field: number, attributes: SpanAttributes): void {
  for (const key in attributes) {
    const value = attributes[key];
    if (recordable(value)) writeKeyValue(writer, field, key, value);
  }
}

export function writeKeyValue(writer: ProtoWriter, field: number, key: string, value: AttributeValue): void {
  const mark = writer.beginMessage(field);
  writer.string(1, key);
  writeAnyValue(writer, 2, value);
  writer.endMessage(mark);
}

/** The parts of an export request that are the same for every batch, encoded once. */
export interface ExportEnvelope {
  /** `ResourceSpans.resource` (field 1), tag included. */
  readonly resource: Uint8Array;
  /** `ScopeSpans.scope` (field 1), tag included. */
  readonly scope: Uint8Array;
}

export function encodeEnvelope(
  resourceAttributes: SpanAttributes,
  scope: { name: string; version: string },
): ExportEnvelope {
  const writer = new ProtoWriter(1024);
  const resourceMark = writer.beginMessage(1);
  writeAttributes(writer, 1, resourceAttributes);
  writer.endMessage(resourceMark);
  const resource = writer.take();
  const scopeMark = writer.beginMessage(1);
  writer.string(1, scope.name);
  writer.string(2, scope.version);
  writer.endMessage(scopeMark);
  return { resource, scope: writer.take() };
}

/**
 * Builds ExportTraceServiceRequests in place: spans are encoded after room kept for the envelope (one
 * ResourceSpans holding one ScopeSpans), which `finish` fills in front of them, so a request is never
 * copied.
 */
export class TraceRequestWriter {
  /** Where the spans go: ScopeSpans.spans entries. */
  readonly spans: ProtoWriter;
  private readonly reserved: number;

  constructor(
    private readonly envelope: ExportEnvelope,
    // Stryker disable next-line ArithmeticOperator: only the first buffer's size; the writer grows to what a batch needs.
    initialSize = 64 * 1024,
  ) {
    // Two tags and two lengths of at most five bytes around the resource and scope.
    this.reserved = envelope.resource.length + envelope.scope.length + 12;
    this.spans = new ProtoWriter(Math.max(initialSize, this.reserved * 2));
    this.spans.pos = this.reserved;
  }

  /** The request holding every span written since the last one. */
  finish(): Uint8Array {
    const { resource, scope } = this.envelope;
    const spansLength = this.spans.pos - this.reserved;
    const scopeSpansLength = scope.length + spansLength;
    const resourceSpansLength = resource.length + 1 + varintSize(scopeSpansLength) + scopeSpansLength;
    const envelopeLength =
      1 + varintSize(resourceSpansLength) + resource.length + 1 + varintSize(scopeSpansLength) + scope.length;
    const start = this.reserved - envelopeLength;
    const writer = this.spans;
    let at = start;
    at = writer.varintAt(at, 1 * 8 + WIRE_LEN); // ExportTraceServiceRequest.resource_spans
    at = writer.varintAt(at, resourceSpansLength);
    at = writer.writeAt(at, resource);
    at = writer.varintAt(at, 2 * 8 + WIRE_LEN); // ResourceSpans.scope_spans
    at = writer.varintAt(at, scopeSpansLength);
    writer.writeAt(at, scope);
    const request = writer.detach(start);
    writer.pos = this.reserved;
    return request;
  }

  /** Gives a request `finish` returned back for reuse, once its export is over. */
  recycle(request: Uint8Array): void {
    this.spans.recycle(request);
  }
}
