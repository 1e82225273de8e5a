import { describe, expect, test } from "bun:test";
import type { Meter } from "@opentelemetry/api";
import * as sdkMetrics from "@opentelemetry/sdk-metrics";
import { DeferredMeter, HELD_RECORDS_BEFORE_LOAD } from "../../../src/telemetry/deferred-meter.ts";
import { createPrometheusReader } from "../../../src/telemetry/prometheus.ts";

/** A real SDK meter and its Prometheus text, as GET /metrics would render it. */
function sdkMeter() {
  const { reader, exposition } = createPrometheusReader(sdkMetrics, []);
  const provider = new sdkMetrics.MeterProvider({ readers: [reader] });
  // Without the scope label the serializer adds to every sample, so the samples read as written.
  const render = async () =>
    (await exposition.render("prometheus"))
      .replace(/,otel_scope_name="deferred-test"|otel_scope_name="deferred-test",?/g, "")
      .replace(/\{\}/g, "");
  return { meter: provider.getMeter("deferred-test"), render };
}

const sample = (text: string, series: string) =>
  text.split("\n").find((line) => line.startsWith(`${series} `) || line.startsWith(`${series}{`));

describe("DeferredMeter: instruments made before the SDK is loaded", () => {
  test("every record held before attach reaches the SDK, and records after it go straight there", async () => {
    const deferred = new DeferredMeter(() => {});
    const counter = deferred.createCounter("held_calls");
    const upDown = deferred.createUpDownCounter("held_level");
    const histogram = deferred.createHistogram("held_latency", {
      advice: { explicitBucketBoundaries: [1, 10] },
    });
    const gauge = deferred.createGauge("held_gauge");
    counter.add(1, { outcome: "ok" });
    counter.add(2, { outcome: "ok" });
    counter.add(5, { outcome: "failed" });
    upDown.add(3);
    upDown.add(-1);
    histogram.record(0.5);
    histogram.record(7);
    gauge.record(4);
    gauge.record(9);
    const { meter, render } = sdkMeter();
    expect(deferred.attached).toBe(false);
    deferred.attach(meter);
    expect(deferred.attached).toBe(true);
    counter.add(4, { outcome: "ok" });
    const text = await render();
    expect(sample(text, 'held_calls_total{outcome="ok"}')).toBe('held_calls_total{outcome="ok"} 7');
    expect(sample(text, 'held_calls_total{outcome="failed"}')).toBe('held_calls_total{outcome="failed"} 5');
    expect(sample(text, "held_level")).toBe("held_level 2");
    expect(sample(text, "held_latency_count")).toBe("held_latency_count 2");
    expect(sample(text, "held_latency_sum")).toBe("held_latency_sum 7.5");
    expect(sample(text, 'held_latency_bucket{le="1"}')).toBe('held_latency_bucket{le="1"} 1');
    // A gauge keeps the last value it was given, held or not.
    expect(sample(text, "held_gauge")).toBe("held_gauge 9");
  });

  test("instruments made after attach are the SDK's own", async () => {
    const deferred = new DeferredMeter(() => {});
    const { meter, render } = sdkMeter();
    deferred.attach(meter);
    deferred.createCounter("late_calls").add(3);
    deferred.createObservableGauge("late_level").addCallback((result) => result.observe(6));
    const text = await render();
    expect(sample(text, "late_calls_total")).toBe("late_calls_total 3");
    expect(sample(text, "late_level")).toBe("late_level 6");
  });

  test("observable callbacks given before attach are called at each collection after it; removed ones are not", async () => {
    const deferred = new DeferredMeter(() => {});
    let level = 1;
    const observed = deferred.createObservableGauge("observed_level");
    observed.addCallback((result) => result.observe(level));
    const removed = (result: { observe(value: number): void }) => result.observe(99);
    const counted = deferred.createObservableCounter("observed_total_things");
    counted.addCallback(removed);
    counted.removeCallback(removed);
    deferred.createObservableUpDownCounter("observed_queue").addCallback((result) => result.observe(-2));
    const { meter, render } = sdkMeter();
    deferred.attach(meter);
    expect(sample(await render(), "observed_level")).toBe("observed_level 1");
    level = 5;
    const text = await render();
    expect(sample(text, "observed_level")).toBe("observed_level 5");
    expect(sample(text, "observed_queue")).toBe("observed_queue -2");
    expect(text).not.toContain("99");
    // A callback added to a held instrument after attach reaches the SDK's instrument too.
    observed.removeCallback(() => {});
    counted.addCallback((result) => result.observe(8));
    expect(sample(await render(), "observed_total_things_total")).toBe("observed_total_things_total 8");
  });

  test("a batch callback given before attach observes the SDK's instruments; a removed one is never called", async () => {
    const deferred = new DeferredMeter(() => {});
    const first = deferred.createObservableGauge("batch_first");
    const second = deferred.createObservableGauge("batch_second");
    let removedCalled = false;
    const removed = () => {
      removedCalled = true;
    };
    deferred.addBatchObservableCallback(removed, [first]);
    deferred.addBatchObservableCallback(
      (result) => {
        result.observe(first, 11);
        result.observe(second, 12);
      },
      [first, second],
    );
    deferred.removeBatchObservableCallback(removed, [first]);
    // Removing a callback that was never added leaves the others in place.
    deferred.removeBatchObservableCallback(() => {}, [second]);
    const { meter, render } = sdkMeter();
    deferred.attach(meter);
    const text = await render();
    expect(sample(text, "batch_first")).toBe("batch_first 11");
    expect(sample(text, "batch_second")).toBe("batch_second 12");
    expect(removedCalled).toBe(false);
  });

  test("batch callbacks given after attach go to the SDK, and their removal too", async () => {
    const deferred = new DeferredMeter(() => {});
    const { meter, render } = sdkMeter();
    deferred.attach(meter);
    const gauge = deferred.createObservableGauge("late_batch");
    let calls = 0;
    const callback = (result: { observe(observable: typeof gauge, value: number): void }) => {
      calls++;
      result.observe(gauge, 3);
    };
    deferred.addBatchObservableCallback(callback, [gauge]);
    expect(sample(await render(), "late_batch")).toBe("late_batch 3");
    deferred.removeBatchObservableCallback(callback, [gauge]);
    await render();
    expect(calls).toBe(1);
  });

  test("attach hands the SDK exactly the records held, in order, by each instrument's own method", () => {
    const calls: string[] = [];
    const instrument = (name: string) => ({
      add: (value: number, attributes?: object) =>
        calls.push(`${name} add ${value} ${JSON.stringify(attributes)}`),
      record: (value: number, attributes?: object) =>
        calls.push(`${name} record ${value} ${JSON.stringify(attributes)}`),
    });
    const fake = {
      createCounter: (name: string) => ({ add: instrument(name).add }),
      createUpDownCounter: (name: string) => ({ add: instrument(name).add }),
      createHistogram: (name: string) => ({ record: instrument(name).record }),
      createGauge: (name: string) => ({ record: instrument(name).record }),
    } as unknown as Meter;
    const deferred = new DeferredMeter(() => {});
    const counter = deferred.createCounter("c");
    const histogram = deferred.createHistogram("h");
    deferred.createCounter("idle");
    counter.add(2, { a: 1 });
    histogram.record(0.5);
    counter.add(3);
    deferred.attach(fake);
    expect(calls).toEqual(['c add 2 {"a":1}', "c add 3 undefined", "h record 0.5 undefined"]);
    counter.add(4);
    expect(calls.at(-1)).toBe("c add 4 undefined");
    expect(calls).toHaveLength(4);
  });

  test("the owner hears once that the backlog reached HELD_RECORDS_BEFORE_LOAD, and nothing held is lost", async () => {
    let asked = 0;
    const deferred = new DeferredMeter(() => asked++);
    const counter = deferred.createCounter("backlog_calls");
    for (let i = 1; i < HELD_RECORDS_BEFORE_LOAD; i++) counter.add(1);
    expect(asked).toBe(0);
    counter.add(1);
    expect(asked).toBe(1);
    for (let i = 0; i < 10; i++) counter.add(1);
    expect(asked).toBe(1);
    const { meter, render } = sdkMeter();
    deferred.attach(meter);
    // A second attach changes nothing: the records are not handed over twice, and the first SDK stays.
    const second = sdkMeter();
    deferred.attach(second.meter);
    deferred.createCounter("after_second_attach").add(1);
    const text = await render();
    expect(sample(text, "backlog_calls_total")).toBe(`backlog_calls_total ${HELD_RECORDS_BEFORE_LOAD + 10}`);
    expect(sample(text, "after_second_attach_total")).toBe("after_second_attach_total 1");
    expect(await second.render()).not.toContain("backlog_calls");
  });
});
