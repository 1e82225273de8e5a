import { type Span as ApiSpan, isSpanContextValid, TraceFlags } from "@opentelemetry/api";
import { LiveSpan, type SpanSink, type TraceOf } from "./live-span.ts";
import type { SpanAttributes } from "./span-encoding.ts";
import { hexWord, randomWord, type Sampler, type SpanContext, traceRandomness } from "./trace-context.ts";

/**
 * Where every span starts, the service's own and the libraries' alike: a child of a span of this
 * tracer, a continuation of a context from elsewhere (a caller's traceparent, a context a library
 * made), or a new trace; the sampler decides for the last two.
 */
export class SpanStarter {
  /** A new or continued trace, in an object reused for every root span (the span copies it at once). */
  private readonly next = {
    t0: 0,
    t1: 0,
    t2: 0,
    t3: 0,
    traceState: undefined as string | undefined,
    sampled: false,
  };

  constructor(
    private readonly sink: SpanSink,
    private readonly sampler: Sampler,
  ) {}

  /** A span continuing `parent` (from another process when `remote`), or starting a new trace. */
  continuing(
    parent: SpanContext | undefined,
    remote: boolean,
    name: string,
    kind: number,
    attributes: SpanAttributes,
  ): LiveSpan {
    const trace = this.trace(parent);
    if (!parent) return new LiveSpan(this.sink, trace, false, 0, 0, false, name, kind, attributes);
    const p0 = hexWord(parent.spanId, 0);
    const p1 = hexWord(parent.spanId, 1);
    return new LiveSpan(this.sink, trace, true, p0, p1, remote, name, kind, attributes);
  }

  /** A span under whatever span is active: ours (the common case), another tracer's, or none. */
  under(parent: ApiSpan | undefined, name: string, kind: number, attributes: SpanAttributes): LiveSpan {
    if (parent instanceof LiveSpan) return parent.child(name, kind, attributes);
    const context = parent?.spanContext();
    if (!context || !isSpanContextValid(context))
      return this.continuing(undefined, false, name, kind, attributes);
    const continued: SpanContext = {
      traceId: context.traceId,
      spanId: context.spanId,
      sampled: (context.traceFlags & TraceFlags.SAMPLED) === TraceFlags.SAMPLED,
      traceState: context.traceState?.serialize() || undefined,
    };
    return this.continuing(continued, context.isRemote === true, name, kind, attributes);
  }

  private trace(parent: SpanContext | undefined): TraceOf {
    const next = this.next;
    if (parent) {
      next.t0 = hexWord(parent.traceId, 0);
      next.t1 = hexWord(parent.traceId, 1);
      next.t2 = hexWord(parent.traceId, 2);
      next.t3 = hexWord(parent.traceId, 3);
      next.traceState = parent.traceState;
    } else {
      next.t0 = randomWord();
      next.t1 = randomWord();
      next.t2 = randomWord();
      next.t3 = randomWord() || 1;
      next.traceState = undefined;
    }
    next.sampled = this.sampler(traceRandomness(next.t2, next.t3), parent);
    return next;
  }
}
