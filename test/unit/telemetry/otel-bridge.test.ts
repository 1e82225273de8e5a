import { describe, expect, test } from "bun:test";
import { ROOT_CONTEXT, SpanKind, SpanStatusCode, TraceFlags, trace } from "@opentelemetry/api";
import { type FinishedSpan, SpanKindCode, StatusCode } from "../../../src/telemetry/span-encoding.ts";
import { createSampler, type SamplerName } from "../../../src/telemetry/trace-context.ts";
import { createTracing } from "../../../src/telemetry/tracing.ts";
import { hexIds } from "../../support/span-ids.ts";

type Ended = FinishedSpan & ReturnType<typeof hexIds> & { end: number };

const TRACE = "0af7651916cd43dd8448eb211c80319c";
const PARENT = "b7ad6b7169203331";

function tracer(sampler: SamplerName = "parentbased_always_on") {
  const ended: Ended[] = [];
  const tracing = createTracing(
    { add: (span, end) => ended.push({ ...span, ...hexIds(span), end }) },
    createSampler(sampler, 1),
  );
  const library = tracing.provider.getTracer("a-library", "2.0.0");
  return { tracing, library, ended, byName: (name: string) => ended.find((span) => span.name === name) };
}

const request = (headers: Record<string, string> = {}) =>
  new Request("http://127.0.0.1:3000/tokens", { headers });

describe("the service's tracer through the OpenTelemetry API", () => {
  test("startActiveSpan inside a request: a child of the server span, active for the code it runs", async () => {
    const { tracing, library, byName } = tracer();
    await tracing.server(request({ traceparent: `00-${TRACE}-${PARENT}-01` }), "/tokens", "r", () =>
      library.startActiveSpan("library.call", { kind: SpanKind.PRODUCER }, async (span) => {
        expect(trace.getSpan(tracing.contextManager.active())).toBe(span);
        expect(span.isRecording()).toBe(true);
        expect(span.spanContext()).toMatchObject({ traceId: TRACE, traceFlags: TraceFlags.SAMPLED });
        await new Promise((resolve) => setImmediate(resolve));
        await tracing.internal("service.step", {}, async () => {});
        span.end();
        return new Response("ok");
      }),
    );
    const server = byName("GET /tokens") as Ended;
    const call = byName("library.call") as Ended;
    expect(call.parentSpanId).toBe(server.spanId);
    expect(call.traceId).toBe(TRACE);
    expect(call.kind).toBe(SpanKindCode.INTERNAL + SpanKind.PRODUCER);
    expect(byName("service.step")?.parentSpanId).toBe(call.spanId);
    expect(tracing.contextManager.active()).toBe(ROOT_CONTEXT);
  });

  test("a context a library makes: root spans, bound callbacks, and another tracer's parent", async () => {
    const { tracing, library, byName } = tracer();
    const manager = tracing.contextManager;
    const remote = trace.wrapSpanContext({
      traceId: TRACE,
      spanId: PARENT,
      traceFlags: TraceFlags.SAMPLED,
      isRemote: true,
    });
    let later: (() => void) | undefined;
    await tracing.server(request(), "/tokens", "r", async () => {
      library.startSpan("library.root", { root: true }).end();
      manager.with(ROOT_CONTEXT, () => library.startSpan("outside").end());
      manager.with(trace.setSpan(ROOT_CONTEXT, remote), () => {
        tracing.leaf("under.remote", {}, () => undefined);
        later = manager.bind(manager.active(), () => library.startSpan("bound").end());
      });
      return new Response("ok");
    });
    later?.();
    const server = byName("GET /tokens") as Ended;
    for (const name of ["library.root", "outside"]) {
      expect(byName(name)?.parentSpanId).toBeUndefined();
      expect(byName(name)?.traceId).not.toBe(server.traceId);
    }
    const underRemote = byName("under.remote") as Ended;
    expect(underRemote.traceId).toBe(TRACE);
    expect(underRemote.parentSpanId).toBe(PARENT);
    expect(underRemote.parentIsRemote).toBe(true);
    expect(byName("bound")?.parentSpanId).toBe(PARENT);
  });

  test("what a library records: attributes the encoder can carry, events, status, name, times", () => {
    const { library, byName } = tracer();
    const span = library.startSpan("first name", {
      attributes: { kept: "yes", sizes: [1, null, 3], dropped: { nested: true } as never },
      startTime: performance.timeOrigin + 10,
    });
    span.setAttributes({ count: 2, unset: undefined });
    const wholeMs = Math.round(performance.timeOrigin) + 12; // a Date holds whole milliseconds
    span.addEvent("retry", { attempt: 1 }, new Date(wholeMs));
    span.addEvent("at", 13);
    span.recordException(new RangeError("too far"));
    span.setStatus({ code: SpanStatusCode.ERROR, message: "failed" });
    span.updateName("second name");
    span.end([
      Math.floor((performance.timeOrigin + 20) / 1000),
      ((performance.timeOrigin + 20) % 1000) * 1e6,
    ]);
    span.setAttribute("after", "end");
    span.end();

    const ended = byName("second name") as Ended;
    expect(ended.attributes).toEqual({ kept: "yes", sizes: [1, null, 3], count: 2 });
    expect(ended.start).toBeCloseTo(10, 3);
    expect(ended.end).toBeCloseTo(20, 3);
    expect(ended.events?.map((event) => [event.name, event.time])).toEqual([
      ["retry", expect.closeTo(wholeMs - performance.timeOrigin, 3)],
      ["at", 13],
      ["exception", expect.any(Number)],
    ]);
    expect(ended.events?.[0]?.attributes).toEqual({ attempt: 1 });
    expect(ended.events?.[2]?.attributes).toMatchObject({
      "exception.type": "RangeError",
      "exception.message": "too far",
    });
    expect(ended.statusCode).toBe(StatusCode.ERROR);
    expect(ended.statusMessage).toBe("failed");
  });

  test("an exception given as a string or an object; OK carries no message", () => {
    const { library, byName } = tracer();
    const span = library.startSpan("s");
    span.recordException("plain text");
    span.recordException({ name: "KongError", message: "refused", code: 401 });
    span.setStatus({ code: SpanStatusCode.OK, message: "ignored" });
    span.end();
    const ended = byName("s") as Ended;
    expect(ended.events?.map((event) => event.attributes)).toEqual([
      expect.objectContaining({ "exception.type": "Error", "exception.message": "plain text" }),
      { "exception.type": "KongError", "exception.message": "refused" },
    ]);
    expect(ended.statusCode).toBe(StatusCode.OK);
    expect(ended.statusMessage).toBeUndefined();
  });

  test("a trace that is not sampled: ids and context, nothing recorded or exported", async () => {
    const { tracing, library, ended } = tracer();
    await tracing.server(request({ traceparent: `00-${TRACE}-${PARENT}-00` }), "/tokens", "r", () =>
      library.startActiveSpan("unsampled", (span) => {
        span.setAttribute("a", 1).addEvent("e").setStatus({ code: SpanStatusCode.ERROR });
        expect(span.isRecording()).toBe(false);
        expect(span.spanContext()).toMatchObject({ traceId: TRACE, traceFlags: TraceFlags.NONE });
        expect(tracing.activeIds()).toMatchObject({ traceId: TRACE, sampled: false });
        span.end();
        return new Response("ok");
      }),
    );
    expect(ended).toHaveLength(0);
  });

  test("the caller's tracestate is in the API's span context", () => {
    const { tracing, library } = tracer();
    tracing.server(
      request({ traceparent: `00-${TRACE}-${PARENT}-01`, tracestate: "congo=t61rcWkgMzE" }),
      "/tokens",
      "r",
      () => {
        const span = library.startSpan("s");
        expect(span.spanContext().traceState?.get("congo")).toBe("t61rcWkgMzE");
        return new Response("ok");
      },
    );
  });
});
