import { describe, expect, test } from "bun:test";
import { ProtobufTraceSerializer } from "@opentelemetry/otlp-transformer";
import { ProtoWriter } from "../../../src/telemetry/proto-writer.ts";
import { SpanColumns } from "../../../src/telemetry/span-columns.ts";
import {
  attributeValue,
  EpochClock,
  encodeEnvelope,
  type FinishedSpan,
  SpanKindCode,
  StatusCode,
  TraceRequestWriter,
  writeAttributes,
} from "../../../src/telemetry/span-encoding.ts";
import { type DecodedSpan, decodeTraceRequest, readFields } from "../../support/otlp-proto.ts";
import { hexIds, idWords } from "../../support/span-ids.ts";

/** A fixed time origin (ms since the epoch, with a fraction) so expected nanoseconds are exact. */
const ORIGIN_MS = 1_764_460_800_123.25;
const ORIGIN_NS = 1_764_460_800_123_250_000n;
const nsAt = (nowMs: number) => ORIGIN_NS + BigInt(Math.round(nowMs * 1e6));

const RESOURCE = { "service.name": "authentication-service", "service.version": "1.2.3", "x.count": 3 };
const SCOPE = { name: "authentication-service", version: "1.2.3" };

function encode(spans: { span: FinishedSpan; end: number }[]): Uint8Array {
  const request = new TraceRequestWriter(encodeEnvelope(RESOURCE, SCOPE), 16);
  const columns = new SpanColumns(spans.length);
  for (const { span, end } of spans) expect(columns.add(span, end)).toBe(true);
  expect(columns.add(root, 1)).toBe(false); // full
  columns.encodeInto(request.spans, new EpochClock(ORIGIN_MS));
  expect(columns.count).toBe(0);
  const first = request.finish();
  // The writer goes on with the next request; the first one is not touched by it.
  const copy = first.slice();
  columns.add(root, 1);
  columns.encodeInto(request.spans, new EpochClock(ORIGIN_MS));
  expect(decodeTraceRequest(request.finish())).toHaveLength(1);
  expect(first).toEqual(copy);
  return first;
}

const TRACE = "0af7651916cd43dd8448eb211c80319c";
const server: FinishedSpan = {
  ...idWords(TRACE, "b7ad6b7169203331", "00f067aa0ba902b7"),
  traceState: "congo=t61rcWkgMzE",
  parentIsRemote: true,
  name: "GET /tokens",
  kind: SpanKindCode.SERVER,
  start: 1234.567891,
  attributes: {
    "http.request.method": "GET",
    "http.route": "/tokens",
    "http.response.status_code": 200,
    "credential.cache_hit": true,
    "ratio.double": 0.25,
    "negative.int": -7,
    "unicode.value": "żółw ✓",
    "list.strings": ["a", "b"],
    "list.numbers": [1, 2.5, -3],
  },
  events: undefined,
  statusCode: StatusCode.UNSET,
  statusMessage: undefined,
};

const failed: FinishedSpan = {
  ...idWords(TRACE, "1111111111111111", "b7ad6b7169203331"),
  traceState: undefined,
  parentIsRemote: false,
  name: "Kong GET consumer",
  kind: SpanKindCode.CLIENT,
  start: 1300,
  attributes: { "kong.operation": "consumer" },
  events: [
    {
      name: "exception",
      time: 1310.5,
      attributes: { "exception.type": "Error", "exception.message": "x".repeat(300) },
    },
  ],
  statusCode: StatusCode.ERROR,
  statusMessage: "Kong answered 503",
};

const root: FinishedSpan = {
  ...server,
  ...idWords(TRACE, "2222222222222222"),
  traceState: undefined,
  parentIsRemote: false,
  kind: SpanKindCode.INTERNAL,
  name: "credential.lookup",
  attributes: {},
};

/** The same spans as the SDK hands them to the official serializer. */
function readableSpan(span: FinishedSpan, end: number) {
  const hr = (ms: number): [number, number] => {
    const ns = nsAt(ms);
    return [Number(ns / 1_000_000_000n), Number(ns % 1_000_000_000n)];
  };
  const { traceId, spanId, parentSpanId } = hexIds(span);
  return {
    name: span.name,
    kind: span.kind - 1,
    spanContext: () => ({
      traceId,
      spanId,
      traceFlags: 1,
      traceState: span.traceState ? { serialize: () => span.traceState } : undefined,
    }),
    parentSpanContext: parentSpanId
      ? { traceId, spanId: parentSpanId, traceFlags: 1, isRemote: span.parentIsRemote }
      : undefined,
    startTime: hr(span.start),
    endTime: hr(end),
    status: { code: span.statusCode, message: span.statusMessage },
    attributes: span.attributes,
    links: [],
    events: (span.events ?? []).map((event) => ({
      name: event.name,
      time: hr(event.time),
      attributes: event.attributes,
    })),
    duration: [0, 0],
    ended: true,
    resource: { attributes: RESOURCE, asyncAttributesPending: false },
    instrumentationScope: SCOPE,
    droppedAttributesCount: 0,
    droppedEventsCount: 0,
    droppedLinksCount: 0,
  };
}

/** What proto3 makes equivalent (an absent status and a status with only defaults) made equal. */
const normalized = (spans: DecodedSpan[]) =>
  spans.map((span) => ({
    ...span,
    status: { code: span.status?.code ?? 0, message: span.status?.message ?? undefined },
  }));

describe("OTLP protobuf encoding of the service's spans", () => {
  test("decodes to exactly what the official OpenTelemetry serializer produces for the same spans", () => {
    const spans = [
      { span: server, end: 1236.000001 },
      { span: failed, end: 1320.75 },
      { span: root, end: 1400 },
    ];
    const ours = decodeTraceRequest(encode(spans));
    const official = ProtobufTraceSerializer.serializeRequest(
      spans.map(({ span, end }) => readableSpan(span, end)) as never,
    );
    expect(official).toBeDefined();
    const theirs = decodeTraceRequest(official as Uint8Array);
    expect(normalized(ours)).toEqual(normalized(theirs));

    // And the values are the intended ones, not just the same mistakes twice.
    const [first, second, third] = ours as [DecodedSpan, DecodedSpan, DecodedSpan];
    expect(first.startTimeUnixNano).toBe(1_764_460_801_357_817_891n);
    expect(first.endTimeUnixNano).toBe(nsAt(1236.000001));
    expect(first.attributes).toEqual(server.attributes);
    expect(first.flags).toBe(0x301); // sampled, parent's remoteness known, parent remote
    expect(second.flags).toBe(0x101);
    expect(second.events[0]?.attributes["exception.message"]).toBe("x".repeat(300));
    expect(second.status).toEqual({ code: 2, message: "Kong answered 503" });
    expect(third.parentSpanId).toBeUndefined();
    expect([first.traceId, first.spanId, first.parentSpanId]).toEqual([
      TRACE,
      "b7ad6b7169203331",
      "00f067aa0ba902b7",
    ]);
    expect(first.resource).toEqual(RESOURCE);
    expect(first.scope).toEqual(SCOPE);
  });

  test("an attribute key that takes many values (a request id) is encoded afresh every time", () => {
    const spans = Array.from({ length: 100 }, (_, i) => ({
      span: { ...root, attributes: { "http.request.id": `request-${i}`, "http.route": "/tokens" } },
      end: 1500 + i,
    }));
    const decoded = decodeTraceRequest(encode(spans));
    expect(decoded.map((span) => span.attributes)).toEqual(spans.map(({ span }) => span.attributes));
  });

  test("epoch nanoseconds are exact although they exceed 2^53", () => {
    const clock = new EpochClock(ORIGIN_MS);
    for (const now of [0, 0.000001, 1, 999.999999, 86_400_000.5, 4_294.967296, 4_294.967295]) {
      const writer = new ProtoWriter(16);
      clock.write(writer, 7, now);
      const [field] = readFields(writer.take());
      expect(field?.value).toBe(nsAt(now));
    }
  });
});

describe("ProtoWriter", () => {
  const roundTrip = (write: (writer: ProtoWriter) => void) => {
    const writer = new ProtoWriter(4);
    write(writer);
    return readFields(writer.take());
  };

  test("varints at every length boundary, and negative int64 as ten bytes", () => {
    for (const value of [
      0,
      1,
      127,
      128,
      16_383,
      16_384,
      2 ** 31,
      2 ** 32,
      2 ** 35 + 5,
      Number.MAX_SAFE_INTEGER,
    ]) {
      const [field] = roundTrip((writer) => {
        writer.tag(3, 0);
        writer.varint(value);
      });
      expect(field?.value).toBe(BigInt(value));
    }
    const zero = new ProtoWriter(4);
    zero.varint(0);
    expect(zero.take()).toEqual(new Uint8Array([0]));
    const writer = new ProtoWriter(4);
    writer.varint(-1);
    expect(writer.take()).toEqual(new Uint8Array([255, 255, 255, 255, 255, 255, 255, 255, 255, 1]));
  });

  test("nested messages longer than 127 bytes get their length prefix moved in front correctly", () => {
    for (const [size, reserve] of [0, 127, 128, 300, 16_383, 16_384, 20_000].flatMap(
      (n): [number, number][] => [
        [n, 1],
        [n, 2],
      ],
    )) {
      const fields = roundTrip((writer) => {
        const mark = writer.beginMessage(1, reserve);
        writer.string(2, "a".repeat(size));
        writer.endMessage(mark);
        writer.string(3, "after");
      });
      const inner = readFields(fields[0]?.value as Uint8Array);
      expect(new TextDecoder().decode(inner[0]?.value as Uint8Array)).toBe("a".repeat(size));
      expect(new TextDecoder().decode(fields[1]?.value as Uint8Array)).toBe("after");
    }
  });

  test("each write, wherever the buffer ends, writes what it writes with room to spare", () => {
    const writes: Record<string, (writer: ProtoWriter) => void> = {
      message: (writer) => {
        // A body that ends where the buffer does, and a length that needs a byte more than kept.
        const mark = writer.beginMessage(1, 1);
        writer.raw(new Uint8Array(130).fill(7));
        writer.endMessage(mark);
      },
      ascii: (writer) => writer.string(3, "ascii \u0080"),
      utf8: (writer) => writer.string(3, "✓".repeat(10)),
      id: (writer) => writer.idBytes(4, new Uint8Array(Array.from({ length: 20 }, (_, i) => i + 1)), 2, 16),
      // A cached KeyValue as the encoder copies it: field 8, 98 bytes.
      raw: (writer) =>
        writer.raw(new Uint8Array([0x42, 98, ...Array.from({ length: 98 }, (_, i) => 200 - i)])),
      fixed64: (writer) => writer.fixed64(5, 0x01020304, 0x05060708),
      fixed32: (writer) => writer.fixed32(6, 0xdeadbeef),
      double: (writer) => writer.double(7, 1.5),
      varint: (writer) => {
        writer.tag(9, 0);
        writer.varint(2 ** 40);
      },
    };
    for (const [name, write] of Object.entries(writes)) {
      const roomy = new ProtoWriter(4096);
      write(roomy);
      const expected = roomy.take();
      // The write starts `at` bytes into a buffer of `size`: every place its end can fall.
      for (let size = 1; size <= 24; size++) {
        for (let at = 0; at <= size; at++) {
          const writer = new ProtoWriter(size);
          writer.raw(new Uint8Array(at).fill(1));
          write(writer);
          const written = writer.take();
          if (!Buffer.from(written.subarray(at)).equals(Buffer.from(expected))) {
            throw new Error(`${name} written at ${at} of ${size} bytes differs`);
          }
        }
      }
    }
    const writer = new ProtoWriter(8);
    writes.ascii?.(writer);
    const [text] = readFields(writer.take());
    // U+0080 is the first code point UTF-8 writes in two bytes.
    expect(new TextDecoder().decode(text?.value as Uint8Array)).toBe("ascii \u0080");
  });

  test("strings are UTF-8, ids are their bytes", () => {
    const fields = roundTrip((writer) => {
      writer.string(1, "ascii");
      writer.string(2, "żółw ✓ 🐢");
      writer.string(3, `${"é".repeat(100)}`);
      writer.idBytes(4, Buffer.from("000af7651916cd43dd8448eb211c80319c", "hex"), 1, 16);
    });
    const text = (i: number) => new TextDecoder().decode(fields[i]?.value as Uint8Array);
    expect([text(0), text(1), text(2)]).toEqual(["ascii", "żółw ✓ 🐢", "é".repeat(100)]);
    expect(Buffer.from(fields[3]?.value as Uint8Array).toString("hex")).toBe(
      "0af7651916cd43dd8448eb211c80319c",
    );
  });
});

describe("attribute values", () => {
  test("what the API may hand over: primitives and arrays of them (holes too) are kept, nothing else", () => {
    for (const kept of ["a", "", 0, 1.5, false, ["a", 1, true], ["a", null, undefined], []]) {
      expect(attributeValue(kept)).toBe(kept as never);
    }
    for (const left of [undefined, null, { a: 1 }, () => 1, Symbol("s"), 1n, ["a", { a: 1 }], [["nested"]]]) {
      expect(attributeValue(left)).toBeUndefined();
    }
  });

  /** The AnyValue each attribute was written as: field number and raw value, by key. */
  function anyValues(attributes: Record<string, unknown>) {
    const writer = new ProtoWriter(8);
    writeAttributes(writer, 9, attributes as never);
    return Object.fromEntries(
      readFields(writer.take()).map((keyValue) => {
        const [key, value] = readFields(keyValue.value as Uint8Array);
        const [any] = readFields(value?.value as Uint8Array);
        return [new TextDecoder().decode(key?.value as Uint8Array), any];
      }),
    );
  }

  test("whole numbers within 2^53 are int_value, other numbers double_value; undefined and NaN are left out", () => {
    const written = anyValues({
      int: 3,
      zero: 0,
      big: 2 ** 60,
      half: 1.5,
      nan: Number.NaN,
      unset: undefined,
      no: false,
      empty: "",
    });
    expect(Object.keys(written)).toEqual(["int", "zero", "big", "half", "no", "empty"]);
    expect([written.int?.field, written.int?.value]).toEqual([3, 3n]);
    expect([written.zero?.field, written.zero?.value]).toEqual([3, 0n]);
    expect([written.big?.field, written.half?.field]).toEqual([4, 4]);
    expect([written.no?.field, written.no?.value]).toEqual([2, 0n]);
    expect(written.empty?.field).toBe(1);
  });

  test("an array's holes stay as empty values in their places", () => {
    const { list } = anyValues({ list: [7, null, "x", undefined] });
    expect(list?.field).toBe(5);
    const values = readFields(list?.value as Uint8Array).map((entry) =>
      readFields(entry.value as Uint8Array),
    );
    expect(values.map((fields) => fields.map((field) => field.field))).toEqual([[3], [], [1], []]);
  });
});

describe("TraceRequestWriter", () => {
  test("however small it starts, a request without spans is the envelope alone, and it writes on after it", () => {
    const request = new TraceRequestWriter(encodeEnvelope(RESOURCE, SCOPE), 1);
    const empty = request.finish();
    const [resourceSpans] = readFields(empty);
    const [resource, scopeSpans] = readFields(resourceSpans?.value as Uint8Array);
    expect([resourceSpans?.field, resource?.field, scopeSpans?.field]).toEqual([1, 1, 2]);
    expect(readFields(scopeSpans?.value as Uint8Array).map((field) => field.field)).toEqual([1]);
    const columns = new SpanColumns(1);
    columns.add(root, 2);
    columns.encodeInto(request.spans, new EpochClock(ORIGIN_MS));
    expect(decodeTraceRequest(request.finish())).toHaveLength(1);
  });
});
