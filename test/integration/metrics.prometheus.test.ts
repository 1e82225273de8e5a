import { afterEach, describe, expect, test } from "bun:test";
import { type Stack, startStack } from "../support/stack.ts";

/**
 * GET /metrics by content negotiation: JSON for the specification's clients (and anyone who asks
 * for nothing in particular), the Prometheus text format or OpenMetrics for scrapers, all from the
 * metrics the service records.
 */

let stack: Stack | undefined;
afterEach(async () => {
  await stack?.stop();
  stack = undefined;
});

const PROMETHEUS_ACCEPT =
  "application/openmetrics-text;version=1.0.0,application/openmetrics-text;version=0.0.1;q=0.75,text/plain;version=0.0.4;q=0.5,*/*;q=0.1";

async function metrics(s: Stack, accept?: string) {
  const response = await s.fetch("/metrics", accept ? { headers: { accept } } : undefined);
  expect(response.status).toBe(200);
  expect(response.headers.get("vary")).toContain("Accept");
  return { type: response.headers.get("content-type") ?? "", body: await response.text() };
}

/** The value of the one sample whose name and labels match, from a text exposition. */
function sample(body: string, name: string, labels: Record<string, string>): number | undefined {
  for (const line of body.split("\n")) {
    const match = /^([a-zA-Z_:][a-zA-Z0-9_:]*)(\{.*\})? (\S+)$/.exec(line);
    if (!match || match[1] !== name) continue;
    const attributes = Object.fromEntries(
      [...(match[2] ?? "").matchAll(/(\w+)="((?:[^"\\]|\\.)*)"/g)].map((m) => [m[1], m[2]]),
    );
    if (Object.entries(labels).every(([key, value]) => attributes[key] === value)) return Number(match[3]);
  }
  return undefined;
}

describe("GET /metrics negotiates its format", () => {
  test("JSON without Accept, with */* and with a browser's Accept; Prometheus text for text/plain", async () => {
    stack = await startStack();
    for (const accept of [undefined, "*/*", "text/html,application/xhtml+xml,*/*;q=0.8", "image/png"]) {
      const { type, body } = await metrics(stack, accept);
      expect(type, String(accept)).toStartWith("application/json");
      expect(JSON.parse(body)).toHaveProperty("tokens");
    }
    const text = await metrics(stack, "text/plain");
    expect(text.type).toBe("text/plain; version=0.0.4; charset=utf-8");
    expect(text.body).toContain("# TYPE http_requests_total counter");
    expect(text.body).not.toContain("# EOF");
  });

  test("Prometheus's own Accept gets OpenMetrics: counter families without _total, units as name suffixes, # EOF last", async () => {
    stack = await startStack();
    const consumer = stack.emulator.addConsumer({ username: "scraped" });
    expect((await stack.tokens(consumer)).status).toBe(200);
    const { type, body } = await metrics(stack, PROMETHEUS_ACCEPT);
    expect(type).toBe("application/openmetrics-text; version=1.0.0; charset=utf-8");
    expect(body.endsWith("\n# EOF\n")).toBe(true);
    expect(body).toContain("# TYPE jwt_tokens_generated counter\n");
    expect(body).not.toContain("# TYPE jwt_tokens_generated_total");
    expect(body).toContain("# UNIT http_response_time_seconds seconds\n");
    expect(sample(body, "jwt_tokens_generated_total", { outcome: "success", algorithm: "HS256" })).toBe(1);
    // Only HELP, TYPE, UNIT and EOF comments: OpenMetrics allows no others, nor blank lines.
    for (const line of body.trimEnd().split("\n")) expect(line).toMatch(/^(# (HELP|TYPE|UNIT|EOF)\b|[a-z_])/);
  });

  test("the text counts what the JSON counts, with bounded labels and Prometheus names", async () => {
    stack = await startStack();
    const consumer = stack.emulator.addConsumer({ username: "counted" });
    for (let i = 0; i < 3; i++) expect((await stack.tokens(consumer)).status).toBe(200);
    expect((await stack.tokens({ id: "not-a-uuid", username: "x" })).status).toBe(401);
    const json = (await (await stack.fetch("/metrics")).json()) as {
      tokens: { generatedByAlgorithm: Record<string, number>; failedByReason: Record<string, number> };
    };
    const { body } = await metrics(stack, "text/plain");
    const scope = { otel_scope_name: "authentication-service" };
    expect(
      sample(body, "jwt_tokens_generated_total", { ...scope, outcome: "success", algorithm: "HS256" }),
    ).toBe(json.tokens.generatedByAlgorithm.HS256 as number);
    expect(
      sample(body, "jwt_tokens_generated_total", { outcome: "failure", reason: "invalid_headers" }),
    ).toBe(json.tokens.failedByReason.invalid_headers as number);
    expect(sample(body, "http_response_time_seconds_count", { method: "GET", route: "/tokens" })).toBe(4);
    expect(sample(body, "http_response_time_seconds_bucket", { route: "/tokens", le: "+Inf" })).toBe(4);
    expect(sample(body, "process_memory_usage_bytes", { process_memory_type: "rss" })).toBeGreaterThan(0);
    expect(sample(body, "target_info", { service_name: stack.config.telemetry.serviceName })).toBe(1);
    // Never a consumer's id or name in a label.
    expect(body).not.toContain(consumer.id);
    expect(body).not.toContain("counted");
  });
});
