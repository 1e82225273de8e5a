import { describe, expect, test } from "bun:test";
import { ROOT_CONTEXT, TraceFlags, trace } from "@opentelemetry/api";
import { type FinishedSpan, SpanKindCode, StatusCode } from "../../../src/telemetry/span-encoding.ts";
import { createSampler, type SamplerName } from "../../../src/telemetry/trace-context.ts";
import { createTracing, disabledTracing } from "../../../src/telemetry/tracing.ts";
import { rawRequest } from "../../support/raw-http.ts";
import { hexIds } from "../../support/span-ids.ts";

type Ended = FinishedSpan & ReturnType<typeof hexIds>;

const TRACE = "0af7651916cd43dd8448eb211c80319c";
const PARENT = "b7ad6b7169203331";

function tracer(sampler: SamplerName = "parentbased_always_on") {
  const ended: Ended[] = [];
  const tracing = createTracing(
    { add: (span) => ended.push({ ...span, ...hexIds(span) }) },
    createSampler(sampler, 1),
  );
  return { tracing, ended, byName: (name: string) => ended.find((span) => span.name === name) };
}

const request = (headers: Record<string, string> = {}) =>
  new Request("http://127.0.0.1:3000/tokens?x=1", { headers });

describe("tracing switched off", () => {
  test("every helper only runs the work it is given, and reports no span", async () => {
    const answer = new Response("ok");
    expect(disabledTracing.enabled).toBe(false);
    expect(disabledTracing.server(request(), "/tokens", "r", () => answer)).toBe(answer);
    expect(await disabledTracing.internal("x", {}, async (span) => ({ span }))).toEqual({ span: undefined });
    expect(disabledTracing.leaf("x", {}, () => 42)).toBe(42);
    expect(await disabledTracing.client("x", {}, {}, async (span) => ({ span }))).toEqual({
      span: undefined,
    });
    expect(() => disabledTracing.annotate({ a: 1 })).not.toThrow();
    expect(disabledTracing.activeIds()).toBeUndefined();
  });
});

describe("the service's tracer", () => {
  test("a server span continues the caller's trace; its children hang under it", async () => {
    const { tracing, ended, byName } = tracer();
    const kongHeaders: Record<string, string> = {};
    const response = await tracing.server(
      request({ traceparent: `00-${TRACE}-${PARENT}-01`, tracestate: "congo=t61rcWkgMzE" }),
      "/tokens",
      "req-1",
      async () => {
        tracing.annotate({ "credential.cache_hit": false });
        // Work that crosses timers, as a real lookup does: each child must still find its parent.
        await tracing.internal("credential.lookup", { "credential.cache_hit": false }, async (span) => {
          await Bun.sleep(1);
          await tracing.client(
            "Kong GET consumer",
            { "kong.operation": "consumer" },
            kongHeaders,
            async (client) => {
              await Bun.sleep(1);
              client?.setAttribute("http.response.status_code", 200);
            },
          );
          span?.setAttribute("credential.outcome", "kong");
        });
        return tracing.leaf("jwt.sign", { "jwt.algorithm": "HS256" }, () => new Response("ok"));
      },
    );
    expect(response.status).toBe(200);
    expect(ended.map((span) => span.name)).toEqual([
      "Kong GET consumer",
      "credential.lookup",
      "jwt.sign",
      "GET /tokens",
    ]);

    const server = byName("GET /tokens") as Ended;
    expect(server.traceId).toBe(TRACE);
    expect(server.parentSpanId).toBe(PARENT);
    expect(server.parentIsRemote).toBe(true);
    expect(server.traceState).toBe("congo=t61rcWkgMzE");
    expect(server.kind).toBe(SpanKindCode.SERVER);
    expect(server.attributes).toEqual({
      "http.request.method": "GET",
      "http.route": "/tokens",
      "url.path": "/tokens",
      "http.request.id": "req-1",
      "credential.cache_hit": false,
      "http.response.status_code": 200,
    });

    const lookup = byName("credential.lookup") as Ended;
    const kong = byName("Kong GET consumer") as Ended;
    const sign = byName("jwt.sign") as Ended;
    expect(lookup.parentSpanId).toBe(server.spanId);
    expect(kong.parentSpanId).toBe(lookup.spanId);
    expect(sign.parentSpanId).toBe(server.spanId);
    for (const child of [lookup, kong, sign]) {
      expect(child.traceId).toBe(TRACE);
      expect(child.parentIsRemote).toBe(false);
    }
    expect(kong.kind).toBe(SpanKindCode.CLIENT);
    expect(kong.attributes["http.response.status_code"]).toBe(200);
    expect(lookup.attributes["credential.outcome"]).toBe("kong");
    // Kong sees the client span as the parent of whatever it does.
    expect(kongHeaders).toEqual({
      traceparent: `00-${TRACE}-${kong.spanId}-01`,
      tracestate: "congo=t61rcWkgMzE",
    });
    expect(kong.start).toBeGreaterThanOrEqual(lookup.start);
  });

  test("a leaf span around a promised result (a signature from the signing pool) ends when it settles", async () => {
    const { tracing, ended, byName } = tracer();
    let deliver: (value: string) => void = () => {};
    let refuse: (error: Error) => void = () => {};
    const signature = new Promise<string>((resolve) => {
      deliver = resolve;
    });
    const failing = new Promise<string>((_resolve, reject) => {
      refuse = reject;
    });
    const served = tracing.server(request(), "/tokens", "req-leaf", async () => {
      const signed = tracing.leaf("jwt.sign", { "jwt.algorithm": "EdDSA" }, () => signature);
      const refused = tracing
        .leaf("jwt.sign.refused", {}, () => failing)
        .catch((error: Error) => error.message);
      expect(ended).toEqual([]);
      deliver("sig");
      refuse(new Error("no key"));
      expect(await signed).toBe("sig");
      expect(await refused).toBe("no key");
      return new Response("ok");
    });
    await served;
    expect(() =>
      tracing.leaf("jwt.sign.threw", {}, () => {
        throw new Error("at once");
      }),
    ).toThrow("at once");
    expect(ended.map((span) => span.name)).toEqual([
      "jwt.sign",
      "jwt.sign.refused",
      "GET /tokens",
      "jwt.sign.threw",
    ]);
    expect(byName("jwt.sign.threw")?.statusCode).toBe(StatusCode.ERROR);
    expect(byName("jwt.sign")?.statusCode).not.toBe(StatusCode.ERROR);
    expect(byName("jwt.sign.refused")?.statusCode).toBe(StatusCode.ERROR);
  });

  test("new traces and spans get random W3C ids, never all zero", () => {
    const { tracing, ended } = tracer();
    for (let i = 0; i < 5000; i++) {
      tracing.server(request(), "/tokens", `r-${i}`, () =>
        tracing.leaf("jwt.sign", {}, () => new Response("ok")),
      );
    }
    const traces = new Set(ended.map((span) => span.traceId));
    const spans = new Set(ended.map((span) => span.spanId));
    expect(traces.size).toBe(5000);
    expect(spans.size).toBe(10_000);
    for (const id of traces) expect(id).toMatch(/^[0-9a-f]{32}$/);
    for (const id of spans) expect(id).toMatch(/^[0-9a-f]{16}$/);
    expect(traces.has("0".repeat(32))).toBe(false);
    expect(spans.has("0".repeat(16))).toBe(false);
  });

  test("without a caller's context a new trace starts, as a root", () => {
    const { tracing, ended } = tracer();
    tracing.server(request({ traceparent: "garbage" }), "/tokens", "req-2", () => new Response("ok"));
    const [server] = ended as [Ended];
    expect(server.traceId).toMatch(/^[0-9a-f]{32}$/);
    expect(server.parentSpanId).toBeUndefined();
    expect(server.parentIsRemote).toBe(false);
  });

  test("a trace the caller did not sample records nothing but still propagates its ids", async () => {
    const { tracing, ended } = tracer();
    const headers: Record<string, string> = {};
    let ids: ReturnType<typeof tracing.activeIds>;
    await tracing.server(
      request({ traceparent: `00-${TRACE}-${PARENT}-00` }),
      "/tokens",
      "req-3",
      async () => {
        await tracing.client("Kong GET consumer", {}, headers, async () => {
          ids = tracing.activeIds();
        });
        return new Response("ok");
      },
    );
    expect(ended).toHaveLength(0);
    expect(headers.traceparent).toMatch(new RegExp(`^00-${TRACE}-[0-9a-f]{16}-00$`));
    expect(ids?.traceId).toBe(TRACE);
    expect(ids?.sampled).toBe(false);
    expect(headers.traceparent).toContain(ids?.spanId as string);
  });

  test("always_off records nothing; always_on records even when the caller did not sample", () => {
    const off = tracer("always_off");
    off.tracing.server(request(), "/tokens", "r", () => new Response("ok"));
    expect(off.ended).toHaveLength(0);
    const on = tracer("always_on");
    on.tracing.server(
      request({ traceparent: `00-${TRACE}-${PARENT}-00` }),
      "/tokens",
      "r",
      () => new Response("ok"),
    );
    expect(on.ended).toHaveLength(1);
  });

  test("failures: an exception event and an error status; 5xx answers are errors too", async () => {
    const { tracing, byName } = tracer();
    await expect(
      tracing.server(request(), "/tokens", "req-4", async () => {
        await tracing.internal("credential.lookup", {}, async () => {
          throw new TypeError("Kong answered 503");
        });
        return new Response("unreachable");
      }),
    ).rejects.toThrow("Kong answered 503");
    const lookup = byName("credential.lookup") as Ended;
    expect(lookup.statusCode).toBe(StatusCode.ERROR);
    expect(lookup.statusMessage).toBe("Kong answered 503");
    expect(lookup.events?.[0]?.name).toBe("exception");
    expect(lookup.events?.[0]?.attributes["exception.type"]).toBe("TypeError");
    expect(String(lookup.events?.[0]?.attributes["exception.stacktrace"])).toContain("TypeError");
    expect(byName("GET /tokens")?.statusCode).toBe(StatusCode.ERROR);

    const second = tracer();
    second.tracing.server(request(), "/tokens", "req-5", () => new Response("no", { status: 503 }));
    second.tracing.server(request(), "/tokens", "req-6", () => new Response("no", { status: 404 }));
    expect(second.ended.map((span) => span.statusCode)).toEqual([StatusCode.ERROR, StatusCode.UNSET]);

    // 500 is the first server error; 499 is the client's.
    const edge = tracer();
    edge.tracing.server(request(), "/tokens", "req-7", () => new Response("no", { status: 500 }));
    edge.tracing.server(request(), "/tokens", "req-8", () => new Response("no", { status: 499 }));
    expect(edge.ended.map((span) => span.statusCode)).toEqual([StatusCode.ERROR, StatusCode.UNSET]);
  });

  test("a handler that throws at once: the server span fails and ends, the error reaches the caller", () => {
    const { tracing, ended } = tracer();
    expect(() =>
      tracing.server(request(), "/tokens", "req-9", () => {
        throw new RangeError("at once");
      }),
    ).toThrow("at once");
    expect(ended).toHaveLength(1);
    expect(ended[0]?.statusCode).toBe(StatusCode.ERROR);
    expect(ended[0]?.events?.[0]?.attributes["exception.type"]).toBe("RangeError");
  });

  test("internal and client spans carry the attributes they were started with", async () => {
    const { tracing, byName } = tracer();
    await tracing.server(request(), "/tokens", "req-10", async () => {
      await tracing.internal("credential.lookup", { "credential.cache_hit": false }, async () => {});
      await tracing.client("Kong GET consumer", { "kong.operation": "consumer" }, {}, async () => {});
      return new Response("ok");
    });
    expect(byName("credential.lookup")?.attributes).toEqual({ "credential.cache_hit": false });
    expect(byName("Kong GET consumer")?.attributes).toEqual({ "kong.operation": "consumer" });
  });

  test("span names stay METHOD route past the 32 methods whose names are kept", () => {
    const { tracing, ended } = tracer();
    const methods = Array.from({ length: 34 }, (_, i) => `VERB${i}`);
    for (const method of methods) {
      // Bun's Request keeps only the methods it knows: the test makes up a request per method.
      const odd = {
        url: "http://127.0.0.1:3000/tokens",
        method,
        headers: new Headers(),
      } as unknown as Request;
      tracing.server(odd, "/tokens", method, () => new Response("ok"));
    }
    expect(ended.map((span) => span.name)).toEqual(methods.map((method) => `${method} /tokens`));
  });

  test("log correlation inside a context a library made: that context's span, sampled as its flags say", () => {
    const { tracing } = tracer();
    expect(tracing.enabled).toBe(true);
    const cases = [
      [TraceFlags.SAMPLED, true],
      [TraceFlags.NONE, false],
    ] as const;
    for (const [traceFlags, sampled] of cases) {
      const remote = trace.wrapSpanContext({ traceId: TRACE, spanId: PARENT, traceFlags, isRemote: true });
      const ids = tracing.contextManager.with(trace.setSpan(ROOT_CONTEXT, remote), () => tracing.activeIds());
      expect(ids).toEqual({ traceId: TRACE, spanId: PARENT, sampled });
    }
  });

  test("annotate outside a request does nothing, and throws nothing", () => {
    const { tracing, ended } = tracer();
    expect(() => tracing.annotate({ "credential.cache_hit": true })).not.toThrow();
    expect(ended).toEqual([]);
  });

  test("url.path of a URL Bun could not give a path to (an unparsable host) is /", () => {
    const { tracing, ended } = tracer();
    const odd = { url: "http://[::1", method: "GET", headers: new Headers() } as unknown as Request;
    tracing.server(odd, "unmatched", "req-11", () => new Response("ok"));
    expect(ended[0]?.attributes["url.path"]).toBe("/");
  });

  test("a literal route is its own url.path, without request.url; a route with a parameter or a wildcard, and the fallback, read it", () => {
    const { tracing, ended } = tracer();
    let reads = 0;
    const at = (url: string) =>
      ({
        get url() {
          reads++;
          return url;
        },
        method: "GET",
        headers: new Headers(),
      }) as unknown as Request;
    const paths: [string, string, string, number][] = [
      ["/health/ready", "http://h/health/ready?probe=1", "/health/ready", 0],
      ["/admin/consumers/:id", "http://h/admin/consumers/c-1?x", "/admin/consumers/c-1", 1],
      ["/files/*", "http://h/files/a/b", "/files/a/b", 1],
      ["unmatched", "http://h/nowhere", "/nowhere", 1],
    ];
    for (const [route, url, path, read] of paths) {
      reads = 0;
      ended.length = 0;
      tracing.server(at(url), route, "req-12", () => new Response("ok"));
      expect([ended[0]?.attributes["url.path"], reads], route).toEqual([path, read]);
    }
  });

  test("log correlation sees the active span, and nothing outside a request", () => {
    const { tracing } = tracer();
    expect(tracing.activeIds()).toBeUndefined();
    let inside: ReturnType<typeof tracing.activeIds>;
    tracing.server(request({ traceparent: `00-${TRACE}-${PARENT}-01` }), "/tokens", "r", () => {
      inside = tracing.activeIds();
      return new Response("ok");
    });
    expect(inside?.traceId).toBe(TRACE);
    expect(inside?.spanId).toMatch(/^[0-9a-f]{16}$/);
    expect(inside?.spanId).not.toBe(PARENT);
    expect(tracing.activeIds()).toBeUndefined();
  });

  test("url.path is the request's path when Bun received no Host header (a relative request.url)", async () => {
    const { tracing, ended, byName } = tracer();
    const server = Bun.serve({
      port: 0,
      hostname: "127.0.0.1",
      fetch: (received) => tracing.server(received, "unmatched", "req-no-host", () => new Response("ok")),
    });
    try {
      for (const [request, path] of [
        ["GET /a/b?x=1 HTTP/1.0\r\n\r\n", "/a/b"],
        ["GET /health HTTP/1.1\r\nHost:\r\nConnection: close\r\n\r\n", "/health"],
      ] as const) {
        const answer = await rawRequest(server.port as number, request);
        expect(answer.status).toBe(200);
        expect(byName("GET unmatched")?.attributes["url.path"]).toBe(path);
        ended.length = 0;
      }
    } finally {
      await server.stop(true);
    }
  });
});
