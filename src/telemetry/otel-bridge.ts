import type { AsyncLocalStorage } from "node:async_hooks";
import {
  type Context,
  type ContextManager,
  ROOT_CONTEXT,
  type Span,
  SpanKind,
  type SpanOptions,
  type Tracer,
  type TracerProvider,
  trace,
} from "@opentelemetry/api";
import { type ActiveStore, LiveSpan, performanceTime, recordedAttributes } from "./live-span.ts";
import type { SpanStarter } from "./span-starter.ts";

/**
 * The OpenTelemetry API's context, read from the AsyncLocalStorage the service's tracer writes. The
 * service's own spans are stored bare (no Context object per span on the hot path); a Context is
 * made only when a library asks for one.
 */
class ContextBridge implements ContextManager {
  constructor(private readonly store: AsyncLocalStorage<ActiveStore>) {}

  active(): Context {
    const current = this.store.getStore();
    if (current === undefined) return ROOT_CONTEXT;
    return current instanceof LiveSpan ? trace.setSpan(ROOT_CONTEXT, current) : current;
  }

  with<A extends unknown[], F extends (...args: A) => ReturnType<F>>(
    context: Context,
    fn: F,
    thisArg?: ThisParameterType<F>,
    ...args: A
  ): ReturnType<F> {
    return this.store.run(context, () => fn.apply(thisArg, args));
  }

  /** Functions only: the API's own managers also patch event emitters, which nothing here gives out. */
  bind<T>(context: Context, target: T): T {
    if (typeof target !== "function") return target;
    const run = (thisArg: unknown, args: unknown[]) =>
      this.with(context, target as never, thisArg as never, ...args);
    return function bound(this: unknown, ...args: unknown[]) {
      return run(this, args);
    } as T;
  }

  enable(): this {
    return this;
  }

  /** The storage belongs to the service's tracer, which keeps using it: nothing to switch off here. */
  disable(): this {
    return this;
  }
}

/** The OTLP span kinds are the API's, counted from 1 (INTERNAL) instead of 0. */
const otlpKind = (kind: SpanKind | undefined) => (kind ?? SpanKind.INTERNAL) + 1;

/**
 * What `trace.getTracer()` hands out: spans of the service's tracer, so a library's span made inside
 * a request is a child of the server span and leaves through the same batcher. Every library shares
 * the service's instrumentation scope (the encoder writes one per export).
 */
class BridgeTracer implements Tracer {
  constructor(
    private readonly starter: SpanStarter,
    private readonly context: ContextBridge,
  ) {}

  startSpan(name: string, options: SpanOptions = {}, context: Context = this.context.active()): Span {
    const attributes = options.attributes ? recordedAttributes(options.attributes) : {};
    const parent = options.root ? undefined : trace.getSpan(context);
    const span = this.starter.under(parent, name, otlpKind(options.kind), attributes);
    if (options.startTime !== undefined) span.start = performanceTime(options.startTime);
    return span;
  }

  startActiveSpan<F extends (span: Span) => unknown>(name: string, ...rest: unknown[]): ReturnType<F> {
    const fn = rest[rest.length - 1] as F;
    const options = rest.length > 1 ? (rest[0] as SpanOptions) : undefined;
    const context = rest.length > 2 ? (rest[1] as Context) : this.context.active();
    const span = this.startSpan(name, options, context);
    return this.context.with(trace.setSpan(context, span), () => fn(span) as ReturnType<F>);
  }
}

/** The OpenTelemetry API's view of the service's tracer: what it registers globally. */
export interface OtelBridge {
  readonly provider: TracerProvider;
  readonly contextManager: ContextManager;
}

export function createOtelBridge(starter: SpanStarter, store: AsyncLocalStorage<ActiveStore>): OtelBridge {
  const contextManager = new ContextBridge(store);
  const tracer = new BridgeTracer(starter, contextManager);
  return { provider: { getTracer: () => tracer }, contextManager };
}
