import { MetricReader } from "@opentelemetry/sdk-metrics";

/** Collects a MeterProvider's metrics on demand (`collect()`), exporting them nowhere. */
export class CollectingReader extends MetricReader {
  protected override async onForceFlush(): Promise<void> {}
  protected override async onShutdown(): Promise<void> {}
}
