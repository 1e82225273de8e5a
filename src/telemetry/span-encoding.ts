/**
 * OTLP protobuf encoding of the service's own spans (opentelemetry/proto/trace/v1/trace.proto).
 *
 * A finished span is copied into columns (`SpanColumns`: ids as bytes, times as numbers, attributes as
 * flat lists) and its batch is encoded in one loop when it is full, into a request whose envelope
 * (resource, instrumentation scope) `TraceRequestWriter` writes in front of the spans. The SDK's span
 * objects and its serializer cost more than the rest of a cached request (docs/testing.md).
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

/**
 * A growable protobuf writer. Length-delimited fields are written body first, in room kept for their
 * length, which is put in front afterwards (moving the body only when the length needs more or less
 * room than was kept), so the encoding stays canonical without measuring anything twice.
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

  /** `length` id bytes copied from `source` at `offset`. */
  idBytes(field: number, source: Uint8Array, offset: number, length: number): void {
    this.tag(field, WIRE_LEN);
    this.ensure(length + 1);
    const bytes = this.bytes;
    bytes[this.pos++] = length;
    for (let i = 0; i < length; i++) bytes[this.pos++] = source[offset + i] as number;
  }

  raw(bytes: Uint8Array): void {
    this.ensure(bytes.length);
    this.bytes.set(bytes, this.pos);
    this.pos += bytes.length;
  }

  /**
   * Starts a length-delimited field with `reserve` bytes kept for its length (2 for messages that
   * are usually 128 bytes or more, like spans); returns the mark `endMessage` needs.
   */
  beginMessage(field: number, reserve = 1): number {
    this.tag(field, WIRE_LEN);
    this.ensure(reserve);
    const mark = this.pos;
    this.pos += reserve;
    return mark * 4 + reserve;
  }

  /** Writes the length in front of the body, moving the body when the length's size differs. */
  endMessage(mark: number): void {
    const reserve = mark % 4;
    const at = (mark - reserve) / 4;
    const length = this.pos - at - reserve;
    const size = varintSize(length);
    if (size !== reserve) {
      this.ensure(size - reserve);
      this.bytes.copyWithin(at + size, at + reserve, this.pos);
      this.pos += size - reserve;
    }
    writeVarintAt(this.bytes, at, length);
  }

  /**
   * The bytes from `start` to the end, without copying; the writer continues in a new buffer of the
   * same size (the returned bytes are handed to an export and must not change).
   */
  detach(start: number): Uint8Array {
    const out = this.bytes.subarray(start, this.pos);
    this.bytes = new Uint8Array(this.bytes.length);
    this.view = new DataView(this.bytes.buffer);
    this.pos = 0;
    return out;
  }

  /** Writes `bytes` at an earlier position (a reserved area), leaving the write position alone. */
  writeAt(at: number, bytes: Uint8Array): number {
    this.bytes.set(bytes, at);
    return at + bytes.length;
  }

  /** Writes a varint at an earlier position; returns the position after it. */
  varintAt(at: number, value: number): number {
    return writeVarintAt(this.bytes, at, value);
  }
}

function varintSize(value: number): number {
  let size = 1;
  for (let rest = value; rest >= 0x80; rest = Math.floor(rest / 0x80)) size++;
  return size;
}

function writeVarintAt(bytes: Uint8Array, at: number, value: number): number {
  while (value >= 0x80) {
    bytes[at++] = (value % 0x80) | 0x80;
    value = Math.floor(value / 0x80);
  }
  bytes[at++] = value;
  return at;
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

/** Attribute values OTLP can carry: undefined (never set) and NaN are left out. */
function recordable(value: AttributeValue | undefined): value is AttributeValue {
  return value !== undefined && !(typeof value === "number" && Number.isNaN(value));
}

/** KeyValue list entries under `field`. */
function writeAttributes(writer: ProtoWriter, field: number, attributes: SpanAttributes): void {
  for (const key in attributes) {
    const value = attributes[key];
    if (recordable(value)) writeKeyValue(writer, field, key, value);
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
class KeyValueCache {
  private readonly cache = new Map<string, Map<AttributeValue, Uint8Array> | null>();

  write(writer: ProtoWriter, key: string, value: AttributeValue): void {
    let values = this.cache.get(key);
    if (values === undefined) {
      values = new Map();
      this.cache.set(key, values);
    }
    if (values === null) {
      writeKeyValue(writer, 9, key, value);
      return;
    }
    let encoded = values.get(value);
    if (encoded === undefined) {
      if (values.size >= MAX_VALUES_PER_KEY) {
        this.cache.set(key, null);
        writeKeyValue(writer, 9, key, value);
        return;
      }
      writeKeyValue(scratch, 9, key, value);
      encoded = scratch.take();
      values.set(value, encoded);
    }
    writer.raw(encoded);
  }
}

function writeKeyValue(writer: ProtoWriter, field: number, key: string, value: AttributeValue): void {
  const mark = writer.beginMessage(field);
  writer.string(1, key);
  writeAnyValue(writer, 2, value);
  writer.endMessage(mark);
}

/** A 32-bit word as four big-endian bytes (ids are written most significant byte first). */
function wordInto(target: Uint8Array, offset: number, word: number): void {
  target[offset] = word >>> 24;
  target[offset + 1] = (word >>> 16) & 0xff;
  target[offset + 2] = (word >>> 8) & 0xff;
  target[offset + 3] = word & 0xff;
}

/** Bytes per span in SpanColumns.ids: trace id 16, span id 8, parent span id 8. */
const ID_BYTES = 32;
/** Bytes per span in SpanColumns.small: kind, status code, has parent, parent is remote. */
const SMALL_BYTES = 4;

/**
 * Finished spans held until their batch is encoded, as columns: ids as bytes, times as numbers,
 * attributes as flat key and value lists. Holding the span objects themselves until the batch is
 * full keeps about ten young objects per request alive across garbage collections; this keeps the
 * attribute values and little else. Then the whole batch is encoded in one loop (see SpanBatcher).
 */
export class SpanColumns {
  count = 0;
  private readonly ids: Uint8Array;
  private readonly times: Float64Array;
  private readonly small: Uint8Array;
  private readonly attributeEnds: Uint32Array;
  // Written by index and kept from batch to batch; what could hold a request's data is cleared after
  // each batch.
  private readonly names: string[] = [];
  private readonly traceStates: (string | undefined)[] = [];
  private readonly statusMessages: (string | undefined)[] = [];
  private readonly events: (readonly SpanEvent[] | undefined)[] = [];
  private readonly keys: string[] = [];
  private readonly values: (AttributeValue | undefined)[] = [];
  private attributeCount = 0;
  private readonly keyValues = new KeyValueCache();

  constructor(readonly capacity: number) {
    this.ids = new Uint8Array(capacity * ID_BYTES);
    this.times = new Float64Array(capacity * 2);
    this.small = new Uint8Array(capacity * SMALL_BYTES);
    this.attributeEnds = new Uint32Array(capacity);
  }

  /** Copies what the encoder needs out of `span`; false when the columns are full. */
  add(span: FinishedSpan, end: number): boolean {
    const i = this.count;
    if (i >= this.capacity) return false;
    const ids = this.ids;
    const at = i * ID_BYTES;
    const hasParent = span.hasParent;
    wordInto(ids, at, span.t0);
    wordInto(ids, at + 4, span.t1);
    wordInto(ids, at + 8, span.t2);
    wordInto(ids, at + 12, span.t3);
    wordInto(ids, at + 16, span.s0);
    wordInto(ids, at + 20, span.s1);
    if (hasParent) {
      wordInto(ids, at + 24, span.p0);
      wordInto(ids, at + 28, span.p1);
    }
    this.times[2 * i] = span.start;
    this.times[2 * i + 1] = end;
    const small = i * SMALL_BYTES;
    this.small[small] = span.kind;
    this.small[small + 1] = span.statusCode;
    this.small[small + 2] = hasParent ? 1 : 0;
    this.small[small + 3] = span.parentIsRemote ? 1 : 0;
    this.names[i] = span.name;
    this.traceStates[i] = span.traceState;
    this.statusMessages[i] = span.statusMessage;
    this.events[i] = span.events;
    const attributes = span.attributes;
    let n = this.attributeCount;
    for (const key in attributes) {
      const value = attributes[key];
      if (!recordable(value)) continue;
      this.keys[n] = key;
      this.values[n] = value;
      n++;
    }
    this.attributeCount = n;
    this.attributeEnds[i] = n;
    this.count = i + 1;
    return true;
  }

  /** Appends every held span as a `ScopeSpans.spans` (field 2) entry, and empties the columns. */
  encodeInto(writer: ProtoWriter, clock: EpochClock): void {
    let attribute = 0;
    for (let i = 0; i < this.count; i++) {
      const small = i * SMALL_BYTES;
      const mark = writer.beginMessage(2, 2);
      writer.idBytes(1, this.ids, i * ID_BYTES, 16);
      writer.idBytes(2, this.ids, i * ID_BYTES + 16, 8);
      const traceState = this.traceStates[i];
      if (traceState) writer.string(3, traceState);
      if (this.small[small + 2] === 1) writer.idBytes(4, this.ids, i * ID_BYTES + 24, 8);
      writer.string(5, this.names[i] as string);
      writer.tag(6, WIRE_VARINT);
      writer.varint(this.small[small] as number);
      clock.write(writer, 7, this.times[2 * i] as number);
      clock.write(writer, 8, this.times[2 * i + 1] as number);
      const attributesEnd = this.attributeEnds[i] as number;
      for (; attribute < attributesEnd; attribute++) {
        this.keyValues.write(
          writer,
          this.keys[attribute] as string,
          this.values[attribute] as AttributeValue,
        );
      }
      const events = this.events[i];
      if (events) {
        for (const event of events) {
          const eventMark = writer.beginMessage(11);
          clock.write(writer, 1, event.time);
          writer.string(2, event.name);
          writeAttributes(writer, 3, event.attributes);
          writer.endMessage(eventMark);
        }
      }
      const statusCode = this.small[small + 1] as number;
      const statusMessage = this.statusMessages[i];
      if (statusCode !== StatusCode.UNSET || statusMessage) {
        const statusMark = writer.beginMessage(15);
        if (statusMessage) writer.string(2, statusMessage);
        if (statusCode !== StatusCode.UNSET) {
          writer.tag(3, WIRE_VARINT);
          writer.varint(statusCode);
        }
        writer.endMessage(statusMark);
      }
      writer.fixed32(
        16,
        FLAG_SAMPLED | FLAG_HAS_IS_REMOTE | (this.small[small + 3] === 1 ? FLAG_IS_REMOTE : 0),
      );
      writer.endMessage(mark);
    }
    this.traceStates.fill(undefined, 0, this.count);
    this.statusMessages.fill(undefined, 0, this.count);
    this.events.fill(undefined, 0, this.count);
    this.values.fill(undefined, 0, this.attributeCount);
    this.count = 0;
    this.attributeCount = 0;
  }
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
}
