import { afterEach, describe, expect, test } from "bun:test";
import { mkdtempSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { MeterProvider, MetricReader } from "@opentelemetry/sdk-metrics";
import { ConfigError } from "../../src/config/index.ts";
import { TEST_METRIC_TYPES } from "../../src/telemetry/metrics.ts";
import { consoleTelemetry } from "../../src/telemetry/sdk.ts";
import { testConfig } from "../support/config.ts";
import { KongEmulator } from "../support/kong-emulator.ts";
import { type Stack, startStack } from "../support/stack.ts";

const GATEWAY_SECRET = "Zt8v0PqL3xWk9sJd2NfR7bYc5HmA1uEg";
const DEBUG_TOKEN = "staging-debug-token-7f3a9c";

const DEBUG_ROUTES = [
  ["POST", "/debug/metrics/test"],
  ["POST", "/debug/metrics/export"],
  ["GET", "/debug/metrics/stats"],
  ["POST", "/debug/profiling/start"],
  ["POST", "/debug/profiling/stop"],
  ["GET", "/debug/profiling/status"],
  ["GET", "/debug/profiling/reports"],
  ["GET", "/debug/profiling/reports/heap.heapsnapshot"],
  ["POST", "/debug/profiling/cleanup"],
] as const;

let stack: Stack | undefined;
let emulator: KongEmulator | undefined;
afterEach(async () => {
  await stack?.stop();
  await emulator?.stop();
  stack = undefined;
  emulator = undefined;
});

const profilingDir = () => mkdtempSync(join(tmpdir(), "debug-routes-"));

describe("debug and profiling routes outside development and test", () => {
  test("staging without DEBUG_TOKEN: no debug or profiling route answers (404)", async () => {
    stack = await startStack({
      env: {
        NODE_ENV: "staging",
        TRUSTED_GATEWAY_SECRET: GATEWAY_SECRET,
        PROFILING_OUTPUT_DIR: profilingDir(),
      },
    });
    for (const [method, path] of DEBUG_ROUTES) {
      const response = await stack.fetch(path, { method, body: method === "POST" ? "{}" : undefined });
      expect(`${method} ${path} ${response.status}`).toBe(`${method} ${path} 404`);
    }
    const document = (await (await stack.fetch("/")).json()) as { paths: Record<string, unknown> };
    expect(Object.keys(document.paths).filter((path) => path.startsWith("/debug"))).toEqual([]);
  });

  test("staging with PROFILING_ENABLED=true and no DEBUG_TOKEN does not start, naming DEBUG_TOKEN", async () => {
    emulator = KongEmulator.start();
    const starting = startStack({
      emulator,
      env: {
        NODE_ENV: "staging",
        TRUSTED_GATEWAY_SECRET: GATEWAY_SECRET,
        PROFILING_ENABLED: "true",
        PROFILING_OUTPUT_DIR: profilingDir(),
      },
    });
    // Should it start, it is stopped after the test like any other.
    starting.then((started) => (stack = started)).catch(() => undefined);
    const error = await starting.then(
      () => undefined,
      (caught: unknown) => caught,
    );
    expect(error).toBeInstanceOf(ConfigError);
    expect((error as ConfigError).problems.some((problem) => problem.startsWith("DEBUG_TOKEN: "))).toBe(true);
  });

  test("staging with DEBUG_TOKEN: the routes exist and every one of them requires the token", async () => {
    stack = await startStack({
      env: {
        NODE_ENV: "staging",
        TRUSTED_GATEWAY_SECRET: GATEWAY_SECRET,
        DEBUG_TOKEN,
        PROFILING_ENABLED: "true",
        PROFILING_OUTPUT_DIR: profilingDir(),
      },
    });
    for (const [method, path] of DEBUG_ROUTES) {
      const response = await stack.fetch(path, { method, body: method === "POST" ? "{}" : undefined });
      expect(`${method} ${path} ${response.status}`).toBe(`${method} ${path} 401`);
    }
    const headers = { "x-debug-token": DEBUG_TOKEN };
    expect((await stack.fetch("/debug/metrics/stats", { headers })).status).toBe(200);
    expect((await stack.fetch("/debug/profiling/status", { headers })).status).toBe(200);
  });
});

/** Collects the metrics of one MeterProvider on demand, without exporting them anywhere. */
class CollectingReader extends MetricReader {
  protected override async onForceFlush(): Promise<void> {}
  protected override async onShutdown(): Promise<void> {}
}

describe("labels taken from requests", () => {
  test("POST /debug/metrics/test: the type label is one of a fixed set, whatever requests send", async () => {
    const reader = new CollectingReader();
    const provider = new MeterProvider({ readers: [reader] });
    const config = testConfig();
    stack = await startStack({
      telemetry: {
        ...consoleTelemetry(config.telemetry, config.app.environment),
        meter: provider.getMeter("label-test"),
      },
    });
    const refused: string[] = [];
    const details = new Set<string>();
    for (let i = 0; i < 40; i++) {
      const response = await stack.fetch("/debug/metrics/test", {
        method: "POST",
        body: JSON.stringify({ count: 1, type: `label-${i}` }),
      });
      if (response.status === 400) {
        refused.push(`label-${i}`);
        details.add(((await response.json()) as { detail: string }).detail);
      } else expect(response.status).toBe(200);
    }
    // The refusal names what is accepted, never the value sent.
    expect([...details]).toEqual([`type: must be one of ${TEST_METRIC_TYPES.join(", ")}`]);
    const accepted = await stack.fetch("/debug/metrics/test", {
      method: "POST",
      body: JSON.stringify({ count: 2, type: "test" }),
    });
    expect(accepted.status).toBe(200);

    const { resourceMetrics } = await reader.collect();
    const series = (name: string) =>
      resourceMetrics.scopeMetrics
        .flatMap((scope) => scope.metrics)
        .filter((metric) => metric.descriptor.name === name)
        .flatMap((metric) => metric.dataPoints.map((point) => String(point.attributes.type)));
    expect(series("test_counter")).toEqual(["test"]);
    expect(series("test_histogram")).toEqual(["test"]);
    expect(refused).toHaveLength(40);
    await provider.shutdown();
  });
});

describe("debug instruments", () => {
  /** The names of the instruments an app creates on its meter while it starts and stops. */
  async function instrumentsCreated(env: Record<string, string>): Promise<string[]> {
    const names: string[] = [];
    const meter = new MeterProvider().getMeter("instruments");
    const recording = new Proxy(meter, {
      get(target, key) {
        const member = Reflect.get(target, key);
        if (typeof member !== "function") return member;
        return (...args: unknown[]) => {
          if (String(key).startsWith("create")) names.push(String(args[0]));
          return member.apply(target, args);
        };
      },
    });
    const config = testConfig();
    stack = await startStack({
      env,
      telemetry: { ...consoleTelemetry(config.telemetry, config.app.environment), meter: recording },
    });
    await stack.stop();
    stack = undefined;
    return names;
  }

  test("test_counter and test_histogram exist only where the debug routes do", async () => {
    const staging = await instrumentsCreated({
      NODE_ENV: "staging",
      TRUSTED_GATEWAY_SECRET: GATEWAY_SECRET,
      PROFILING_OUTPUT_DIR: profilingDir(),
    });
    expect(staging).toContain("kong_operations");
    expect(staging).not.toContain("test_counter");
    expect(staging).not.toContain("test_histogram");

    const development = await instrumentsCreated({});
    expect(development).toEqual(
      expect.arrayContaining(["kong_operations", "test_counter", "test_histogram"]),
    );
  });
});
