/**
 * OTLP protobuf encoding of the service's own spans (opentelemetry/proto/trace/v1/trace.proto).
 *
 * A span is encoded once, when it ends, straight into the bytes of the batch it will be exported in:
 * nothing of it stays on the heap until export. That is what keeps 100 %-sampled tracing cheap; the
 * SDK's span objects and its serializer cost more than the rest of a cached request (docs/testing.md).
 * The envelope (resource, instrumentation scope) is added once per batch by `encodeExportRequest`.
 */

export type AttributeValue = string | number | boolean;
export type SpanAttributes = Record<string, AttributeValue>;

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

/** What a finished span hands to the encoder. Times are milliseconds on the `performance.now()` clock. */
export interface FinishedSpan {
  readonly traceId: string;
  readonly spanId: string;
  readonly parentSpanId: string | undefined;
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

const WIRE_VARINT = 0;
const WIRE_I64 = 1;
const WIRE_LEN = 2;
const WIRE_I32 = 5;

const TWO_32 = 2 ** 32;
/** SpanFlags: the W3C sampled bit, and whether the parent's remoteness is known / remote. */
const FLAG_SAMPLED = 0x01;
const FLAG_HAS_IS_REMOTE = 0x100;
const FLAG_IS_REMOTE = 0x200;

const utf8 = new TextEncoder();

/** Character code to hex digit value (ids are validated lowercase hex before they get here). */
const HEX_VALUE = new Uint8Array(128);
for (let digit = 0; digit < 16; digit++) {
  HEX_VALUE[digit.toString(16).charCodeAt(0)] = digit;
  HEX_VALUE[digit.toString(16).toUpperCase().charCodeAt(0)] = digit;
}

/**
 * A growable protobuf writer. Length-delimited fields are written body first, then their length is
 * put in front (moving the body when the length needs more than one byte), so the encoding stays
 * canonical without measuring anything twice.
 */
export class ProtoWriter {
  private bytes: Uint8Array;
  private view: DataView;
  pos = 0;

  constructor(initialSize = 64 * 1024) {
    this.bytes = new Uint8Array(initialSize);
    this.view = new DataView(this.bytes.buffer);
  }

  private ensure(extra: number): void {
    if (this.pos + extra <= this.bytes.length) return;
    let size = this.bytes.length * 2;
    while (size < this.pos + extra) size *= 2;
    const grown = new Uint8Array(size);
    grown.set(this.bytes.subarray(0, this.pos));
    this.bytes = grown;
    this.view = new DataView(grown.buffer);
  }

  /** A copy of what has been written, and the writer emptied for reuse. */
  take(): Uint8Array {
    const out = this.bytes.slice(0, this.pos);
    this.pos = 0;
    return out;
  }

  varint(value: number): void {
    this.ensure(10);
    if (value < 0) {
      // int64 two's complement: always ten bytes.
      let big = BigInt.asUintN(64, BigInt(value));
      for (let i = 0; i < 9; i++) {
        this.bytes[this.pos++] = Number(big & 0x7fn) | 0x80;
        big >>= 7n;
      }
      this.bytes[this.pos++] = Number(big);
      return;
    }
    while (value >= 0x80) {
      this.bytes[this.pos++] = (value % 0x80) | 0x80;
      value = Math.floor(value / 0x80);
    }
    this.bytes[this.pos++] = value;
  }

  tag(field: number, wire: number): void {
    this.varint(field * 8 + wire);
  }

  fixed32(field: number, value: number): void {
    this.tag(field, WIRE_I32);
    this.ensure(4);
    this.view.setUint32(this.pos, value, true);
    this.pos += 4;
  }

  fixed64(field: number, low: number, high: number): void {
    this.tag(field, WIRE_I64);
    this.ensure(8);
    this.view.setUint32(this.pos, low, true);
    this.view.setUint32(this.pos + 4, high, true);
    this.pos += 8;
  }

  double(field: number, value: number): void {
    this.tag(field, WIRE_I64);
    this.ensure(8);
    this.view.setFloat64(this.pos, value, true);
    this.pos += 8;
  }

  string(field: number, value: string): void {
    this.tag(field, WIRE_LEN);
    const length = value.length;
    this.ensure(length * 3 + 5);
    // Short ASCII (every name, key and value this service records) is copied byte by byte: cheaper
    // than a TextEncoder call, which also allocates a view per string.
    if (length < 0x80) {
      const bytes = this.bytes;
      const start = this.pos + 1;
      let i = 0;
      for (; i < length; i++) {
        const code = value.charCodeAt(i);
        if (code >= 0x80) break;
        bytes[start + i] = code;
      }
      if (i === length) {
        bytes[this.pos] = length;
        this.pos = start + length;
        return;
      }
    }
    const encoded = utf8.encode(value);
    this.varint(encoded.length);
    this.bytes.set(encoded, this.pos);
    this.pos += encoded.length;
  }

  /** A lowercase hex id (trace or span id) as its bytes. */
  hexBytes(field: number, hex: string): void {
    this.tag(field, WIRE_LEN);
    const length = hex.length >> 1;
    this.ensure(length + 1);
    const bytes = this.bytes;
    bytes[this.pos++] = length;
    for (let i = 0; i < length; i++) {
      bytes[this.pos++] =
        (HEX_VALUE[hex.charCodeAt(2 * i)] as number) * 16 + (HEX_VALUE[hex.charCodeAt(2 * i + 1)] as number);
    }
  }

  raw(bytes: Uint8Array): void {
    this.ensure(bytes.length);
    this.bytes.set(bytes, this.pos);
    this.pos += bytes.length;
  }

  /** Starts a length-delimited field; returns the mark `endMessage` needs. */
  beginMessage(field: number): number {
    this.tag(field, WIRE_LEN);
    this.ensure(1);
    return this.pos++;
  }

  endMessage(mark: number): void {
    const length = this.pos - mark - 1;
    if (length < 0x80) {
      this.bytes[mark] = length;
      return;
    }
    let prefix = 1;
    for (let rest = length; rest >= 0x80; rest = Math.floor(rest / 0x80)) prefix++;
    this.ensure(prefix - 1);
    this.bytes.copyWithin(mark + prefix, mark + 1, this.pos);
    this.pos += prefix - 1;
    let at = mark;
    let value = length;
    while (value >= 0x80) {
      this.bytes[at++] = (value % 0x80) | 0x80;
      value = Math.floor(value / 0x80);
    }
    this.bytes[at] = value;
  }
}

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

function writeAnyValue(writer: ProtoWriter, field: number, value: AttributeValue): void {
  const mark = writer.beginMessage(field);
  if (typeof value === "string") writer.string(1, value);
  else if (typeof value === "boolean") {
    writer.tag(2, WIRE_VARINT);
    writer.varint(value ? 1 : 0);
  } else if (Number.isSafeInteger(value)) {
    writer.tag(3, WIRE_VARINT);
    writer.varint(value);
  } else writer.double(4, value);
  writer.endMessage(mark);
}

/** KeyValue list entries under `field`; undefined-valued entries are skipped. */
export function writeAttributes(writer: ProtoWriter, field: number, attributes: SpanAttributes): void {
  for (const key in attributes) {
    const value = attributes[key];
    if (value === undefined || (typeof value === "number" && Number.isNaN(value))) continue;
    const mark = writer.beginMessage(field);
    writer.string(1, key);
    writeAnyValue(writer, 2, value);
    writer.endMessage(mark);
  }
}

/** Distinct values remembered per attribute key before the key is treated as unbounded (ids, paths). */
const MAX_VALUES_PER_KEY = 32;
const scratch = new ProtoWriter(256);

/**
 * Span attributes (`Span.attributes`, field 9), with each KeyValue whose value repeats (methods,
 * routes, outcomes, status codes) encoded once and copied afterwards. A key that shows more than
 * MAX_VALUES_PER_KEY distinct values (a request id) is encoded every time.
 */
class SpanAttributeEncoder {
  private readonly cache = new Map<string, Map<AttributeValue, Uint8Array> | null>();

  write(writer: ProtoWriter, attributes: SpanAttributes): void {
    for (const key in attributes) {
      const value = attributes[key] as AttributeValue;
      if (value === undefined || (typeof value === "number" && Number.isNaN(value))) continue;
      let values = this.cache.get(key);
      if (values === undefined) {
        values = new Map();
        this.cache.set(key, values);
      }
      if (values === null) {
        writeKeyValue(writer, 9, key, value);
        continue;
      }
      let encoded = values.get(value);
      if (encoded === undefined) {
        if (values.size >= MAX_VALUES_PER_KEY) {
          this.cache.set(key, null);
          writeKeyValue(writer, 9, key, value);
          continue;
        }
        writeKeyValue(scratch, 9, key, value);
        encoded = scratch.take();
        values.set(value, encoded);
      }
      writer.raw(encoded);
    }
  }
}

function writeKeyValue(writer: ProtoWriter, field: number, key: string, value: AttributeValue): void {
  const mark = writer.beginMessage(field);
  writer.string(1, key);
  writeAnyValue(writer, 2, value);
  writer.endMessage(mark);
}

const spanAttributes = new SpanAttributeEncoder();

/** Appends one span as a `ScopeSpans.spans` (field 2) entry. */
export function encodeSpan(writer: ProtoWriter, clock: EpochClock, span: FinishedSpan, end: number): void {
  const mark = writer.beginMessage(2);
  writer.hexBytes(1, span.traceId);
  writer.hexBytes(2, span.spanId);
  if (span.traceState) writer.string(3, span.traceState);
  if (span.parentSpanId) writer.hexBytes(4, span.parentSpanId);
  writer.string(5, span.name);
  writer.tag(6, WIRE_VARINT);
  writer.varint(span.kind);
  clock.write(writer, 7, span.start);
  clock.write(writer, 8, end);
  spanAttributes.write(writer, span.attributes);
  if (span.events) {
    for (const event of span.events) {
      const eventMark = writer.beginMessage(11);
      clock.write(writer, 1, event.time);
      writer.string(2, event.name);
      writeAttributes(writer, 3, event.attributes);
      writer.endMessage(eventMark);
    }
  }
  if (span.statusCode !== StatusCode.UNSET || span.statusMessage) {
    const statusMark = writer.beginMessage(15);
    if (span.statusMessage) writer.string(2, span.statusMessage);
    if (span.statusCode !== StatusCode.UNSET) {
      writer.tag(3, WIRE_VARINT);
      writer.varint(span.statusCode);
    }
    writer.endMessage(statusMark);
  }
  let flags = FLAG_SAMPLED;
  if (span.parentIsRemote !== undefined)
    flags |= FLAG_HAS_IS_REMOTE | (span.parentIsRemote ? FLAG_IS_REMOTE : 0);
  writer.fixed32(16, flags);
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
 * An ExportTraceServiceRequest: one ResourceSpans holding one ScopeSpans whose spans are `spans`
 * (the concatenated `encodeSpan` output of a batch).
 */
export function encodeExportRequest(envelope: ExportEnvelope, spans: Uint8Array): Uint8Array {
  const writer = new ProtoWriter(spans.length + envelope.resource.length + envelope.scope.length + 32);
  const resourceSpans = writer.beginMessage(1);
  writer.raw(envelope.resource);
  const scopeSpans = writer.beginMessage(2);
  writer.raw(envelope.scope);
  writer.raw(spans);
  writer.endMessage(scopeSpans);
  writer.endMessage(resourceSpans);
  return writer.take();
}
