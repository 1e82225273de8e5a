import { describe, expect, test } from "bun:test";
import { MeterProvider } from "@opentelemetry/sdk-metrics";
import { observeRedis, observeServer } from "../../../src/telemetry/observed-gauges.ts";
import { CollectingReader } from "../../support/collecting-reader.ts";

function collector() {
  const reader = new CollectingReader();
  const provider = new MeterProvider({ readers: [reader] });
  /** Each gauge's value at this collection, by name. */
  async function values(): Promise<Record<string, unknown>> {
    const { resourceMetrics } = await reader.collect();
    return Object.fromEntries(
      resourceMetrics.scopeMetrics
        .flatMap((scope) => scope.metrics)
        .map((metric) => [metric.descriptor.name, metric.dataPoints[0]?.value]),
    );
  }
  /** What a scraper's HELP and UNIT lines say of each, by name. */
  async function descriptors(): Promise<Record<string, { description: string; unit: string }>> {
    const { resourceMetrics } = await reader.collect();
    return Object.fromEntries(
      resourceMetrics.scopeMetrics
        .flatMap((scope) => scope.metrics)
        .map(({ descriptor }) => [
          descriptor.name,
          { description: descriptor.description, unit: descriptor.unit },
        ]),
    );
  }
  return { meter: provider.getMeter("observed-gauges"), values, descriptors };
}

describe("the gauges read at each collection", () => {
  test("redis_connected and redis_invalidations_subscribed are 1 or 0, each from its own source, as it is when collected", async () => {
    const { meter, values } = collector();
    const state = { ready: true, subscribed: false };
    observeRedis(
      meter,
      () => state.ready,
      () => state.subscribed,
    );
    expect(await values()).toEqual({ redis_connected: 1, redis_invalidations_subscribed: 0 });
    state.subscribed = true;
    expect(await values()).toEqual({ redis_connected: 1, redis_invalidations_subscribed: 1 });
    state.ready = false;
    expect(await values()).toEqual({ redis_connected: 0, redis_invalidations_subscribed: 1 });
  });

  test("http.server.active_requests is the server's pendingRequests when collected", async () => {
    const { meter, values } = collector();
    const server = { pendingRequests: 3 };
    observeServer(meter, server);
    expect(await values()).toEqual({ "http.server.active_requests": 3 });
    server.pendingRequests = 0;
    expect(await values()).toEqual({ "http.server.active_requests": 0 });
  });

  test("each says what it counts (Prometheus's HELP) and in what unit", async () => {
    const { meter, descriptors } = collector();
    observeRedis(
      meter,
      () => true,
      () => true,
    );
    observeServer(meter, { pendingRequests: 0 });
    const described = await descriptors();
    expect(described.redis_connected?.description).toContain("answering within REDIS_COMMAND_TIMEOUT_MS");
    expect(described.redis_invalidations_subscribed?.description).toContain("hears the invalidations");
    expect(described["http.server.active_requests"]).toEqual({
      description: "HTTP requests being served (Bun.serve's pendingRequests)",
      unit: "{request}",
    });
  });

  test("without a meter, nothing is made and nothing fails", () => {
    expect(() =>
      observeRedis(
        undefined,
        () => true,
        () => true,
      ),
    ).not.toThrow();
    expect(() => observeServer(undefined, { pendingRequests: 1 })).not.toThrow();
  });
});
