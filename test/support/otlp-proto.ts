/**
 * A small protobuf wire-format reader and the OTLP trace messages decoded with it, written from
 * opentelemetry/proto (trace/v1/trace.proto, common/v1/common.proto, resource/v1/resource.proto),
 * independently of the service's encoder, so tests can read what an OTLP/HTTP protobuf exporter sends.
 */

type Field = { field: number; wire: number; value: bigint | Uint8Array };

export function readFields(bytes: Uint8Array): Field[] {
  const fields: Field[] = [];
  const view = new DataView(bytes.buffer, bytes.byteOffset, bytes.byteLength);
  let pos = 0;
  const varint = (): bigint => {
    let result = 0n;
    let shift = 0n;
    for (;;) {
      if (pos >= bytes.length) throw new Error("truncated varint");
      const byte = bytes[pos++] as number;
      result |= BigInt(byte & 0x7f) << shift;
      if ((byte & 0x80) === 0) return result;
      shift += 7n;
      if (shift > 63n) throw new Error("varint too long");
    }
  };
  while (pos < bytes.length) {
    const key = Number(varint());
    const field = key >>> 3;
    const wire = key & 7;
    if (field === 0) throw new Error("field number 0");
    if (wire === 0) fields.push({ field, wire, value: varint() });
    else if (wire === 1) {
      if (pos + 8 > bytes.length) throw new Error("truncated fixed64");
      fields.push({ field, wire, value: view.getBigUint64(pos, true) });
      pos += 8;
    } else if (wire === 5) {
      if (pos + 4 > bytes.length) throw new Error("truncated fixed32");
      fields.push({ field, wire, value: BigInt(view.getUint32(pos, true)) });
      pos += 4;
    } else if (wire === 2) {
      const length = Number(varint());
      if (pos + length > bytes.length) throw new Error("truncated length-delimited field");
      fields.push({ field, wire, value: bytes.subarray(pos, pos + length) });
      pos += length;
    } else throw new Error(`unsupported wire type ${wire}`);
  }
  return fields;
}

const text = new TextDecoder("utf-8", { fatal: true });
const hex = (bytes: Uint8Array) => Buffer.from(bytes).toString("hex");
const all = (fields: Field[], n: number) => fields.filter((f) => f.field === n);
const one = (fields: Field[], n: number) => all(fields, n).at(-1);
const len = (fields: Field[], n: number) => one(fields, n)?.value as Uint8Array | undefined;
const num = (fields: Field[], n: number) => {
  const v = one(fields, n)?.value;
  return typeof v === "bigint" ? v : undefined;
};

function anyValue(bytes: Uint8Array): unknown {
  const fields = readFields(bytes);
  const last = fields.at(-1);
  if (!last) return undefined;
  switch (last.field) {
    case 1:
      return text.decode(last.value as Uint8Array);
    case 2:
      return last.value === 1n;
    case 3:
      return Number(BigInt.asIntN(64, last.value as bigint));
    case 4: {
      const buffer = new ArrayBuffer(8);
      new DataView(buffer).setBigUint64(0, last.value as bigint, true);
      return new DataView(buffer).getFloat64(0, true);
    }
    case 5:
      return all(readFields(last.value as Uint8Array), 1).map((item) => anyValue(item.value as Uint8Array));
    default:
      return { unsupportedField: last.field };
  }
}

export function keyValues(fields: Field[], n: number): Record<string, unknown> {
  const out: Record<string, unknown> = {};
  for (const entry of all(fields, n)) {
    const kv = readFields(entry.value as Uint8Array);
    const key = len(kv, 1);
    const value = len(kv, 2);
    out[key ? text.decode(key) : ""] = value ? anyValue(value) : undefined;
  }
  return out;
}

export interface DecodedSpan {
  traceId: string;
  spanId: string;
  parentSpanId?: string;
  traceState?: string;
  name: string;
  kind: number;
  startTimeUnixNano: bigint;
  endTimeUnixNano: bigint;
  attributes: Record<string, unknown>;
  events: { name: string; timeUnixNano: bigint; attributes: Record<string, unknown> }[];
  status?: { code?: number; message?: string };
  flags?: number;
  resource: Record<string, unknown>;
  scope: { name?: string; version?: string };
}

/** An ExportTraceServiceRequest's spans, each with its resource and scope. */
export function decodeTraceRequest(body: Uint8Array): DecodedSpan[] {
  const spans: DecodedSpan[] = [];
  for (const rs of all(readFields(body), 1)) {
    const rsFields = readFields(rs.value as Uint8Array);
    const resourceBytes = len(rsFields, 1);
    const resource = resourceBytes ? keyValues(readFields(resourceBytes), 1) : {};
    for (const ss of all(rsFields, 2)) {
      const ssFields = readFields(ss.value as Uint8Array);
      const scopeBytes = len(ssFields, 1);
      const scopeFields = scopeBytes ? readFields(scopeBytes) : [];
      const scopeName = len(scopeFields, 1);
      const scopeVersion = len(scopeFields, 2);
      const scope = {
        name: scopeName ? text.decode(scopeName) : undefined,
        version: scopeVersion ? text.decode(scopeVersion) : undefined,
      };
      for (const sp of all(ssFields, 2)) {
        const f = readFields(sp.value as Uint8Array);
        const parent = len(f, 4);
        const state = len(f, 3);
        const statusBytes = len(f, 15);
        const statusFields = statusBytes ? readFields(statusBytes) : undefined;
        const statusMessage = statusFields ? len(statusFields, 2) : undefined;
        const flags = num(f, 16);
        spans.push({
          traceId: hex(len(f, 1) ?? new Uint8Array()),
          spanId: hex(len(f, 2) ?? new Uint8Array()),
          parentSpanId: parent && parent.length > 0 ? hex(parent) : undefined,
          traceState: state ? text.decode(state) : undefined,
          name: text.decode(len(f, 5) ?? new Uint8Array()),
          kind: Number(num(f, 6) ?? 0n),
          startTimeUnixNano: num(f, 7) ?? 0n,
          endTimeUnixNano: num(f, 8) ?? 0n,
          attributes: keyValues(f, 9),
          events: all(f, 11).map((event) => {
            const e = readFields(event.value as Uint8Array);
            return {
              timeUnixNano: num(e, 1) ?? 0n,
              name: text.decode(len(e, 2) ?? new Uint8Array()),
              attributes: keyValues(e, 3),
            };
          }),
          status: statusFields
            ? {
                code: Number(num(statusFields, 3) ?? 0n),
                message: statusMessage ? text.decode(statusMessage) : undefined,
              }
            : undefined,
          flags: flags === undefined ? undefined : Number(flags),
          resource,
          scope,
        });
      }
    }
  }
  return spans;
}
