import { afterEach, expect, test } from "bun:test";
import { MeterProvider, type MetricReader } from "@opentelemetry/sdk-metrics";
import { consoleTelemetry } from "../../src/telemetry/sdk.ts";
import { CollectingReader } from "../support/collecting-reader.ts";
import { testConfig } from "../support/config.ts";
import { type Stack, startStack } from "../support/stack.ts";
import { waitFor } from "../support/wait.ts";

let stack: Stack | undefined;
let provider: MeterProvider | undefined;
afterEach(async () => {
  await stack?.stop();
  await provider?.shutdown();
  stack = provider = undefined;
});

/** The value of http.server.active_requests at this collection (undefined when it is not exported). */
async function activeRequests(reader: MetricReader): Promise<number | undefined> {
  const { resourceMetrics } = await reader.collect();
  const metric = resourceMetrics.scopeMetrics
    .flatMap((scope) => scope.metrics)
    .find((candidate) => candidate.descriptor.name === "http.server.active_requests");
  return metric?.dataPoints[0]?.value as number | undefined;
}

test("http.server.active_requests counts the requests Bun.serve is serving, in place of nodejs.active_requests", async () => {
  const reader = new CollectingReader();
  provider = new MeterProvider({ readers: [reader] });
  const config = testConfig();
  // Kong hangs until the breaker's timeout: long enough to see the requests in flight on a slow machine.
  stack = await startStack({
    env: { CIRCUIT_BREAKER_TIMEOUT: "4000" },
    telemetry: {
      ...consoleTelemetry(config.telemetry, config.app.environment),
      meter: provider.getMeter("active-requests"),
    },
  });
  const consumer = stack.emulator.addConsumer({ username: "in-flight" });
  expect(await activeRequests(reader)).toBe(0);

  stack.emulator.inject({ hang: true });
  const pending = [stack.tokens(consumer), stack.tokens(consumer)];
  await waitFor(async () => (await activeRequests(reader)) === 2, "two token requests in flight");
  expect((await Promise.all(pending)).map((response) => response.status)).toEqual([503, 503]);
  expect(await activeRequests(reader)).toBe(0);
}, 15_000);
