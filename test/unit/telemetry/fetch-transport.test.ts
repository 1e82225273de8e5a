import { afterAll, describe, expect, test } from "bun:test";
import { FetchTransport, retryAfterMs } from "../../../src/telemetry/fetch-transport.ts";

/** A collector whose answers are scripted, and which notes each request's client port. */
function collector(answers: (() => Response)[]) {
  const seen: { port: number; body: number; contentType: string | null; tenant: string | null }[] = [];
  const server = Bun.serve({
    hostname: "127.0.0.1",
    port: 0,
    async fetch(request, srv) {
      const body = await request.arrayBuffer();
      seen.push({
        port: srv.requestIP(request)?.port ?? 0,
        body: body.byteLength,
        contentType: request.headers.get("content-type"),
        tenant: request.headers.get("x-tenant"),
      });
      const next = answers.shift();
      return next ? next() : new Response(null, { status: 200 });
    },
  });
  return { url: `http://127.0.0.1:${server.port}/v1/traces`, seen, stop: () => server.stop(true) };
}

const headers = async () => ({ "Content-Type": "application/x-protobuf", "x-tenant": "acme" });
const stops: (() => unknown)[] = [];
afterAll(() => {
  for (const stop of stops) stop();
});

describe("FetchTransport (OTLP/HTTP trace export)", () => {
  test("posts the bytes with the configured headers, over one kept-alive connection", async () => {
    const target = collector([]);
    stops.push(target.stop);
    const transport = new FetchTransport(target.url, headers);
    for (let i = 0; i < 4; i++) {
      expect((await transport.send(new Uint8Array(100_000), 5_000)).status).toBe("success");
    }
    expect(target.seen.map((request) => request.body)).toEqual([100_000, 100_000, 100_000, 100_000]);
    expect(target.seen.every((r) => r.contentType === "application/x-protobuf" && r.tenant === "acme")).toBe(
      true,
    );
    expect(new Set(target.seen.map((request) => request.port)).size).toBe(1);
  });

  test("a protobuf answer is handed on (partial success); other answers are not", async () => {
    const partial = new Uint8Array([0x0a, 0x02, 0x08, 0x03]);
    const target = collector([
      () => new Response(partial, { headers: { "content-type": "application/x-protobuf" } }),
      () => Response.json({}),
    ]);
    stops.push(target.stop);
    const transport = new FetchTransport(target.url, headers);
    expect(await transport.send(new Uint8Array(4), 5_000)).toEqual({ status: "success", data: partial });
    expect(await transport.send(new Uint8Array(4), 5_000)).toEqual({ status: "success" });
  });

  test("429/502/503/504 are retried with backoff, Retry-After wins; other errors are not retried", async () => {
    const target = collector([
      () => new Response(null, { status: 503 }),
      () => new Response(null, { status: 429, headers: { "retry-after": "2" } }),
      () => new Response(null, { status: 200 }),
      () => new Response(null, { status: 400 }),
    ]);
    stops.push(target.stop);
    const waits: number[] = [];
    const transport = new FetchTransport(target.url, headers, async (ms) => waits.push(ms));
    expect((await transport.send(new Uint8Array(4), 10_000)).status).toBe("success");
    expect(waits).toHaveLength(2);
    expect(waits[0]).toBeGreaterThanOrEqual(800);
    expect(waits[0]).toBeLessThanOrEqual(1_200);
    expect(waits[1]).toBe(2_000);
    const refused = await transport.send(new Uint8Array(4), 10_000);
    expect(refused.status).toBe("failure");
    expect(refused.status === "failure" && refused.error.message).toBe("OTLP export answered HTTP 400");
    expect(waits).toHaveLength(2);
    expect(target.seen).toHaveLength(4);
  });

  test("gives up after five retries, or when the next wait would pass the export timeout", async () => {
    const target = collector(Array.from({ length: 10 }, () => () => new Response(null, { status: 502 })));
    stops.push(target.stop);
    const waits: number[] = [];
    const transport = new FetchTransport(target.url, headers, async (ms) => waits.push(ms));
    expect((await transport.send(new Uint8Array(4), 60_000)).status).toBe("retryable");
    expect(target.seen).toHaveLength(6);
    expect(waits.every((ms) => ms <= 5_000)).toBe(true);

    const slow = collector([() => new Response(null, { status: 503, headers: { "retry-after": "30" } })]);
    stops.push(slow.stop);
    const patient = new FetchTransport(slow.url, headers, async (ms) => waits.push(ms));
    expect((await patient.send(new Uint8Array(4), 5_000)).status).toBe("retryable");
    expect(slow.seen).toHaveLength(1);
  });

  test("an unreachable collector is a retryable network error", async () => {
    const gone = collector([]);
    const url = gone.url;
    await gone.stop();
    const transport = new FetchTransport(url, headers, async () => {});
    const result = await transport.send(new Uint8Array(4), 2_000);
    expect(result.status).toBe("retryable");
  });

  test("Retry-After in seconds or as an HTTP date", () => {
    const now = Date.parse("2026-11-29T12:00:00Z");
    expect(retryAfterMs("3", now)).toBe(3_000);
    expect(retryAfterMs(" 0 ", now)).toBe(0);
    expect(retryAfterMs("Sun, 29 Nov 2026 12:00:10 GMT", now)).toBe(10_000);
    expect(retryAfterMs("Sun, 29 Nov 2026 11:00:00 GMT", now)).toBe(0);
    expect(retryAfterMs("soon", now)).toBeUndefined();
    expect(retryAfterMs(null, now)).toBeUndefined();
  });
});
