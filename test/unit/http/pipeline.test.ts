import { afterEach, describe, expect, test } from "bun:test";
import type { Server } from "bun";
import { createCors } from "../../../src/http/cors.ts";
import { createPipeline, type Handler, type UnservedReason } from "../../../src/http/pipeline.ts";
import { answerHeaders } from "../../../src/http/request-context.ts";
import { createLogger } from "../../../src/telemetry/logger.ts";
import type { ServiceMetrics } from "../../../src/telemetry/metrics.ts";
import { createSampler } from "../../../src/telemetry/trace-context.ts";
import { createTracing, disabledTracing, type Tracing } from "../../../src/telemetry/tracing.ts";
import { LogCapture } from "../../support/stack.ts";

const MAX_BODY_BYTES = 100;
const UUID = /^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$/;
const SECRET_IN_ERROR = "redis://admin:hunter2@cache.internal";

interface Counted {
  method: string;
  route: string;
  status: number;
  seconds: number;
}

interface Options {
  readonly logLevel?: string;
  readonly tracing?: Tracing;
  readonly cors?: "*" | string[];
  readonly onFirstAnswer?: () => void;
}

/** Handlers mounted under their route template, through the pipeline, on a real Bun.serve. */
const routes: Record<string, Handler> = {
  "/sync": (request, ctx) => new Response(`sync ${ctx.requestId} ${request.method}`),
  "/async": async (_request, ctx) => {
    await Bun.sleep(1);
    return new Response(`async ${ctx.requestId}`, { status: 201 });
  },
  "/items/:id": () => new Response("item"),
  "/throws": () => {
    throw new Error(`cannot reach ${SECRET_IN_ERROR}`);
  },
  "/rejects": async () => {
    await Bun.sleep(1);
    throw new Error(`cannot reach ${SECRET_IN_ERROR}`);
  },
  "/upload": async (request) => new Response(`read ${(await request.text()).length}`),
  // A step noting a header for every answer, then an answer built without the request's headers…
  "/noted": (_request, ctx) => {
    ctx.headers["x-noted"] = "by a step";
    return new Response("noted", { headers: { vary: "Accept", "x-request-id": "the handler's" } });
  },
  // …and one built with them, as the tokens handler does.
  "/given": async (_request, ctx) => {
    ctx.headers["x-noted"] = "by a step";
    await Bun.sleep(1);
    return new Response("given", { headers: answerHeaders(ctx, { "content-type": "text/x-given" }) });
  },
};

const servers: Server<unknown>[] = [];
afterEach(async () => {
  for (const server of servers.splice(0)) await server.stop(true);
});

function start(options: Options = {}) {
  const logs = new LogCapture();
  const logger = createLogger({
    level: options.logLevel ?? "info",
    serviceName: "auth-service",
    serviceVersion: "test",
    environment: "test",
    secrets: [],
    stream: logs,
  });
  const counted: Counted[] = [];
  const metrics = {
    request: (method: string, route: string, status: number, seconds: number) =>
      counted.push({ method, route, status, seconds }),
  } as unknown as ServiceMetrics;
  const unserved: [string, UnservedReason][] = [];
  let draining = false;
  const wrap = createPipeline({
    cors: createCors(options.cors ?? "*"),
    logger,
    tracing: options.tracing ?? disabledTracing,
    metrics,
    maxBodyBytes: MAX_BODY_BYTES,
    isDraining: () => draining,
    onUnserved: (route, reason) => unserved.push([route, reason]),
    ...(options.onFirstAnswer ? { onFirstAnswer: options.onFirstAnswer } : {}),
  });
  const server = Bun.serve({
    hostname: "127.0.0.1",
    port: 0,
    routes: Object.fromEntries(
      Object.entries(routes).map(([route, handler]) => [route, wrap(handler, route)]),
    ),
    fetch: () => new Response("not mounted", { status: 404 }),
  });
  servers.push(server);
  const base = `http://127.0.0.1:${server.port}`;
  return {
    server,
    logs,
    counted,
    unserved,
    drain: () => {
      draining = true;
    },
    fetch: (path: string, init?: RequestInit) => fetch(base + path, init),
  };
}

describe("pipeline: headers on every answer", () => {
  test("a request id (the caller's when sane), nosniff and CORS, from sync and async handlers", async () => {
    const service = start();
    for (const path of ["/sync", "/async"]) {
      const minted = await service.fetch(path);
      const id = minted.headers.get("x-request-id") as string;
      expect(id).toMatch(UUID);
      expect(await minted.text()).toContain(id);
      expect(minted.headers.get("x-content-type-options")).toBe("nosniff");
      expect(minted.headers.get("access-control-allow-origin")).toBe("*");

      const echoed = await service.fetch(path, { headers: { "x-request-id": "trace-abc_123" } });
      expect(echoed.headers.get("x-request-id")).toBe("trace-abc_123");
      expect(await echoed.text()).toContain("trace-abc_123");
    }
    const insane = await service.fetch("/sync", { headers: { "x-request-id": "two words" } });
    expect(insane.headers.get("x-request-id")).toMatch(UUID);
  });

  test("what a step noted for the request is set on an answer built without it; the request id wins", async () => {
    const service = start({ cors: ["https://app.example.com"] });
    const response = await service.fetch("/noted", {
      headers: { origin: "https://app.example.com", "x-request-id": "r-noted" },
    });
    expect(await response.text()).toBe("noted");
    expect(response.headers.get("x-noted")).toBe("by a step");
    expect(response.headers.get("x-request-id")).toBe("r-noted");
    expect(response.headers.get("vary")).toBe("Accept, Origin");
    expect(response.headers.get("access-control-allow-origin")).toBe("https://app.example.com");
  });

  test("an answer built with the request's headers carries each once, with its own", async () => {
    for (const cors of ["*", ["https://app.example.com"]] as const) {
      const service = start({ cors: cors === "*" ? "*" : [...cors] });
      const response = await service.fetch("/given", {
        headers: { origin: "https://app.example.com", "x-request-id": "r-given" },
      });
      expect(await response.text()).toBe("given");
      const headers = [...response.headers.entries()].filter(
        ([name]) => !["content-length", "date"].includes(name),
      );
      expect(Object.fromEntries(headers)).toEqual({
        "content-type": "text/x-given",
        "x-request-id": "r-given",
        "x-content-type-options": "nosniff",
        "x-noted": "by a step",
        "access-control-expose-headers":
          "X-Request-Id, Retry-After, RateLimit-Limit, RateLimit-Remaining, RateLimit-Reset",
        "access-control-allow-origin": cors === "*" ? "*" : "https://app.example.com",
        ...(cors === "*" ? {} : { vary: "Origin" }),
      });
      expect(headers).toHaveLength(cors === "*" ? 6 : 7);
    }
  });

  test("CORS follows API_CORS: a listed origin is echoed with Vary: Origin", async () => {
    const service = start({ cors: ["https://app.example.com"] });
    const response = await service.fetch("/async", { headers: { origin: "https://app.example.com" } });
    expect(response.headers.get("access-control-allow-origin")).toBe("https://app.example.com");
    expect(response.headers.get("vary")).toBe("Origin");
  });

  test("Connection: close on every answer once draining begins, and not before", async () => {
    const service = start();
    expect((await service.fetch("/sync")).headers.get("connection")).toBeNull();
    service.drain();
    for (const path of ["/sync", "/async", "/throws", "/given"]) {
      expect((await service.fetch(path)).headers.get("connection")).toBe("close");
    }
  });
});

describe("pipeline: request bodies over the limit", () => {
  test("a declared length over the limit → 413 problem naming the limit; the handler never runs", async () => {
    const service = start();
    const response = await service.fetch("/upload", { method: "POST", body: "x".repeat(MAX_BODY_BYTES + 1) });
    expect(response.status).toBe(413);
    expect(response.headers.get("content-type")).toBe("application/problem+json");
    expect(response.headers.get("x-request-id")).toMatch(UUID);
    expect(await response.json()).toMatchObject({
      status: 413,
      detail: `Request bodies are limited to ${MAX_BODY_BYTES} bytes.`,
    });
    expect(service.unserved).toEqual([["/upload", "body_too_large"]]);
    expect(service.counted).toMatchObject([{ method: "POST", route: "/upload", status: 413 }]);
  });

  test("a body of exactly the limit reaches the handler", async () => {
    const service = start();
    const response = await service.fetch("/upload", { method: "POST", body: "x".repeat(MAX_BODY_BYTES) });
    expect(response.status).toBe(200);
    expect(await response.text()).toBe(`read ${MAX_BODY_BYTES}`);
    expect(service.unserved).toEqual([]);
  });
});

describe("pipeline: a handler that fails", () => {
  test.each(["/throws", "/rejects"])(
    "%s → 500 problem with a fixed sentence; the error is logged with the request id, never sent",
    async (route) => {
      const service = start();
      const response = await service.fetch(route, { headers: { "x-request-id": "failing-1" } });
      expect(response.status).toBe(500);
      expect(response.headers.get("content-type")).toBe("application/problem+json");
      expect(response.headers.get("x-request-id")).toBe("failing-1");
      const body = await response.text();
      expect(JSON.parse(body)).toEqual({
        type: "about:blank",
        title: "Internal Server Error",
        status: 500,
        detail: "The request could not be served.",
      });
      expect(body).not.toContain("hunter2");
      expect(service.unserved).toEqual([[route, "internal_error"]]);
      expect(service.counted).toMatchObject([{ method: "GET", route, status: 500 }]);
      const logged = service.logs.records().find((record) => record["log.level"] === "error");
      expect(logged).toMatchObject({
        message: "Unhandled error while serving a request",
        http: { request: { id: "failing-1", method: "GET" } },
      });
      expect(JSON.stringify(logged)).toContain("cannot reach");
    },
  );
});

describe("pipeline: what is counted and logged per request", () => {
  for (const first of ["/async", "/sync"]) {
    test(`onFirstAnswer is told once, when the first answer (from ${first}) is built and counted`, async () => {
      const countedWhenTold: number[] = [];
      const service = start({ onFirstAnswer: () => countedWhenTold.push(service.counted.length) });
      expect(countedWhenTold).toEqual([]);
      expect((await service.fetch(first)).status).toBe(first === "/async" ? 201 : 200);
      expect(countedWhenTold).toEqual([1]);
      for (const path of ["/sync", "/async", "/throws"]) await service.fetch(path);
      expect(countedWhenTold).toEqual([1]);
    });
  }

  test("one count per answer, by method, route template (never the path) and status, with its duration", async () => {
    const service = start();
    const waited: number[] = [];
    for (const [path, method] of [
      ["/sync", "GET"],
      ["/async", "POST"],
      ["/items/42", "GET"],
    ] as const) {
      const sent = performance.now();
      await service.fetch(path, { method });
      waited.push((performance.now() - sent) / 1000);
    }
    expect(service.counted.map(({ method, route, status }) => `${method} ${route} ${status}`)).toEqual([
      "GET /sync 200",
      "POST /async 201",
      "GET /items/:id 200",
    ]);
    // Served in this process: the time counted lies within the time the client waited.
    service.counted.forEach(({ seconds }, i) => {
      expect(seconds).toBeGreaterThanOrEqual(0);
      expect(seconds).toBeLessThanOrEqual(waited[i] as number);
    });
    expect(service.counted[1]?.seconds).toBeGreaterThan(0);
  });

  test("at debug level one line per request: method, route and status, request id, the path, the duration", async () => {
    const service = start({ logLevel: "debug" });
    const sent = performance.now();
    await service.fetch("/items/42?x=1", { headers: { "x-request-id": "req-7" } });
    const waitedNs = (performance.now() - sent) * 1e6;
    const lines = service.logs.records().filter((record) => record["log.level"] === "debug");
    expect(lines).toHaveLength(1);
    expect(lines[0]).toMatchObject({
      message: "GET /items/:id 200",
      http: { request: { id: "req-7", method: "GET" }, response: { status_code: 200 } },
      url: { path: "/items/42" },
    });
    const duration = (lines[0] as { event: { duration: number } }).event.duration;
    expect(Number.isInteger(duration)).toBe(true);
    expect(duration).toBeGreaterThan(0);
    expect(duration).toBeLessThanOrEqual(Math.ceil(waitedNs));
  });

  test("above debug level a request that succeeds logs nothing", async () => {
    const service = start({ logLevel: "info" });
    await service.fetch("/sync");
    await service.fetch("/async");
    expect(service.logs.lines).toEqual([]);
  });

  test("with tracing, each request is one server span named after its route, holding the request id", async () => {
    const ended: { name: string; attributes: Record<string, unknown> }[] = [];
    const tracing = createTracing(
      { add: (span) => ended.push({ name: span.name, attributes: { ...span.attributes } }) },
      createSampler("always_on", 1),
    );
    const service = start({ tracing });
    expect((await service.fetch("/items/42", { headers: { "x-request-id": "req-9" } })).status).toBe(200);
    expect((await service.fetch("/async")).status).toBe(201);
    expect(ended.map((span) => span.name)).toEqual(["GET /items/:id", "GET /async"]);
    expect(JSON.stringify(ended[0]?.attributes)).toContain("req-9");
  });
});
