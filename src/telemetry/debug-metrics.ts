import type { Counter, Histogram, Meter } from "@opentelemetry/api";
import type { TestMetricType } from "./metrics.ts";

/**
 * The instruments of POST /debug/metrics/test. Made by the debug handlers, so they exist only where
 * debug routes do, never in production.
 */
export class TestMetrics {
  private readonly counter: Counter | undefined;
  private readonly histogram: Histogram | undefined;

  constructor(meter: Meter | undefined) {
    this.counter = meter?.createCounter("test_counter", { description: "Debug endpoint test counter" });
    this.histogram = meter?.createHistogram("test_histogram", {
      description: "Debug endpoint test histogram",
    });
  }

  /** Records `count` test observations and says what it recorded. */
  record(count: number, type: TestMetricType): number[] {
    const values = Array.from({ length: count }, (_, i) => i + 1);
    this.counter?.add(count, { type });
    for (const value of values) this.histogram?.record(value, { type });
    return values;
  }
}
