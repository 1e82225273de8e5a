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
 * Ids are held as 32-bit words, most significant first (the order of their hex form): a random id
 * costs a few reads from a pool the system CSPRNG refills, and no string at all until one is needed
 * (a traceparent for Kong, a log line). The encoder writes the words as the id's bytes.
 */
const POOL_WORDS = 1024;
const pool = new Uint32Array(POOL_WORDS);
let poolIndex = POOL_WORDS;

export function randomWord(): number {
  if (poolIndex >= POOL_WORDS) {
    crypto.getRandomValues(pool);
    poolIndex = 0;
  }
  return pool[poolIndex++] as number;
}

/** Lowercase hex of 32-bit words, eight digits each. */
export function wordsToHex(...words: number[]): string {
  let hex = "";
  for (const word of words) hex += word.toString(16).padStart(8, "0");
  return hex;
}

/** Word `index` (0 = most significant) of a lowercase hex id. */
export function hexWord(hex: string, index: number): number {
  return Number.parseInt(hex.slice(index * 8, index * 8 + 8), 16);
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

/**
 * Decides whether a new root or server span is recorded, given its trace id's randomness (see
 * `traceRandomness`) and the caller's context.
 */
export type Sampler = (randomness: number, parent: SpanContext | undefined) => boolean;

const TWO_56 = 2 ** 56;

/**
 * The last 56 bits of a trace id (random in W3C Trace Context level 2), from its last two words, as a
 * number in [0, 2^56): exact to a few units, plenty for comparing with a ratio.
 */
export function traceRandomness(word2: number, word3: number): number {
  return (word2 % 0x1000000) * 2 ** 32 + word3;
}

/**
 * The sampling decision of the traceidratio sampler: the trace id's randomness read as a fraction,
 * so every service sampling at a ratio r keeps the same traces.
 */
function ratioSampled(randomness: number, ratio: number): boolean {
  if (ratio >= 1) return true;
  if (ratio <= 0) return false;
  return randomness < ratio * TWO_56;
}

/** The OpenTelemetry sampler named by OTEL_TRACES_SAMPLER, with OTEL_TRACES_SAMPLER_ARG's ratio. */
export function createSampler(name: SamplerName, ratio: number): Sampler {
  const byRatio = (randomness: number) => ratioSampled(randomness, ratio);
  switch (name) {
    case "always_on":
      return () => true;
    case "always_off":
      return () => false;
    case "traceidratio":
      return byRatio;
    case "parentbased_always_off":
      return (_randomness, parent) => parent?.sampled ?? false;
    case "parentbased_traceidratio":
      return (randomness, parent) => parent?.sampled ?? byRatio(randomness);
    case "parentbased_always_on":
      return (_randomness, parent) => parent?.sampled ?? true;
  }
}
