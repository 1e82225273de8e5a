import { afterAll, afterEach, beforeAll, describe, expect, test } from "bun:test";
import { mkdtemp, readdir, rm, writeFile } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import type { Server } from "bun";
import { profilingRoutes } from "../../../src/api/debug-routes.ts";
import { createProfilingHandlers } from "../../../src/handlers/profiling.ts";
import type { Handler } from "../../../src/http/pipeline.ts";
import { PROBLEM_TYPE_BASE } from "../../../src/http/problem.ts";
import { CommonHeaders } from "../../../src/http/request-context.ts";
import { Profiler } from "../../../src/profiling/profiler.ts";
import { waitFor } from "../../support/wait.ts";
import { cpuProfileProblems, heapSnapshotProblems } from "./devtools-format.ts";

const MAX_SESSION_MS = 60_000;
let dir: string;
let profiler: Profiler;
let server: Server<unknown>;
let base: string;

/** The handlers on a Bun.serve of their own, through the route definitions the app mounts. */
beforeAll(async () => {
  dir = await mkdtemp(join(tmpdir(), "profiling-handlers-"));
  profiler = new Profiler({ environment: "development", outputDir: dir, maxSessionMs: MAX_SESSION_MS });
  const open = { guard: (handler: Handler) => handler, tokenRequired: false };
  const routes: Record<
    string,
    Record<string, (request: Request, srv: Server<unknown>) => Promise<Response>>
  > = {};
  for (const route of profilingRoutes(open, createProfilingHandlers(profiler), MAX_SESSION_MS)) {
    routes[route.path] = {
      [route.method]: (request: Request, srv: Server<unknown>) =>
        Promise.resolve(
          route.handler(request, {
            requestId: "test",
            startedAt: performance.now(),
            server: srv,
            headers: {},
            common: new CommonHeaders({}),
            headersGiven: false,
          }),
        ),
    };
  }
  server = Bun.serve({
    hostname: "127.0.0.1",
    port: 0,
    development: false,
    routes,
    fetch: () => new Response("no route", { status: 404 }),
  });
  base = `http://127.0.0.1:${server.port}/debug/profiling`;
});

afterEach(async () => {
  await profiler.close();
  await profiler.cleanup();
});

afterAll(async () => {
  await server.stop(true);
  await rm(dir, { recursive: true, force: true });
});

const post = (path: string, body?: unknown) =>
  fetch(base + path, {
    method: "POST",
    ...(body === undefined
      ? {}
      : {
          headers: { "content-type": "application/json" },
          body: typeof body === "string" ? body : JSON.stringify(body),
        }),
  });
const get = (path: string) => fetch(base + path);

interface Problem {
  type: string;
  title: string;
  status: number;
  detail?: string;
}
async function expectProblem(response: Response, status: number, type?: string): Promise<Problem> {
  expect(response.status).toBe(status);
  expect(response.headers.get("content-type")).toBe("application/problem+json");
  const body = (await response.json()) as Problem;
  expect(body.status).toBe(status);
  if (type) expect(body.type).toBe(PROBLEM_TYPE_BASE + type);
  return body;
}

describe("a session through the endpoints", () => {
  test("start → status → stop → reports → download: files Chrome DevTools opens", async () => {
    const started = await post("/start", { heapSnapshot: true });
    expect(started.status).toBe(201);
    const { session } = (await started.json()) as { session: { id: string; heapSnapshot: boolean } };
    expect(session.heapSnapshot).toBe(true);

    const during = (await (await get("/status")).json()) as { running: boolean; session: { id: string } };
    expect(during.running).toBe(true);
    expect(during.session.id).toBe(session.id);

    // Traffic while recording: the handlers' own server serves it.
    for (let i = 0; i < 50; i++) await (await get("/status")).arrayBuffer();

    const stopped = await post("/stop");
    expect(stopped.status).toBe(200);
    const result = (await stopped.json()) as {
      status: string;
      session: { id: string; stoppedBy: string; artifacts: { name: string }[] };
    };
    expect(result.status).toBe("stopped");
    expect(result.session.stoppedBy).toBe("request");
    const names = result.session.artifacts.map((artifact) => artifact.name).sort();
    expect(names).toEqual([`${session.id}.cpuprofile`, `${session.id}.heapsnapshot`]);

    const after = (await (await get("/status")).json()) as {
      running: boolean;
      session: null;
      lastSession: { id: string };
    };
    expect(after).toMatchObject({ running: false, session: null, lastSession: { id: session.id } });

    const listed = (await (await get("/reports")).json()) as {
      reports: { name: string; kind: string; bytes: number; url: string }[];
    };
    expect(listed.reports.map((report) => report.name).sort()).toEqual(names);
    for (const report of listed.reports) {
      expect(report.url).toBe(`/debug/profiling/reports/${report.name}`);
      const download = await fetch(`http://127.0.0.1:${server.port}${report.url}`);
      expect(download.status).toBe(200);
      expect(download.headers.get("content-disposition")).toBe(`attachment; filename="${report.name}"`);
      const bytes = await download.arrayBuffer();
      expect(bytes.byteLength).toBe(report.bytes);
      const parsed: unknown = JSON.parse(new TextDecoder().decode(bytes));
      const problems =
        report.kind === "cpuprofile" ? cpuProfileProblems(parsed) : heapSnapshotProblems(parsed);
      expect(problems).toEqual([]);
    }
  }, 20_000);

  test("a second start while one runs is 409, and the first keeps running", async () => {
    expect((await post("/start")).status).toBe(201);
    const second = await expectProblem(await post("/start", {}), 409, "profiling-session-running");
    expect(second.detail).toContain("already running");
    expect(((await (await get("/status")).json()) as { running: boolean }).running).toBe(true);
  });

  test("stop without a session is 409", async () => {
    const body = await expectProblem(await post("/stop"), 409, "profiling-no-session");
    expect(body.detail).toBe("No profiling session is running.");
  });

  test("a session with a short maxDurationMs stops by itself", async () => {
    expect((await post("/start", { maxDurationMs: 150 })).status).toBe(201);
    let status = { running: true, lastSession: { stoppedBy: "" } };
    await waitFor(async () => {
      status = (await (await get("/status")).json()) as typeof status;
      return !status.running;
    }, "the session to stop at its time limit");
    expect(status.lastSession.stoppedBy).toBe("time limit");
  });

  test("cleanup deletes the artifacts", async () => {
    await post("/start");
    await post("/stop");
    expect(await readdir(dir)).toHaveLength(1);
    const cleaned = (await (await post("/cleanup")).json()) as { deleted: string[]; freedBytes: number };
    expect(cleaned.deleted).toHaveLength(1);
    expect(cleaned.freedBytes).toBeGreaterThan(0);
    expect(await readdir(dir)).toEqual([]);
    expect(await (await get("/reports")).json()).toEqual({ reports: [] });
  });
});

describe("bodies are validated", () => {
  const invalidStarts: [string, unknown][] = [
    ["not JSON", "{heapSnapshot: true"],
    ["an unknown field", { heapSnapshot: true, seconds: 5 }],
    ["heapSnapshot not a boolean", { heapSnapshot: "yes" }],
    ["maxDurationMs over the maximum", { maxDurationMs: MAX_SESSION_MS + 1 }],
    ["maxDurationMs not an integer", { maxDurationMs: 1500.5 }],
    ["maxDurationMs too small", { maxDurationMs: 10 }],
    ["an array", [true]],
  ];
  for (const [what, body] of invalidStarts) {
    test(`start with ${what} is 400 and starts nothing`, async () => {
      const problem = await expectProblem(await post("/start", body), 400, "invalid-body");
      expect(problem.detail?.length).toBeGreaterThan(0);
      expect(profiler.running).toBe(false);
    });
  }

  test("the 400 names the offending field", async () => {
    const problem = await expectProblem(await post("/start", { maxDurationMs: "soon" }), 400);
    expect(problem.detail).toStartWith("maxDurationMs:");
  });

  test("stop with an unknown field is 400 and the session keeps running", async () => {
    await post("/start");
    await expectProblem(await post("/stop", { now: true }), 400, "invalid-body");
    expect(profiler.running).toBe(true);
  });
});

describe("downloads serve only what the profiler wrote", () => {
  test("unknown, foreign and path-like names are 404", async () => {
    await writeFile(join(dir, "notes.txt"), "secret");
    await writeFile(join(tmpdir(), "outside.cpuprofile"), "{}");
    for (const name of [
      "notes.txt",
      "profile-20200101T000000000Z-000000.cpuprofile",
      "..%2Fnotes.txt",
      "%2e%2e%2foutside.cpuprofile",
      "..%2F..%2F..%2Fetc%2Fpasswd",
      "%2Fetc%2Fpasswd",
      "%00",
    ]) {
      const response = await get(`/reports/${name}`);
      const body = await expectProblem(response, 404, "profiling-report-not-found");
      expect(body.detail).toBe("No such report.");
    }
  });
});
