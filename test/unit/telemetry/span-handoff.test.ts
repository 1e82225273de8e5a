import { describe, expect, test } from "bun:test";
import { ROOT_CONTEXT, SpanKind, SpanStatusCode, TraceFlags, trace } from "@opentelemetry/api";
import { TraceState } from "@opentelemetry/core";
import { JsonTraceSerializer } from "@opentelemetry/otlp-transformer";
import { resourceFromAttributes } from "@opentelemetry/resources";
import { AlwaysOnSampler, type ReadableSpan, TracerProvider } from "@opentelemetry/sdk-trace";
import {
  type FromWorker,
  readSpans,
  SpanBatchWriter,
  type ToWorker,
  WorkerSpanProcessor,
} from "../../../src/telemetry/span-handoff.ts";

const resource = resourceFromAttributes({ "service.name": "handoff-test", "service.version": "1.2.3" });

/** Real SDK spans, recorded by a provider whose processor keeps them. */
function recordSpans(make: (tracer: ReturnType<TracerProvider["getTracer"]>) => void): ReadableSpan[] {
  const ended: ReadableSpan[] = [];
  const provider = new TracerProvider({
    resource,
    sampler: new AlwaysOnSampler(),
    spanProcessors: [
      {
        onStart() {},
        onEnd: (span: ReadableSpan) => ended.push(span),
        forceFlush: async () => {},
        shutdown: async () => {},
      },
    ],
  });
  make(provider.getTracer("authentication-service", "9.9.9"));
  return ended;
}

/** What an OTLP collector would receive for these spans, as the official JSON serializer writes it. */
function otlpOf(spans: ReadableSpan[]): unknown {
  return JSON.parse(new TextDecoder().decode(JsonTraceSerializer.serializeRequest(spans)));
}

function roundTrip(spans: ReadableSpan[]): ReadableSpan[] {
  const writer = new SpanBatchWriter(8);
  const scopes = [spans[0]?.instrumentationScope ?? { name: "none" }];
  for (const span of spans) writer.write(span, 0);
  const batch = writer.take();
  expect(batch.count).toBe(spans.length);
  return readSpans(batch, {
    resource,
    scopes,
    parseTraceState: (serialized) => new TraceState(serialized),
  });
}

describe("span hand-off to the export worker", () => {
  test("a span read back serializes to exactly the OTLP of the original", () => {
    const spans = recordSpans((tracer) => {
      const remoteParent = trace.setSpanContext(ROOT_CONTEXT, {
        traceId: "0af7651916cd43dd8448eb211c80319c",
        spanId: "b7ad6b7169203331",
        traceFlags: TraceFlags.SAMPLED,
        isRemote: true,
        traceState: new TraceState("vendor=opaque,other=1"),
      });
      const server = tracer.startSpan(
        "GET /tokens",
        {
          kind: SpanKind.SERVER,
          attributes: {
            "http.request.method": "GET",
            "url.path": '/tokens/ünïcödé \u0000 "quoted"',
            "http.response.status_code": 200,
            ratio: 0.125,
            "cache.hit": true,
            list: ["a", "b"],
            numbers: [1, 2.5],
          },
          links: [
            {
              context: {
                traceId: "11111111111111111111111111111111",
                spanId: "2222222222222222",
                traceFlags: TraceFlags.NONE,
                traceState: new TraceState("k=v"),
              },
              attributes: { why: "batch" },
            },
          ],
        },
        remoteParent,
      );
      server.addEvent("cache.miss", { tier: "memory" });
      server.recordException(new Error("boom"));
      server.setStatus({ code: SpanStatusCode.ERROR, message: "failed: ünïcödé" });
      const child = tracer.startSpan(
        "jwt.sign",
        { kind: SpanKind.INTERNAL },
        trace.setSpan(ROOT_CONTEXT, server),
      );
      child.end();
      server.end();
      const bare = tracer.startSpan("no attributes", {}, ROOT_CONTEXT);
      bare.end();
    });
    expect(spans).toHaveLength(3);

    const copies = roundTrip(spans);

    expect(otlpOf(copies)).toEqual(otlpOf(spans));
    const [child, server] = copies;
    expect(server?.parentSpanContext?.isRemote).toBe(true);
    expect(server?.spanContext().traceState?.get("vendor")).toBe("opaque");
    expect(child?.parentSpanContext?.spanId).toBe(server?.spanContext().spanId);
    expect(server?.duration).toEqual(spans[1]?.duration as [number, number]);
    expect(server?.ended).toBe(true);
  });

  test("an empty batch reads back as no spans", () => {
    const writer = new SpanBatchWriter();
    const batch = writer.take();
    expect(batch.count).toBe(0);
    expect(readSpans(batch, { resource, scopes: [], parseTraceState: (s) => new TraceState(s) })).toEqual([]);
  });

  test("the writer grows past its initial capacity and starts afresh after take()", () => {
    const spans = recordSpans((tracer) => {
      for (let i = 0; i < 50; i++) tracer.startSpan(`span ${i}`, { attributes: { i } }, ROOT_CONTEXT).end();
    });
    const copies = roundTrip(spans);
    expect(copies.map((span) => span.name)).toEqual(spans.map((span) => span.name));
    expect(copies.map((span) => span.attributes.i)).toEqual(spans.map((_, i) => i));
  });
});

describe("WorkerSpanProcessor", () => {
  function harness(options = { batchSize: 3, maxQueueSize: 100, delayMs: 10_000 }) {
    const posted: ToWorker[] = [];
    const processor = new WorkerSpanProcessor({ postMessage: (message) => posted.push(message) }, options);
    const spans = (n: number) =>
      recordSpans((tracer) => {
        for (let i = 0; i < n; i++) tracer.startSpan(`s${i}`, {}, ROOT_CONTEXT).end();
      });
    const batches = () => posted.filter((message) => message.type === "spans");
    return { processor, posted, spans, batches };
  }

  test("sends full batches at once, with the instrumentation scope only the first time", () => {
    const { processor, spans, batches } = harness();
    for (const span of spans(7)) processor.onEnd(span);
    // Two full batches of 3; the 7th span waits for the next batch or the delay.
    expect(batches().map((batch) => batch.count)).toEqual([3, 3]);
    expect(batches()[0]?.newScopes.map((scope) => scope.name)).toEqual(["authentication-service"]);
    expect(batches()[1]?.newScopes).toEqual([]);
  });

  test("spans that are not sampled are not sent", () => {
    const { processor, spans, batches } = harness();
    for (const span of spans(3)) {
      const context = span.spanContext();
      processor.onEnd({ ...span, spanContext: () => ({ ...context, traceFlags: TraceFlags.NONE }) });
    }
    expect(batches()).toEqual([]);
  });

  test("beyond maxQueueSize spans the worker has not taken, new spans are dropped and counted", () => {
    const { processor, spans, batches } = harness({ batchSize: 3, maxQueueSize: 6, delayMs: 10_000 });
    for (const span of spans(9)) processor.onEnd(span);
    // 3 + 3 sent and not yet accepted fill the queue of 6: the last 3 are dropped.
    expect(batches().map((batch) => batch.count)).toEqual([3, 3]);
    expect(processor.dropped).toBe(3);

    processor.receive({ type: "accepted", count: 6 } satisfies FromWorker);
    for (const span of spans(3)) processor.onEnd(span);
    expect(batches().map((batch) => batch.count)).toEqual([3, 3, 3]);
    expect(processor.dropped).toBe(3);
  });

  test("forceFlush sends the partial batch and resolves when the worker says it is done", async () => {
    const { processor, posted, spans, batches } = harness();
    for (const span of spans(2)) processor.onEnd(span);
    let flushed = false;
    const flush = processor.forceFlush().then(() => {
      flushed = true;
    });
    expect(batches().map((batch) => batch.count)).toEqual([2]);
    const request = posted.at(-1);
    expect(request?.type).toBe("flush");
    await Bun.sleep(1);
    expect(flushed).toBe(false);
    processor.receive({ type: "done", id: (request as { id: number }).id });
    await flush;
    expect(flushed).toBe(true);
  });

  test("a partial batch is sent after the delay", async () => {
    const { processor, spans, batches } = harness({ batchSize: 100, maxQueueSize: 1000, delayMs: 5 });
    for (const span of spans(2)) processor.onEnd(span);
    expect(batches()).toEqual([]);
    await Bun.sleep(30);
    expect(batches().map((batch) => batch.count)).toEqual([2]);
  });

  test("after shutdown nothing more is sent; abandon() settles what waits on a dead worker", async () => {
    const { processor, posted, spans, batches } = harness();
    const shutdown = processor.shutdown();
    expect(posted.at(-1)?.type).toBe("shutdown");
    processor.abandon();
    await shutdown;
    for (const span of spans(5)) processor.onEnd(span);
    expect(batches()).toEqual([]);
  });
});
