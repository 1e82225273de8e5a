import type { FinishedSpan } from "../../src/telemetry/span-encoding.ts";
import { hexWord, traceRandomness, wordsToHex } from "../../src/telemetry/trace-context.ts";

/** The id words of a FinishedSpan from hex ids, for spans built by hand in tests. */
export function idWords(traceId: string, spanId: string, parentSpanId?: string) {
  return {
    t0: hexWord(traceId, 0),
    t1: hexWord(traceId, 1),
    t2: hexWord(traceId, 2),
    t3: hexWord(traceId, 3),
    s0: hexWord(spanId, 0),
    s1: hexWord(spanId, 1),
    p0: parentSpanId ? hexWord(parentSpanId, 0) : 0,
    p1: parentSpanId ? hexWord(parentSpanId, 1) : 0,
    hasParent: parentSpanId !== undefined,
  };
}

/** A FinishedSpan's ids in hex. */
export function hexIds(span: FinishedSpan) {
  return {
    traceId: wordsToHex(span.t0, span.t1, span.t2, span.t3),
    spanId: wordsToHex(span.s0, span.s1),
    parentSpanId: span.hasParent ? wordsToHex(span.p0, span.p1) : undefined,
  };
}

/** What a sampler is given for a hex trace id. */
export const randomnessOf = (traceId: string) => traceRandomness(hexWord(traceId, 2), hexWord(traceId, 3));
