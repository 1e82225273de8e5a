import { describe, expect, test } from "bun:test";
import {
  createSampler,
  formatTraceparent,
  injectTraceContext,
  newSpanId,
  newTraceId,
  parseTraceparent,
  traceIdRatioSampled,
} from "../../../src/telemetry/trace-context.ts";
import { randomnessOf } from "../../support/span-ids.ts";

const TRACE = "0af7651916cd43dd8448eb211c80319c";
const SPAN = "b7ad6b7169203331";

describe("W3C traceparent", () => {
  test("a valid header continues the caller's trace, with its sampled flag", () => {
    expect(parseTraceparent(`00-${TRACE}-${SPAN}-01`, null)).toEqual({
      traceId: TRACE,
      spanId: SPAN,
      sampled: true,
      traceState: undefined,
    });
    expect(parseTraceparent(`00-${TRACE}-${SPAN}-00`, null)?.sampled).toBe(false);
    // Only bit 0 is "sampled"; other flag bits are ignored.
    expect(parseTraceparent(`00-${TRACE}-${SPAN}-02`, null)?.sampled).toBe(false);
    expect(parseTraceparent(`00-${TRACE}-${SPAN}-03`, null)?.sampled).toBe(true);
    expect(parseTraceparent(`  00-${TRACE}-${SPAN}-01 `, null)?.traceId).toBe(TRACE);
  });

  test("malformed headers start a new trace instead", () => {
    for (const header of [
      "",
      "garbage",
      `00-${TRACE.toUpperCase()}-${SPAN}-01`,
      `00-${TRACE}-${SPAN}-1`,
      `00-${TRACE.slice(1)}-${SPAN}-01`,
      `00-${TRACE}-${SPAN}0-01`,
      `00-${"0".repeat(32)}-${SPAN}-01`,
      `00-${TRACE}-${"0".repeat(16)}-01`,
      `ff-${TRACE}-${SPAN}-01`,
      `00-${TRACE}-${SPAN}-01-extra`,
      `00-${TRACE}-${SPAN}-01, 00-${TRACE}-${SPAN}-01`,
    ]) {
      expect(parseTraceparent(header, null)).toBeUndefined();
    }
    expect(parseTraceparent(null, "vendor=value")).toBeUndefined();
  });

  test("a later version may carry more fields, and its first four are used", () => {
    expect(parseTraceparent(`01-${TRACE}-${SPAN}-01-future`, null)?.spanId).toBe(SPAN);
  });

  test("tracestate is kept when well formed and dropped when not", () => {
    const parent = `00-${TRACE}-${SPAN}-01`;
    expect(parseTraceparent(parent, "congo=t61rcWkgMzE, rojo=00f067aa0ba902b7")?.traceState).toBe(
      "congo=t61rcWkgMzE,rojo=00f067aa0ba902b7",
    );
    expect(parseTraceparent(parent, "tenant@vendor=x")?.traceState).toBe("tenant@vendor=x");
    expect(parseTraceparent(parent, "Upper=x")?.traceState).toBeUndefined();
    expect(parseTraceparent(parent, "novalue")?.traceState).toBeUndefined();
    const tooMany = Array.from({ length: 33 }, (_, i) => `k${i}=v`).join(",");
    expect(parseTraceparent(parent, tooMany)?.traceState).toBeUndefined();
    expect(
      parseTraceparent(parent, `k=${"v".repeat(250)},j=${"v".repeat(250)},l=${"v".repeat(20)}`)?.traceState,
    ).toBeUndefined();
  });

  test("outgoing headers carry the span's own id and the sampled flag", () => {
    const context = { traceId: TRACE, spanId: SPAN, sampled: false, traceState: "a=b" };
    expect(formatTraceparent(context)).toBe(`00-${TRACE}-${SPAN}-00`);
    const headers: Record<string, string> = {};
    injectTraceContext(context, headers);
    expect(headers).toEqual({ traceparent: `00-${TRACE}-${SPAN}-00`, tracestate: "a=b" });
    const plain: Record<string, string> = {};
    injectTraceContext({ ...context, sampled: true, traceState: undefined }, plain);
    expect(plain).toEqual({ traceparent: `00-${TRACE}-${SPAN}-01` });
  });
});

describe("ids", () => {
  test("trace and span ids are random lowercase hex of the W3C lengths, never all zero", () => {
    const traces = new Set(Array.from({ length: 5000 }, newTraceId));
    const spans = new Set(Array.from({ length: 5000 }, newSpanId));
    expect(traces.size).toBe(5000);
    expect(spans.size).toBe(5000);
    for (const id of traces) expect(id).toMatch(/^[0-9a-f]{32}$/);
    for (const id of spans) expect(id).toMatch(/^[0-9a-f]{16}$/);
    expect(traces.has("0".repeat(32))).toBe(false);
  });
});

describe("samplers (OTEL_TRACES_SAMPLER)", () => {
  const sampled = { traceId: TRACE, spanId: SPAN, sampled: true, traceState: undefined };
  const unsampled = { ...sampled, sampled: false };

  test("always_on and always_off ignore the parent", () => {
    expect(createSampler("always_on", 1)(randomnessOf(TRACE), unsampled)).toBe(true);
    expect(createSampler("always_off", 1)(randomnessOf(TRACE), sampled)).toBe(false);
  });

  test("parent-based samplers follow a remote parent and apply their root sampler otherwise", () => {
    for (const name of [
      "parentbased_always_on",
      "parentbased_always_off",
      "parentbased_traceidratio",
    ] as const) {
      const sampler = createSampler(name, 0.5);
      expect(sampler(randomnessOf(TRACE), sampled)).toBe(true);
      expect(sampler(randomnessOf(TRACE), unsampled)).toBe(false);
    }
    expect(createSampler("parentbased_always_on", 0)(randomnessOf(TRACE), undefined)).toBe(true);
    expect(createSampler("parentbased_always_off", 1)(randomnessOf(TRACE), undefined)).toBe(false);
  });

  test("traceidratio keeps about the given share of traces, the same ones every time", () => {
    const ids = Array.from({ length: 20_000 }, newTraceId);
    const kept = ids.filter((id) => traceIdRatioSampled(id, 0.25));
    expect(kept.length / ids.length).toBeGreaterThan(0.22);
    expect(kept.length / ids.length).toBeLessThan(0.28);
    expect(ids.filter((id) => traceIdRatioSampled(id, 0.25))).toEqual(kept);
    // A trace kept at a lower ratio is kept at every higher one.
    for (const id of ids.filter((id) => traceIdRatioSampled(id, 0.1))) {
      expect(traceIdRatioSampled(id, 0.25)).toBe(true);
    }
    expect(ids.some((id) => traceIdRatioSampled(id, 0))).toBe(false);
    expect(ids.every((id) => traceIdRatioSampled(id, 1))).toBe(true);
    const sampler = createSampler("traceidratio", 0.25);
    expect(ids.filter((id) => sampler(randomnessOf(id), undefined))).toEqual(kept);
  });
});
