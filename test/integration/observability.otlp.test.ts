import { afterAll, beforeAll, describe, expect, test } from "bun:test";
import {
  context,
  logs,
  metrics,
  type ProxyTracerProvider,
  propagation,
  SpanKind,
  trace,
} from "@opentelemetry/api";
import { logs as apiLogs } from "@opentelemetry/api-logs";
import { LiveSpan } from "../../src/telemetry/live-span.ts";
import { startTelemetry, type Telemetry } from "../../src/telemetry/sdk.ts";
import { manualClock } from "../support/clock.ts";
import { testConfig } from "../support/config.ts";
import { OtlpReceiver, SPAN_KIND } from "../support/otlp-receiver.ts";
import { type Stack, startStack } from "../support/stack.ts";
import { waitFor } from "../support/wait.ts";

const TRACE_ID = "4bf92f3577b34da6a3ce929d0e0e4736";
const PARENT_SPAN = "00f067aa0ba902b7";

// One OpenTelemetry SDK per process: the API's globals can be registered once, so every OTLP
// assertion lives in this file, against one receiver and one started SDK.
describe("TELEMETRY_MODE=otlp", () => {
  let receiver: OtlpReceiver;
  let telemetry: Telemetry;
  let stack: Stack;
  const clock = manualClock();

  beforeAll(async () => {
    receiver = new OtlpReceiver();
    const env = {
      TELEMETRY_MODE: "otlp",
      OTEL_EXPORTER_OTLP_ENDPOINT: receiver.endpoint,
      OTEL_METRIC_EXPORT_INTERVAL: "60000",
      LOG_LEVEL: "info",
      CIRCUIT_BREAKER_RESET_TIMEOUT: "1000",
      CACHE_TTL_SECONDS: "1",
    };
    // Read by the exporters from the environment, as the OpenTelemetry specification has it.
    process.env.OTEL_EXPORTER_OTLP_HEADERS = "x-tenant=acme";
    telemetry = await startTelemetry(testConfig(env).telemetry, "test");
    stack = await startStack({ env, telemetry, now: clock.now });
  });

  afterAll(async () => {
    await stack.stop();
    await receiver.stop();
    delete process.env.OTEL_EXPORTER_OTLP_HEADERS;
    for (const api of [trace, metrics, propagation, context, logs, apiLogs]) api.disable();
  });

  test("a server span per request continues the caller's trace", async () => {
    const consumer = stack.emulator.addConsumer({ username: "traced" });
    stack.emulator.addCredential(consumer.id);
    const response = await stack.tokens(consumer, {
      traceparent: `00-${TRACE_ID}-${PARENT_SPAN}-01`,
      "x-request-id": "req-traced-1",
    });
    expect(response.status).toBe(200);
    await telemetry.forceFlush();
    const server = receiver.spans.find((span) => span.kind === SPAN_KIND.SERVER && span.traceId === TRACE_ID);
    expect(server).toBeDefined();
    expect(server?.parentSpanId).toBe(PARENT_SPAN);
    expect(server?.name).toBe("GET /tokens");
    expect(server?.attributes).toMatchObject({
      "http.request.method": "GET",
      "http.route": "/tokens",
      "http.response.status_code": 200,
      "http.request.id": "req-traced-1",
    });
    expect(server?.resource).toMatchObject({
      "service.name": "authentication-service",
      "deployment.environment.name": "test",
    });
    const children = receiver.spans
      .filter((span) => span.parentSpanId === server?.spanId)
      .map((span) => span.name);
    expect(children).toEqual(expect.arrayContaining(["credential.lookup", "jwt.sign"]));
    const child = (parent: string | undefined, name: string) =>
      receiver.spans.find((span) => span.parentSpanId === parent && span.name === name);
    // The lookup says it missed memory and where the credential came from; signing, with what.
    expect(child(server?.spanId, "credential.lookup")?.attributes).toMatchObject({
      "credential.cache_hit": false,
      "credential.outcome": "kong",
    });
    expect(child(server?.spanId, "jwt.sign")?.attributes).toMatchObject({ "jwt.algorithm": "HS256" });

    // A second request is a memory hit: said on the server span, without a lookup span.
    await stack.tokens(consumer, {
      traceparent: `00-${TRACE_ID}-${PARENT_SPAN}-01`,
      "x-request-id": "req-traced-2",
    });
    await telemetry.forceFlush();
    const second = receiver.spans.find((span) => span.attributes["http.request.id"] === "req-traced-2");
    expect(second?.attributes).toMatchObject({
      "credential.cache_tier": "memory",
      "credential.cache_hit": true,
    });
    const secondChildren = receiver.spans
      .filter((span) => span.parentSpanId === second?.spanId)
      .map((span) => span.name);
    expect(secondChildren).toEqual(["jwt.sign"]);
    expect(child(second?.spanId, "jwt.sign")?.attributes).toMatchObject({ "jwt.algorithm": "HS256" });

    // OTLP/HTTP with protobuf bodies, carrying the headers configured for the exporters.
    const traceExports = receiver.requests.filter((request) => request.path === "/v1/traces");
    expect(traceExports.length).toBeGreaterThan(0);
    for (const request of traceExports) {
      expect(request.contentType).toBe("application/x-protobuf");
      expect(request.headers.get("x-tenant")).toBe("acme");
    }
    expect(server?.decoded?.flags).toBe(0x301); // sampled; the parent came from the caller
    expect(server?.decoded?.endTimeUnixNano).toBeGreaterThan(server?.decoded?.startTimeUnixNano ?? 0n);
    const epochNs = BigInt(Date.now()) * 1_000_000n;
    expect(epochNs - (server?.decoded?.startTimeUnixNano ?? 0n)).toBeLessThan(60_000_000_000n);
  });

  test("a library's span made through @opentelemetry/api is a child of the request's server span", async () => {
    // The one TracerProvider registered is the service's: NodeSDK built none from the environment.
    const registered = (trace.getTracerProvider() as ProxyTracerProvider).getDelegate();
    expect(registered.getTracer("a-library").startSpan("probe", { root: true })).toBeInstanceOf(LiveSpan);

    // A server of the service's (its tracer's server span) whose handler calls library code.
    const library = trace.getTracer("some-library", "1.0.0");
    const server = Bun.serve({
      port: 0,
      hostname: "127.0.0.1",
      fetch: (request) =>
        telemetry.tracing.server(request, "/library", "req-library", () =>
          library.startActiveSpan(
            "library.query",
            { kind: SpanKind.CLIENT, attributes: { "db.system": "x" } },
            async (span) => {
              await new Promise((resolve) => setImmediate(resolve));
              // The service's own span inside the library's, and a plain startSpan under the active one.
              await telemetry.tracing.internal("service.step", {}, async () => {
                library.startSpan("library.leaf", { attributes: { sizes: [1, 2] } }).end();
              });
              span.end();
              return new Response("ok");
            },
          ),
        ),
    });
    try {
      const answer = await fetch(`http://127.0.0.1:${server.port}/library`, {
        headers: { traceparent: `00-${TRACE_ID}-${PARENT_SPAN}-01` },
      });
      expect(answer.status).toBe(200);
    } finally {
      await server.stop(true);
    }
    await telemetry.forceFlush();
    const byName = (name: string) => receiver.spans.find((span) => span.name === name);
    const serverSpan = receiver.spans.find((span) => span.attributes["http.request.id"] === "req-library");
    const query = byName("library.query");
    const step = byName("service.step");
    const leaf = byName("library.leaf");
    expect(serverSpan?.parentSpanId).toBe(PARENT_SPAN);
    expect(query?.parentSpanId).toBe(serverSpan?.spanId);
    expect(step?.parentSpanId).toBe(query?.spanId);
    expect(leaf?.parentSpanId).toBe(step?.spanId);
    for (const span of [serverSpan, query, step, leaf]) expect(span?.traceId).toBe(TRACE_ID);
    expect(query?.kind).toBe(SPAN_KIND.CLIENT);
    expect(query?.attributes["db.system"]).toBe("x");
    expect(leaf?.decoded?.attributes.sizes).toEqual([1, 2]);
    // Every span left through the service's one trace exporter: protobuf, to the receiver.
    expect(
      receiver.requests.filter((request) => request.path === "/v1/traces").map((r) => r.contentType),
    ).not.toContain("application/json");
  });

  test("the Kong call is a client span whose traceparent Kong received", async () => {
    const consumer = stack.emulator.addConsumer({ username: "kong-traced" });
    stack.emulator.resetCalls();
    expect((await stack.tokens(consumer, { traceparent: `00-${TRACE_ID}-${PARENT_SPAN}-01` })).status).toBe(
      200,
    );
    await telemetry.forceFlush();
    const seen = stack.emulator.calls.map((call) => call.headers.get("traceparent"));
    expect(seen.length).toBeGreaterThan(0);
    for (const traceparent of seen) {
      const [, traceId, spanId] = (traceparent ?? "").split("-");
      expect(traceId).toBe(TRACE_ID);
      const client = receiver.spans.find((span) => span.spanId === spanId);
      expect(client?.kind).toBe(SPAN_KIND.CLIENT);
      expect(client?.name).toMatch(/^Kong (GET|POST) /);
      expect(client?.attributes["http.response.status_code"]).toBeGreaterThanOrEqual(200);
    }
  });

  test("log records are exported with the trace they belong to", async () => {
    const consumer = stack.emulator.addConsumer({ username: "logged-with-trace" });
    stack.emulator.inject({ status: 502, match: (call) => call.path.includes(consumer.id) });
    const traceId = "0af7651916cd43dd8448eb211c80319c";
    expect((await stack.tokens(consumer, { traceparent: `00-${traceId}-${PARENT_SPAN}-01` })).status).toBe(
      503,
    );
    stack.emulator.clearFaults();
    await telemetry.forceFlush();
    const record = receiver.logs.find((log) => String(log.body).startsWith("Kong unavailable"));
    expect(record?.traceId).toBe(traceId);
    expect(record?.severityText).toBe("error");
    const line = stack.logs.records().find((entry) => String(entry.message).startsWith("Kong unavailable"));
    expect(line?.["trace.id"]).toBe(traceId);
  });

  test("metrics carry the specification's names and no per-consumer attributes", async () => {
    // Drive every kind of event: successes, an outage that opens the breaker, a stale fallback.
    const stale = stack.emulator.addConsumer({ username: "stale-one" });
    stack.emulator.addCredential(stale.id);
    expect((await stack.tokens(stale, { "x-request-id": "req-metrics" })).status).toBe(200);
    clock.advance(1100); // past CACHE_TTL_SECONDS: the copy in memory is stale
    stack.emulator.inject({ status: 503 });
    for (let i = 0; i < 6; i++) await stack.tokens(stack.emulator.addConsumer({ username: `down-${i}` }));
    expect((await stack.tokens(stale)).status).toBe(200);
    stack.emulator.clearFaults();
    await stack.fetch("/health");

    await telemetry.forceFlush();
    const names = receiver.metricNames();
    for (const name of [
      "http_requests_total",
      "http_response_time_seconds",
      "jwt_tokens_generated",
      "kong_operations",
      "hybrid_cache_operations",
      "circuit_breaker_state",
      "circuit_breaker_requests_total",
      "circuit_breaker_rejected_total",
      "circuit_breaker_fallback_total",
      "circuit_breaker_state_transitions_total",
      "cache_tier_operations",
      "nodejs.eventloop.delay",
      "process.memory.usage",
      "process.cpu.usage",
    ]) {
      expect(names.has(name)).toBe(true);
    }
    // process.* come from the service's scope only: host metrics (once loaded) add the host's.
    await waitFor(async () => {
      await telemetry.forceFlush();
      return receiver.metricNames().has("system.cpu.time");
    }, "host metrics to be exported");
    expect(receiver.metricNames().has("process.cpu.time")).toBe(false);
    expect(receiver.metricNames().has("process.cpu.utilization")).toBe(false);
    for (const metric of receiver.metrics.filter((m) => m.name === "process.memory.usage")) {
      for (const point of metric.dataPoints) expect(point.attributes["process.memory.type"]).toBeDefined();
    }

    const forbidden = new Set([stale.id, "stale-one", "req-metrics"]);
    for (const metric of receiver.metrics) {
      for (const point of metric.dataPoints) {
        for (const value of Object.values(point.attributes)) expect(forbidden.has(String(value))).toBe(false);
      }
    }
    const requests = receiver.metrics.filter((metric) => metric.name === "http_requests_total").at(-1);
    expect(requests?.dataPoints.some((point) => point.attributes.route === "/tokens")).toBe(true);

    // The response-time histogram (aggregated in-process, exported through a MetricProducer) counts
    // every /tokens request the request counter counted, in buckets that add up, cumulatively.
    const durations = receiver.metrics
      .filter((metric) => metric.name === "http_response_time_seconds")
      .at(-1);
    expect(durations?.temporality).toBe(2);
    const tokensDuration = durations?.dataPoints.find(
      (point) => point.attributes.route === "/tokens" && point.attributes.method === "GET",
    );
    const tokensRequests = (requests?.dataPoints ?? [])
      .filter((point) => point.attributes.route === "/tokens" && point.attributes.method === "GET")
      .reduce((sum, point) => sum + (point.value ?? 0), 0);
    expect(tokensRequests).toBeGreaterThanOrEqual(8);
    expect(tokensDuration?.count).toBe(tokensRequests);
    expect(tokensDuration?.bucketCounts?.reduce((sum, count) => sum + count, 0)).toBe(tokensRequests);
    expect(tokensDuration?.bucketCounts).toHaveLength((tokensDuration?.explicitBounds?.length ?? 0) + 1);
    expect(tokensDuration?.sum).toBeGreaterThan(0);
  });

  test("GET /metrics serves the same meter to Prometheus while OTLP exports it, host metrics included", async () => {
    const scrape = async () => (await stack.fetch("/metrics", { headers: { accept: "text/plain" } })).text();
    let text = "";
    await waitFor(async () => {
      text = await scrape();
      return text.includes("system_cpu_time_seconds_total");
    }, "host metrics in the Prometheus exposition");
    const live = (body: string) =>
      Number(
        /^http_requests_total\{method="GET",route="\/health\/live",status_code="200"[^}]*\} (\d+)$/m.exec(
          body,
        )?.[1] ?? 0,
      );
    const before = live(text);
    expect((await stack.fetch("/health/live")).status).toBe(200);
    expect(live(await scrape())).toBe(before + 1);
    // Scraping takes nothing from the OTLP export: it still sends the cumulative count.
    await telemetry.forceFlush();
    const exported = receiver.metrics.filter((metric) => metric.name === "http_requests_total").at(-1);
    const point = exported?.dataPoints.find((p) => p.attributes.route === "/health/live");
    expect(point?.value).toBe(before + 1);
  });

  test("the health and debug endpoints report the exporters", async () => {
    const telemetryHealth = (await (await stack.fetch("/health/telemetry")).json()) as Record<
      string,
      unknown
    >;
    expect(telemetryHealth).toMatchObject({
      mode: "otlp",
      endpoints: { traces: `${receiver.endpoint}/v1/traces` },
      exporters: { traces: "active", metrics: "active", logs: "active" },
      droppedSpans: 0,
    });
    const exported = await stack.fetch("/debug/metrics/export", { method: "POST" });
    expect(exported.status).toBe(200);
    expect(((await exported.json()) as { exported: { metrics: number } }).exported.metrics).toBeGreaterThan(
      0,
    );
    const stats = (await (await stack.fetch("/debug/metrics/stats")).json()) as {
      exports: { total: number; successful: number; successRate: number };
    };
    expect(stats.exports.total).toBeGreaterThan(0);
    expect(stats.exports.successRate).toBe(1);
    const metricsHealth = (await (await stack.fetch("/health/metrics")).json()) as Record<string, unknown>;
    expect(metricsHealth).toMatchObject({ metricsEnabled: true, exportInterval: 60000 });
    expect(metricsHealth.lastExport).not.toBeNull();
  });
});
