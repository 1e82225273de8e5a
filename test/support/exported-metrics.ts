import { ServiceMetrics } from "../../src/telemetry/metrics.ts";
import { observeRedis } from "../../src/telemetry/observed-gauges.ts";
import { consoleTelemetry } from "../../src/telemetry/sdk.ts";
import { testConfig } from "./config.ts";

/**
 * The service's Prometheus text exposition, from its own metrics and exposition with one event of
 * each kind recorded, Redis enabled.
 */
export async function serviceExposition(): Promise<string> {
  const config = testConfig();
  const telemetry = consoleTelemetry(config.telemetry, config.app.environment);
  const metrics = new ServiceMetrics(telemetry.meter, telemetry.histograms);
  observeRedis(
    telemetry.meter,
    () => true,
    () => true,
  );
  metrics.request("GET", "/tokens", 200, 0.001);
  metrics.tokenIssued("HS256", 0.001);
  metrics.tokenFailed("kong_unavailable");
  metrics.kongOperation("GET consumer", "rejected");
  metrics.breakerTransition("closed", "open");
  metrics.staleFallback("in-memory");
  metrics.cacheRead("redis", "hit", 0.001);
  const text = await telemetry.exposition.render("prometheus");
  await telemetry.shutdown(1_000);
  return text;
}

/**
 * Every series name the service's exposition holds (histograms with their `_bucket`, `_count` and
 * `_sum`): what dashboards and alert rules may name.
 */
export async function exportedSeriesNames(): Promise<Set<string>> {
  const text = await serviceExposition();
  const names = new Set<string>();
  for (const line of text.split("\n")) {
    const name = /^([a-zA-Z_:][a-zA-Z0-9_:]*)[{ ]/.exec(line)?.[1];
    if (name) names.add(name);
  }
  return names;
}

const PROMQL_WORDS = new Set([
  "sum",
  "max",
  "min",
  "avg",
  "count",
  "rate",
  "irate",
  "increase",
  "histogram_quantile",
  "by",
  "without",
  "on",
  "ignoring",
  "group_left",
  "group_right",
  "and",
  "or",
  "unless",
  "bool",
  "topk",
  "bottomk",
  "clamp_min",
  "clamp_max",
  "abs",
  "delta",
  "deriv",
  "time",
  "vector",
  "scalar",
  "offset",
]);

/** The metric names a PromQL expression selects: what is left without strings, labels, ranges, functions. */
export function metricNamesIn(expression: string): string[] {
  const stripped = expression
    .replace(/"(?:[^"\\]|\\.)*"/g, "")
    .replace(/\{[^}]*\}/g, " ")
    .replace(/\[[^\]]*\]/g, " ")
    .replace(/\b(by|without|on|ignoring|group_left|group_right)\s*\([^)]*\)/g, " ")
    .replace(/\$\w+/g, " ");
  // A word followed by "(" is a function.
  const names = [...stripped.matchAll(/[a-zA-Z_:][a-zA-Z0-9_:]*(?!\s*\(|[a-zA-Z0-9_:])/g)]
    .map((match) => match[0])
    .filter((word) => !PROMQL_WORDS.has(word) && !/^\d/.test(word));
  return [...new Set(names)];
}
