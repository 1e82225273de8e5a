import { ProtoWriter, WIRE_VARINT } from "./proto-writer.ts";
import {
  type AttributeValue,
  type EpochClock,
  type FinishedSpan,
  recordable,
  type SpanEvent,
  StatusCode,
  writeAttributes,
  writeKeyValue,
} from "./span-encoding.ts";

/** SpanFlags: the W3C sampled bit, and whether the parent's remoteness is known / remote. */
const FLAG_SAMPLED = 0x01;
const FLAG_HAS_IS_REMOTE = 0x100;
const FLAG_IS_REMOTE = 0x200;

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
