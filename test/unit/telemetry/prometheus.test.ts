import { describe, expect, test } from "bun:test";
import * as sdkMetrics from "@opentelemetry/sdk-metrics";
import {
  createPrometheusReader,
  EXPOSITION_CONTENT_TYPES,
  toOpenMetrics,
} from "../../../src/telemetry/prometheus.ts";

function meterWithExposition() {
  const { reader, exposition } = createPrometheusReader(sdkMetrics, []);
  const provider = new sdkMetrics.MeterProvider({ readers: [reader] });
  return { meter: provider.getMeter("unit-test"), exposition };
}

describe("the Prometheus exposition of OpenTelemetry metrics", () => {
  test("unit suffixes: seconds and bytes appended once, ratio only on gauges, other units dropped", async () => {
    const { meter, exposition } = meterWithExposition();
    meter.createHistogram("lookup.latency", { unit: "s" }).record(0.1);
    meter.createHistogram("response_time_seconds", { unit: "s" }).record(0.1);
    meter.createCounter("payload", { unit: "By" }).add(3);
    meter.createObservableGauge("busy", { unit: "1" }).addCallback((result) => result.observe(0.5));
    meter.createCounter("things", { unit: "1" }).add(1);
    meter.createCounter("packets", { unit: "{packets}" }).add(2);
    meter.createCounter("elapsed", { unit: "ms" }).add(2);
    const text = await exposition.render("prometheus");
    expect(text).toContain("# TYPE lookup_latency_seconds histogram");
    expect(text).toContain("# TYPE response_time_seconds histogram");
    expect(text).not.toContain("response_time_seconds_seconds");
    expect(text).toContain("# TYPE payload_bytes_total counter");
    expect(text).toContain("# TYPE busy_ratio gauge");
    expect(text).toContain("# TYPE things_total counter");
    expect(text).toContain("# TYPE packets_total counter");
    expect(text).toContain("# TYPE elapsed_milliseconds_total counter");
    expect(text).toContain("# UNIT payload_bytes_total bytes");
    expect(text).not.toContain("{packets}");
    expect(text).not.toMatch(/# UNIT (things|packets)/);
  });

  test("OpenMetrics: counter families without _total, other families untouched, free comments dropped, # EOF last", () => {
    const text = [
      "# HELP a_total Things",
      "# UNIT a_total bytes",
      "# TYPE a_total counter",
      'a_total{x="1"} 3',
      "# HELP b_total A gauge whose name ends like a counter",
      "# TYPE b_total gauge",
      "b_total 1",
      "# no registered metrics",
      "",
    ].join("\n");
    expect(toOpenMetrics(text)).toBe(
      [
        "# HELP a Things",
        "# UNIT a bytes",
        "# TYPE a counter",
        'a_total{x="1"} 3',
        "# HELP b_total A gauge whose name ends like a counter",
        "# TYPE b_total gauge",
        "b_total 1",
        "# EOF",
        "",
      ].join("\n"),
    );
  });

  test("OpenMetrics: a counter family without help text, and metadata quoted inside other lines", () => {
    const text = [
      "# HELP bare_total",
      "# TYPE bare_total counter",
      "bare_total 1",
      "# a free comment that quotes # HELP bare_total",
      "# HELP other_total mentions # TYPE quoted_total counter",
      "# TYPE other_total gauge",
      "other_total 2",
      "# TYPE quoted_total gauge",
      "quoted_total 3",
      "# HELP bare_total_bytes a gauge whose name starts with a counter's",
      "# TYPE bare_total_bytes gauge",
      "bare_total_bytes 4",
      "",
    ].join("\n");
    expect(toOpenMetrics(text).split("\n")).toEqual([
      "# HELP bare",
      "# TYPE bare counter",
      "bare_total 1",
      "# HELP other_total mentions # TYPE quoted_total counter",
      "# TYPE other_total gauge",
      "other_total 2",
      "# TYPE quoted_total gauge",
      "quoted_total 3",
      "# HELP bare_total_bytes a gauge whose name starts with a counter's",
      "# TYPE bare_total_bytes gauge",
      "bare_total_bytes 4",
      "# EOF",
      "",
    ]);
  });

  test("each format's Content-Type is what Prometheus negotiates", () => {
    expect(EXPOSITION_CONTENT_TYPES).toEqual({
      prometheus: "text/plain; version=0.0.4; charset=utf-8",
      openmetrics: "application/openmetrics-text; version=1.0.0; charset=utf-8",
    });
  });

  test("what a collection finds is rendered in the format asked for", async () => {
    const { meter, exposition } = meterWithExposition();
    meter.createCounter("hits").add(2, { tier: "memory" });
    expect(await exposition.render("prometheus")).toContain(
      'hits_total{tier="memory",otel_scope_name="unit-test"} 2',
    );
    const openMetrics = await exposition.render("openmetrics");
    expect(openMetrics).toContain("# TYPE hits counter\n");
    expect(openMetrics.endsWith("# EOF\n")).toBe(true);
  });
});
