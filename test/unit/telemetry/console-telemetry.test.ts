import { describe, expect, test } from "bun:test";
import { type DeferredMeter, HELD_RECORDS_BEFORE_LOAD } from "../../../src/telemetry/deferred-meter.ts";
import { ServiceMetrics } from "../../../src/telemetry/metrics.ts";
import { consoleTelemetry } from "../../../src/telemetry/sdk.ts";
import { testConfig } from "../../support/config.ts";
import { waitFor } from "../../support/wait.ts";

const sampleOf = (text: string, name: string, labels: string) =>
  text
    .split("\n")
    .find((line) => line.startsWith(`${name}{`) && labels.split(",").every((label) => line.includes(label)))
    ?.split(" ")
    .at(-1);

describe("console telemetry: the metrics SDK is loaded at the first scrape", () => {
  test("counts recorded before the SDK loads are scraped, and counted on after it", async () => {
    const config = testConfig();
    const telemetry = consoleTelemetry(config.telemetry, config.app.environment);
    const metrics = new ServiceMetrics(telemetry.meter, telemetry.histograms);
    metrics.kongOperation("GET consumer", "success");
    metrics.kongOperation("GET consumer", "rejected");
    metrics.breakerTransition("closed", "open");
    metrics.staleFallback("in-memory");
    metrics.cacheRead("redis", "hit", 0.002);
    metrics.request("GET", "/tokens", 200, 0.001);
    expect((telemetry.meter as DeferredMeter).attached).toBe(false);

    const first = await telemetry.exposition.render("prometheus");
    expect((telemetry.meter as DeferredMeter).attached).toBe(true);
    const kongOk = 'operation="GET consumer",outcome="success"';
    expect(sampleOf(first, "kong_operations_total", `${kongOk},circuit_breaker="closed"`)).toBe("1");
    expect(sampleOf(first, "kong_operations_total", 'outcome="rejected",circuit_breaker="closed"')).toBe("1");
    expect(sampleOf(first, "circuit_breaker_rejected_total", 'operation="GET consumer"')).toBe("1");
    expect(sampleOf(first, "circuit_breaker_state_transitions_total", 'from="closed",to="open"')).toBe("1");
    expect(sampleOf(first, "circuit_breaker_fallback_total", 'source="in-memory"')).toBe("1");
    expect(sampleOf(first, "cache_tier_latency_seconds_count", 'tier="redis"')).toBe("1");
    expect(sampleOf(first, "cache_tier_operations_total", 'tier="redis",operation="read"')).toBe("1");
    expect(sampleOf(first, "http_requests_total", 'route="/tokens",status_code="200"')).toBe("1");
    expect(sampleOf(first, "http_response_time_seconds_count", 'route="/tokens"')).toBe("1");
    expect(first).toContain("circuit_breaker_state{");

    metrics.kongOperation("GET consumer", "success");
    metrics.request("GET", "/tokens", 200, 0.001);
    const second = await telemetry.exposition.render("prometheus");
    // The breaker opened above: the call after the scrape is its own series.
    expect(sampleOf(second, "kong_operations_total", `${kongOk},circuit_breaker="open"`)).toBe("1");
    expect(sampleOf(second, "kong_operations_total", `${kongOk},circuit_breaker="closed"`)).toBe("1");
    expect(sampleOf(second, "http_response_time_seconds_count", 'route="/tokens"')).toBe("2");
    await telemetry.shutdown(1_000);
  });

  test("a histogram registered after the first scrape is exported too", async () => {
    const config = testConfig();
    const telemetry = consoleTelemetry(config.telemetry, config.app.environment);
    await telemetry.exposition.render("prometheus");
    const metrics = new ServiceMetrics(telemetry.meter, telemetry.histograms);
    metrics.request("POST", "/tokens", 401, 0.002);
    const text = await telemetry.exposition.render("prometheus");
    expect(sampleOf(text, "http_response_time_seconds_count", 'method="POST",route="/tokens"')).toBe("1");
    expect(sampleOf(text, "kong_operations_total", "")).toBeUndefined();
    await telemetry.shutdown(1_000);
  });

  test("shutting down before any scrape loads nothing and returns", async () => {
    const config = testConfig();
    const telemetry = consoleTelemetry(config.telemetry, config.app.environment);
    await telemetry.shutdown(1_000);
    expect((telemetry.meter as DeferredMeter).attached).toBe(false);
  });

  test("shutting down after a scrape stops the SDK: nothing more is collected", async () => {
    const config = testConfig();
    const telemetry = consoleTelemetry(config.telemetry, config.app.environment);
    await telemetry.exposition.render("prometheus");
    await telemetry.shutdown(1_000);
    await expect(telemetry.exposition.render("prometheus")).rejects.toThrow();
  });

  test("a backlog of held records loads the SDK without a scrape, and every record is there", async () => {
    const config = testConfig();
    const telemetry = consoleTelemetry(config.telemetry, config.app.environment);
    const metrics = new ServiceMetrics(telemetry.meter, telemetry.histograms);
    const meter = telemetry.meter as DeferredMeter;
    for (let i = 0; i < HELD_RECORDS_BEFORE_LOAD; i++) metrics.kongOperation("GET consumer", "timeout");
    await waitFor(() => meter.attached, "the SDK loaded by the backlog", 5_000);
    metrics.kongOperation("GET consumer", "timeout");
    const text = await telemetry.exposition.render("prometheus");
    expect(sampleOf(text, "kong_operations_total", 'outcome="timeout"')).toBe(
      String(HELD_RECORDS_BEFORE_LOAD + 1),
    );
    await telemetry.shutdown(1_000);
  });

  test("what console mode reports of itself, and the service's resource and scope on every series", async () => {
    const config = testConfig({ OTEL_SERVICE_NAME: "console-unit", OTEL_SERVICE_VERSION: "9.8.7" });
    const telemetry = consoleTelemetry(config.telemetry, "staging");
    expect(telemetry.mode).toBe("console");
    expect(telemetry.logTransports).toEqual([]);
    expect(telemetry.droppedSpans()).toBe(0);
    expect(telemetry.endpoints).toBeUndefined();
    const metrics = new ServiceMetrics(telemetry.meter, telemetry.histograms);
    metrics.request("GET", "/tokens", 200, 0.001);
    metrics.kongOperation("GET consumer", "success");
    const text = await telemetry.exposition.render("prometheus");
    const target = text.split("\n").find((line) => line.startsWith("target_info{")) ?? "";
    expect(target).toContain('service_name="console-unit"');
    expect(target).toContain('service_version="9.8.7"');
    expect(target).toContain('deployment_environment_name="staging"');
    expect(target).toMatch(/service_instance_id="[0-9a-f-]{36}"/);
    const scope = 'otel_scope_name="authentication-service",otel_scope_version="9.8.7"';
    expect(sampleOf(text, "http_response_time_seconds_count", scope)).toBe("1");
    expect(sampleOf(text, "kong_operations_total", scope)).toBe("1");
    await telemetry.shutdown(1_000);
  });

  test("the app in console mode starts without the SDK's modules; the first scrape loads them", async () => {
    const script = `
      const { createApp } = await import("./src/app.ts");
      const { testConfig } = await import("./test/support/config.ts");
      const sdk = /node_modules\\/@opentelemetry\\/(sdk-metrics|core|resources)\\//;
      const loaded = () => Object.keys(require.cache).filter((path) => sdk.test(path)).length > 0;
      const app = createApp(testConfig());
      const before = loaded();
      const text = await app.telemetry.exposition.render("prometheus");
      console.log(JSON.stringify({ before, after: loaded(), scraped: text.includes("target_info") }));
      await app.close(1_000);`;
    const child = Bun.spawn([process.execPath, "-e", script], { stdout: "pipe", stderr: "pipe" });
    const [output, errors] = await Promise.all([
      new Response(child.stdout).text(),
      new Response(child.stderr).text(),
    ]);
    expect(await child.exited, errors).toBe(0);
    expect(JSON.parse(output.trim().split("\n").at(-1) as string)).toEqual({
      before: false,
      after: true,
      scraped: true,
    });
  });
});
