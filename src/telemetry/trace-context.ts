/**
 * W3C Trace Context (https://www.w3.org/TR/trace-context/): ids, the traceparent and tracestate
 * headers, and the standard OpenTelemetry samplers (OTEL_TRACES_SAMPLER), for the service's own tracer.
 */

/** A span context as it travels between processes. Ids are lowercase hex. */
export interface SpanContext {
  readonly traceId: string;
  readonly spanId: string;
  readonly sampled: boolean;
  readonly traceState: string | undefined;
}

const INVALID_TRACE_ID = "0".repeat(32);
const INVALID_SPAN_ID = "0".repeat(16);

/**
 * Random bytes are drawn from the system CSPRNG a pool at a time and hex-encoded once; an id is a
 * slice of that string (a substring costs next to nothing, a hex encoding per id does not).
 */
const POOL_BYTES = 4096;
const poolBytes = Buffer.alloc(POOL_BYTES);
let pool = "";
let poolOffset = 0;

function randomHex(bytes: number): string {
  const chars = bytes * 2;
  if (poolOffset + chars > pool.length) {
    crypto.getRandomValues(poolBytes);
    pool = poolBytes.toString("hex");
    poolOffset = 0;
  }
  const start = poolOffset;
  poolOffset += chars;
  return pool.slice(start, poolOffset);
}

export function newTraceId(): string {
  let id = randomHex(16);
  while (id === INVALID_TRACE_ID) id = randomHex(16);
  return id;
}

export function newSpanId(): string {
  let id = randomHex(8);
  while (id === INVALID_SPAN_ID) id = randomHex(8);
  return id;
}

const TRACEPARENT = /^([0-9a-f]{2})-([0-9a-f]{32})-([0-9a-f]{16})-([0-9a-f]{2})(-.*)?$/;
/** tracestate: at most 32 comma-separated key=value members (W3C limits), 512 characters kept. */
const TRACESTATE_MEMBER =
  /^[a-z0-9][_0-9a-z\-*/@]{0,255}=[\x20-\x2b\x2d-\x3c\x3e-\x7e]{0,255}[\x21-\x2b\x2d-\x3c\x3e-\x7e]$/;
const MAX_TRACESTATE = 512;

/**
 * The caller's span context from `traceparent` (and `tracestate`), or undefined when there is none or
 * it is malformed (the request then starts a new trace, as the W3C specification says).
 */
export function parseTraceparent(
  traceparent: string | null,
  tracestate: string | null,
): SpanContext | undefined {
  if (traceparent === null) return undefined;
  const match = TRACEPARENT.exec(traceparent.trim());
  if (!match) return undefined;
  const [, version, traceId, spanId, flags, rest] = match as unknown as [
    string,
    string,
    string,
    string,
    string,
    string | undefined,
  ];
  // Version ff is invalid; version 00 has exactly four fields; later versions may add fields.
  if (version === "ff" || (version === "00" && rest !== undefined)) return undefined;
  if (traceId === INVALID_TRACE_ID || spanId === INVALID_SPAN_ID) return undefined;
  return {
    traceId,
    spanId,
    sampled: (Number.parseInt(flags, 16) & 1) === 1,
    traceState: tracestate === null ? undefined : validTraceState(tracestate),
  };
}

function validTraceState(header: string): string | undefined {
  const members = header
    .split(",")
    .map((member) => member.trim())
    .filter((member) => member.length > 0);
  if (members.length === 0 || members.length > 32) return undefined;
  if (!members.every((member) => TRACESTATE_MEMBER.test(member))) return undefined;
  const joined = members.join(",");
  return joined.length <= MAX_TRACESTATE ? joined : undefined;
}

export function formatTraceparent(context: SpanContext): string {
  return `00-${context.traceId}-${context.spanId}-${context.sampled ? "01" : "00"}`;
}

/** Writes `traceparent` (and `tracestate` when there is one) for an outgoing request. */
export function injectTraceContext(context: SpanContext, headers: Record<string, string>): void {
  headers.traceparent = formatTraceparent(context);
  if (context.traceState) headers.tracestate = context.traceState;
}

export type SamplerName =
  | "always_on"
  | "always_off"
  | "traceidratio"
  | "parentbased_always_on"
  | "parentbased_always_off"
  | "parentbased_traceidratio";

/** Decides whether a new root or server span is recorded, given its trace id and remote parent. */
export type Sampler = (traceId: string, parent: SpanContext | undefined) => boolean;

/**
 * The sampling decision of the traceidratio sampler: the trace id's last 56 bits (random in W3C
 * Trace Context level 2) read as a fraction, so every service sampling at a ratio r keeps the same
 * traces.
 */
export function traceIdRatioSampled(traceId: string, ratio: number): boolean {
  if (ratio >= 1) return true;
  if (ratio <= 0) return false;
  return Number.parseInt(traceId.slice(18), 16) < ratio * 2 ** 56;
}

/** The OpenTelemetry sampler named by OTEL_TRACES_SAMPLER, with OTEL_TRACES_SAMPLER_ARG's ratio. */
export function createSampler(name: SamplerName, ratio: number): Sampler {
  const byRatio = (traceId: string) => traceIdRatioSampled(traceId, ratio);
  switch (name) {
    case "always_on":
      return () => true;
    case "always_off":
      return () => false;
    case "traceidratio":
      return byRatio;
    case "parentbased_always_off":
      return (_traceId, parent) => parent?.sampled ?? false;
    case "parentbased_traceidratio":
      return (traceId, parent) => parent?.sampled ?? byRatio(traceId);
    case "parentbased_always_on":
      return (_traceId, parent) => parent?.sampled ?? true;
  }
}
