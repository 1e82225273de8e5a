import { describe, expect, test } from "bun:test";
import { readFileSync } from "node:fs";
import type { Meter } from "@opentelemetry/api";
import { MeterProvider } from "@opentelemetry/sdk-metrics";
import { TestMetrics } from "../../../src/telemetry/debug-metrics.ts";
import { ServiceMetrics } from "../../../src/telemetry/metrics.ts";
import { observeRedis, observeServer } from "../../../src/telemetry/observed-gauges.ts";
import type { HistogramSnapshot } from "../../../src/telemetry/tally.ts";

const OPERATIONS = readFileSync(new URL("../../../docs/operations.md", import.meta.url), "utf8");

/** Every metric name in the first column of the Metrics table of docs/operations.md. */
function documentedMetrics(): Set<string> {
  const section = OPERATIONS.split(/^## Metrics$/m)[1]?.split(/^## /m)[0] ?? "";
  const table = section.split(/\n\n/).find((block) => block.startsWith("| Name"));
  const names = new Set<string>();
  for (const row of table?.split("\n").slice(2) ?? []) {
    for (const name of row.split("|")[1]?.matchAll(/`([^`]+)`/g) ?? []) names.add(name[1] as string);
  }
  return names;
}

/** The names the service registers, with Redis enabled and debug routes on, as src/app.ts builds its metrics. */
function registeredMetrics(): Set<string> {
  const names = new Set<string>();
  const meter = new MeterProvider().getMeter("docs-check");
  const recording = new Proxy(meter, {
    get(target, property, receiver) {
      const value = Reflect.get(target, property, receiver);
      if (typeof value !== "function" || !String(property).startsWith("create")) return value;
      return (name: string, ...rest: unknown[]) => {
        names.add(name);
        return value.call(target, name, ...rest);
      };
    },
  }) as Meter;
  const snapshots: Array<() => HistogramSnapshot> = [];
  new ServiceMetrics(recording, { register: (snapshot) => snapshots.push(snapshot) });
  observeRedis(
    recording,
    () => true,
    () => true,
  );
  observeServer(recording, { pendingRequests: 0 });
  new TestMetrics(recording);
  for (const snapshot of snapshots) names.add(snapshot().name);
  return names;
}

describe("docs/operations.md lists the metrics the service exports", () => {
  test("every exported metric has a row, Redis's state (redis_connected) included", () => {
    const documented = documentedMetrics();
    const registered = registeredMetrics();
    expect(registered.has("redis_connected")).toBe(true);
    expect([...registered].filter((name) => !documented.has(name))).toEqual([]);
  });

  test("every row names a metric the service exports", () => {
    const registered = registeredMetrics();
    expect([...documentedMetrics()].filter((name) => !registered.has(name))).toEqual([]);
  });

  test("no sentence says Redis's state is missing from the metrics", () => {
    expect(OPERATIONS.match(/no metric (carries|reports|shows) (the )?Redis[^.]*\./i)?.[0]).toBeUndefined();
  });
});
