import { describe, expect, test } from "bun:test";
import {
  createSampler,
  formatTraceparent,
  injectTraceContext,
  parseTraceparent,
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
    // Random ids as the W3C specification wants them: the last 56 bits are random.
    const ids = Array.from({ length: 20_000 }, () =>
      Buffer.from(crypto.getRandomValues(new Uint8Array(16))).toString("hex"),
    );
    const keptAt = (ratio: number) => {
      const sampler = createSampler("traceidratio", ratio);
      return ids.filter((id) => sampler(randomnessOf(id), undefined));
    };
    const kept = keptAt(0.25);
    expect(kept.length / ids.length).toBeGreaterThan(0.22);
    expect(kept.length / ids.length).toBeLessThan(0.28);
    expect(keptAt(0.25)).toEqual(kept);
    // A trace kept at a lower ratio is kept at every higher one.
    const keptAtTenth = new Set(keptAt(0.1));
    expect(keptAtTenth.size).toBeGreaterThan(0);
    expect(kept.filter((id) => keptAtTenth.has(id))).toHaveLength(keptAtTenth.size);
    expect(keptAt(0)).toHaveLength(0);
    expect(keptAt(1)).toHaveLength(ids.length);
  });
});
