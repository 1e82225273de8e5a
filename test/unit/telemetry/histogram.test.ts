import { describe, expect, test } from "bun:test";
import { HistogramTally } from "../../../src/telemetry/tally.ts";

describe("HistogramTally (pre-aggregated, exported through a MetricProducer)", () => {
  const descriptor = { name: "h", description: "d", unit: "s" };

  test("buckets have inclusive upper bounds, with one more bucket above the last bound", () => {
    const histogram = new HistogramTally(descriptor, [1, 2, 5]);
    for (const value of [0, 1, 1.5, 2, 4.9, 5, 5.1, 100])
      histogram.record("a", () => ({ route: "/a" }), value);
    const [series] = histogram.snapshot().series;
    expect(series?.counts).toEqual([2, 2, 2, 2]);
    expect(series?.count).toBe(8);
    expect(series?.sum).toBeCloseTo(119.5);
    expect(series?.min).toBe(0);
    expect(series?.max).toBe(100);
  });

  test("one series per key; attributes are built once, on a key's first value", () => {
    const histogram = new HistogramTally(descriptor, [1]);
    let built = 0;
    const attributes = (route: string) => () => {
      built++;
      return { route };
    };
    histogram.record("GET /a", attributes("/a"), 0.5);
    histogram.record("GET /a", attributes("/a"), 2);
    histogram.record("GET /b", attributes("/b"), 0.5);
    expect(built).toBe(2);
    const snapshot = histogram.snapshot();
    expect(snapshot).toMatchObject({ name: "h", description: "d", unit: "s", boundaries: [1] });
    expect(snapshot.series.map((series) => [series.attributes.route, series.counts])).toEqual([
      ["/a", [1, 1]],
      ["/b", [1, 0]],
    ]);
  });

  test("a snapshot is a copy: later values do not change what was handed to the exporter", () => {
    const histogram = new HistogramTally(descriptor, [1]);
    histogram.record("k", () => ({}), 0.5);
    const first = histogram.snapshot();
    histogram.record("k", () => ({}), 0.5);
    expect(first.series[0]?.counts).toEqual([1, 0]);
    expect(histogram.snapshot().series[0]?.counts).toEqual([2, 0]);
  });
});
