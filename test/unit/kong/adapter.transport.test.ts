import { describe, expect, test } from "bun:test";
import { ConcurrencyLimiter } from "../../../src/resilience/concurrency.ts";
import { type FinishedSpan, SpanKindCode, StatusCode } from "../../../src/telemetry/span-encoding.ts";
import { createSampler } from "../../../src/telemetry/trace-context.ts";
import { createTracing } from "../../../src/telemetry/tracing.ts";
import { hexIds } from "../../support/span-ids.ts";
import { waitFor } from "../../support/wait.ts";
import {
  adapterFor,
  json,
  kongFailureOf,
  kongValueOf,
  type SeenRequest,
  scriptedKongs,
  UNKNOWN_CONSUMER,
} from "./support/kong-adapter.ts";

const ID = "6f1c6d1e-7a2b-4c3d-8e9f-0a1b2c3d4e5f";

const kong = scriptedKongs();

/** Never answers; settles only when the client closes the connection. */
const hang = (request: SeenRequest) =>
  new Promise<Response>((resolve) =>
    request.signal.addEventListener("abort", () => resolve(new Response(null)), { once: true }),
  );

/** A port nothing listens on (bound, then released). */
function closedPort(): number {
  const server = Bun.serve({ hostname: "127.0.0.1", port: 0, fetch: () => new Response() });
  const { port } = server;
  server.stop(true);
  return port as number;
}

describe("when Kong cannot be reached or does not answer", () => {
  test("a refused connection is an outage, named by its code", async () => {
    const { adapter, outcomes } = adapterFor(`http://127.0.0.1:${closedPort()}`);
    const error = await kongFailureOf(adapter.findConsumer("alice"));
    expect(error).toMatchObject({
      kind: "unavailable",
      message: "GET /consumers/alice: connection failed (ECONNREFUSED)",
    });
    expect(error).toMatchObject({ cause: expect.anything() });
    expect(outcomes).toEqual([["GET consumer", "failure"]]);
  });

  test("an admin token that cannot travel in a header fails before reaching Kong, without echoing it", async () => {
    const server = kong(() => json(200, { id: ID }));
    const token = "admin\ntoken";
    const { adapter } = adapterFor(server.url, { token });
    const error = await kongFailureOf(adapter.findConsumer("alice"));
    expect(error).toMatchObject({ kind: "unavailable", message: "GET /consumers/alice: connection failed" });
    expect(error.message).not.toContain(token);
    expect(server.requests).toHaveLength(0);
  });

  test("a Kong that does not answer within KONG_CONNECTION_TIMEOUT is an outage; the read is retried", async () => {
    const server = kong(hang);
    const { adapter } = adapterFor(server.url, { timeoutMs: 150, breakerTimeoutMs: 4_000 });
    const error = await kongFailureOf(adapter.findConsumer("alice"));
    expect(error).toMatchObject({
      kind: "unavailable",
      message: "GET /consumers/alice: no answer within 150 ms",
    });
    expect(server.requests).toHaveLength(2);
    // Both requests were abandoned: the connections to Kong are closed, not left open.
    await waitFor(
      () => server.requests.every((request) => request.signal.aborted),
      "both connections to close",
    );
  });

  test("a create Kong does not answer within the breaker's budget is abandoned, not left open", async () => {
    const server = kong(hang);
    const { adapter, outcomes } = adapterFor(server.url, { timeoutMs: 60_000, breakerTimeoutMs: 300 });
    const error = await kongFailureOf(adapter.createCredential(ID));
    expect(error).toMatchObject({
      kind: "unavailable",
      message: "POST credentials: no answer within 300 ms",
    });
    expect(outcomes).toEqual([["POST credentials", "timeout"]]);
    await waitFor(() => server.requests[0]?.signal.aborted === true, "the create's connection to close");
  });

  test("a read's retry that would not fit in the breaker's budget is not attempted", async () => {
    const server = kong(() => json(503, {}));
    const { adapter } = adapterFor(server.url, { retryDelayMs: 60_000, breakerTimeoutMs: 2_000 });
    expect(await kongFailureOf(adapter.findConsumer("alice"))).toMatchObject({
      kind: "unavailable",
      status: 503,
    });
    expect(server.requests).toHaveLength(1);
  });

  test("without a retry delay configured, a read is retried promptly", async () => {
    const server = kong((_request, index) => (index === 0 ? json(503, {}) : json(200, { id: ID })));
    const { adapter } = adapterFor(server.url, { retryDelayMs: undefined, breakerTimeoutMs: 2_000 });
    expect(await kongValueOf(adapter.findConsumer("alice"))).toEqual({ id: ID });
  });
});

describe("concurrent Admin API calls are bounded (KONG_CONNECTION_POOL_SIZE)", () => {
  test("a call over the limit is refused at once, before Kong or the breaker hears of it", async () => {
    let answer: (response: Response) => void = () => {};
    const server = kong(() => new Promise<Response>((resolve) => (answer = resolve)));
    const { adapter, outcomes } = adapterFor(server.url, { concurrency: new ConcurrencyLimiter(1, 0) });
    const first = adapter.findConsumer("alice");
    await waitFor(() => server.requests.length === 1, "the first call to reach Kong");

    expect(await kongFailureOf(adapter.findConsumer("bob"))).toMatchObject({
      kind: "unavailable",
      message: "GET consumer: too many Kong Admin API calls in flight",
    });
    expect(server.requests).toHaveLength(1);

    answer(json(200, { id: ID, username: "alice" }));
    expect(await kongValueOf(first)).toEqual({ id: ID, username: "alice" });
    expect(outcomes).toEqual([["GET consumer", "success"]]);
    // The slot was given back: the next call goes through.
    answer = () => {};
    const third = adapter.findConsumer("carol");
    await waitFor(() => server.requests.length === 2, "the third call to reach Kong");
    answer(json(200, { id: ID }));
    expect(await kongValueOf(third)).toEqual({ id: ID });
  });

  test("a failed call gives its slot back too", async () => {
    const server = kong(() => json(401, {}));
    const { adapter } = adapterFor(server.url, { concurrency: new ConcurrencyLimiter(1, 0) });
    for (let i = 0; i < 3; i++)
      expect(await kongFailureOf(adapter.findConsumer("a"))).toMatchObject({ status: 401 });
    expect(server.requests).toHaveLength(3);
  });

  test("a call may wait for a slot up to the queue wait", async () => {
    let answer: (response: Response) => void = () => {};
    const server = kong(() => new Promise<Response>((resolve) => (answer = resolve)));
    const { adapter } = adapterFor(server.url, {
      concurrency: new ConcurrencyLimiter(1, 1),
      queueWaitMs: 4_000,
    });
    const first = adapter.findConsumer("alice");
    await waitFor(() => server.requests.length === 1, "the first call to reach Kong");
    const second = adapter.findConsumer("bob");
    answer(json(200, { id: ID }));
    await first;
    await waitFor(() => server.requests.length === 2, "the queued call to reach Kong");
    answer(json(200, { id: ID, username: "bob" }));
    expect(await kongValueOf(second)).toEqual({ id: ID, username: "bob" });
  });
});

describe("each Admin API call is a client span whose context reaches Kong", () => {
  test("span name, attributes and status; Kong receives the span's traceparent; no consumer in names", async () => {
    const ended: FinishedSpan[] = [];
    const tracing = createTracing({ add: (span) => ended.push(span) }, createSampler("always_on", 1));
    const server = kong((request) => {
      if (request.method === "POST") return json(201, { id: ID, key: "k" });
      return json(200, request.path.endsWith("/jwt") ? { data: [], next: null } : { id: ID });
    });
    const { adapter, outcomes } = adapterFor(server.url, { tracing });
    await kongValueOf(adapter.findConsumer("alice"));
    await kongValueOf(adapter.listCredentials(ID));
    await kongValueOf(adapter.createCredential(ID));
    expect(await adapter.probe()).toEqual({ ok: true, value: undefined });

    expect(ended.map((span) => span.name)).toEqual([
      "Kong GET consumer",
      "Kong GET credentials",
      "Kong POST credentials",
      "Kong GET health",
    ]);
    // The breaker (and so the metrics) name operations the same way.
    expect(outcomes.map(([operation]) => operation)).toEqual([
      "GET consumer",
      "GET credentials",
      "POST credentials",
      "GET health",
    ]);
    const [lookup, list, create, probe] = ended as [FinishedSpan, FinishedSpan, FinishedSpan, FinishedSpan];
    expect(list.attributes).toMatchObject({
      "kong.operation": "credentials",
      "url.path": `/consumers/${ID}/jwt`,
    });
    expect(lookup.kind).toBe(SpanKindCode.CLIENT);
    expect(lookup.attributes).toEqual({
      "http.request.method": "GET",
      "server.address": "127.0.0.1",
      "url.path": "/consumers/alice",
      "kong.operation": "consumer",
      "kong.mode": "API_GATEWAY",
      "http.response.status_code": 200,
    });
    expect(create.attributes).toMatchObject({
      "kong.operation": "credentials",
      "http.response.status_code": 201,
    });
    expect(probe.attributes).toMatchObject({
      "kong.operation": "health",
      "url.path": "/status",
      "http.response.status_code": 200,
    });

    const { traceId, spanId } = hexIds(lookup);
    expect(server.requests[0]?.headers.get("traceparent")).toBe(`00-${traceId}-${spanId}-01`);
  });

  test("a failed call's span is an error with Kong's status; a 404 is Kong answering, not an error", async () => {
    const ended: FinishedSpan[] = [];
    const tracing = createTracing({ add: (span) => ended.push(span) }, createSampler("always_on", 1));
    const server = kong((request) => json(request.path.endsWith("/jwt") ? 404 : 403, {}));
    const { adapter } = adapterFor(server.url, { tracing });
    await kongFailureOf(adapter.findConsumer("alice"));
    expect(await adapter.listCredentials(ID)).toEqual(UNKNOWN_CONSUMER);

    const [refused, unknown] = ended as [FinishedSpan, FinishedSpan];
    expect(refused.attributes["http.response.status_code"]).toBe(403);
    expect(refused.statusCode).toBe(StatusCode.ERROR);
    expect(refused.statusMessage).toBe("GET /consumers/alice: Kong refused the admin token (403)");
    expect(unknown.attributes["http.response.status_code"]).toBe(404);
    expect(unknown.statusCode).toBe(StatusCode.UNSET);
  });

  test("a call that never reached Kong has no status code, only the error", async () => {
    const ended: FinishedSpan[] = [];
    const tracing = createTracing({ add: (span) => ended.push(span) }, createSampler("always_on", 1));
    const server = kong(() => json(200, {}));
    const url = server.url;
    await server.stop();
    const { adapter } = adapterFor(url, { tracing, retryDelayMs: 0 });
    expect(await kongFailureOf(adapter.findConsumer("alice"))).toMatchObject({ kind: "unavailable" });
    expect(ended.length).toBeGreaterThan(0);
    for (const span of ended) {
      expect(Object.keys(span.attributes)).not.toContain("http.response.status_code");
      expect(span.statusCode).toBe(StatusCode.ERROR);
    }
  });
});
