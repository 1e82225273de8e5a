/**
 * Every knob of the k6 suites, read from the K6_* (and TARGET_*) variables of the specification,
 * with the specification's defaults. The list of names is also the documentation's: the consistency
 * test in test/unit/k6 checks that test/k6/README.md lists each variable read here.
 */
import type { Threshold } from "k6/options";
import { parseDuration } from "./durations.ts";

function text(name: string, fallback: string): string {
  const value = __ENV[name];
  return value === undefined || value === "" ? fallback : value;
}

function number(name: string, fallback: number): number {
  const raw = text(name, String(fallback));
  const value = Number(raw);
  if (!Number.isFinite(value) || value < 0)
    throw new Error(`${name} must be a non-negative number, got "${raw}"`);
  return value;
}

function duration(name: string, fallback: string): string {
  const value = text(name, fallback);
  parseDuration(value);
  return value;
}

function integer(name: string, fallback: number): number {
  const value = number(name, fallback);
  if (!Number.isInteger(value) || value < 1)
    throw new Error(`${name} must be a positive integer, got ${value}`);
  return value;
}

export const target = {
  baseUrl: `${text("TARGET_PROTOCOL", "http")}://${text("TARGET_HOST", "localhost")}:${text("TARGET_PORT", "3000")}`,
  timeout: duration("K6_TIMEOUT", "30s"),
};

export const smoke = {
  vus: integer("K6_SMOKE_VUS", 3),
  duration: duration("K6_SMOKE_DURATION", "3m"),
};

export const load = {
  initialVus: integer("K6_LOAD_INITIAL_VUS", 10),
  targetVus: integer("K6_LOAD_TARGET_VUS", 20),
  rampUp: duration("K6_LOAD_RAMP_UP_DURATION", "2m"),
  steady: duration("K6_LOAD_STEADY_DURATION", "5m"),
  rampDown: duration("K6_LOAD_RAMP_DOWN_DURATION", "2m"),
};

export const stress = {
  initialVus: integer("K6_STRESS_INITIAL_VUS", 50),
  targetVus: integer("K6_STRESS_TARGET_VUS", 100),
  peakVus: integer("K6_STRESS_PEAK_VUS", 200),
  duration: duration("K6_STRESS_DURATION", "5m"),
};

export const spike = {
  baselineVus: integer("K6_SPIKE_BASELINE_VUS", 10),
  targetVus: integer("K6_SPIKE_TARGET_VUS", 100),
  duration: duration("K6_SPIKE_DURATION", "3m"),
};

/** Milliseconds per endpoint, from the specification's "Performance thresholds". */
export const latency = {
  health: { p95: number("K6_HEALTH_P95_THRESHOLD", 50), p99: number("K6_HEALTH_P99_THRESHOLD", 100) },
  tokens: { p95: number("K6_TOKENS_P95_THRESHOLD", 50), p99: number("K6_TOKENS_P99_THRESHOLD", 100) },
  metrics: { p95: number("K6_METRICS_P95_THRESHOLD", 30), p99: number("K6_METRICS_P99_THRESHOLD", 50) },
  openapi: { p95: number("K6_OPENAPI_P95_THRESHOLD", 50), p99: number("K6_OPENAPI_P99_THRESHOLD", 100) },
};

export const errorRate = {
  normal: number("K6_ERROR_RATE_THRESHOLD", 0.01),
  stress: number("K6_STRESS_ERROR_RATE_THRESHOLD", 0.05),
};

/** true: crossed thresholds are reported but neither abort the run nor fail it (run-k6.sh). */
export const nonBlocking = text("K6_THRESHOLDS_NON_BLOCKING", "false") === "true";

export type Endpoint = keyof typeof latency;

function rule(expression: string): Threshold {
  return nonBlocking
    ? { threshold: expression, abortOnFail: false }
    : { threshold: expression, abortOnFail: true, delayAbortEval: "30s" };
}

/** Latency thresholds of the given endpoints (requests are tagged `endpoint:<name>`) and the error rate. */
export function thresholds(endpoints: Endpoint[], maxErrorRate: number): Record<string, Threshold[]> {
  const result: Record<string, Threshold[]> = {
    http_req_failed: [rule(`rate<${maxErrorRate}`)],
    checks: [rule(`rate>${1 - maxErrorRate}`)],
  };
  for (const endpoint of endpoints) {
    result[`http_req_duration{endpoint:${endpoint}}`] = [
      rule(`p(95)<${latency[endpoint].p95}`),
      rule(`p(99)<${latency[endpoint].p99}`),
    ];
  }
  return result;
}
