import type { BunRequest } from "bun";
import { z } from "zod";
import { readJson } from "../http/body.ts";
import type { Handler } from "../http/pipeline.ts";
import { problem } from "../http/problem.ts";
import type { Profiler } from "../profiling/profiler.ts";
import { json } from "./json.ts";

/** Bun's route pattern for the download; the name arrives as `request.params.name`. */
export const PROFILING_REPORT_ROUTE = "/debug/profiling/reports/:name";

const MAX_BODY_BYTES = 1024;

/** Request bodies of the start and stop endpoints; the OpenAPI document is built from them too. */
export function profilingBodySchemas(maxSessionMs: number) {
  return {
    start: z.strictObject({
      heapSnapshot: z.boolean().optional(),
      maxDurationMs: z.int().min(100).max(maxSessionMs).optional(),
    }),
    stop: z.strictObject({ heapSnapshot: z.boolean().optional() }),
  };
}

/**
 * The six `/debug/profiling/*` endpoints over one Profiler. They are mounted only outside
 * production and only when PROFILING_ENABLED is true; the Profiler itself refuses production too.
 */
export function createProfilingHandlers(profiler: Profiler) {
  const { start: startBody, stop: stopBody } = profilingBodySchemas(profiler.maxSessionMs);

  const start: Handler = async (request) => {
    const body = await readJson(request, startBody, MAX_BODY_BYTES);
    if (!body.ok) return body.response;
    const result = await profiler.start(body.value);
    if (!result.ok) {
      return problem(409, {
        type: "profiling-session-running",
        detail: result.session
          ? `Session ${result.session.id} is already running; stop it first.`
          : "A session is starting or stopping; try again shortly.",
      });
    }
    return json({ status: "started", session: result.session }, 201);
  };

  const stop: Handler = async (request) => {
    const body = await readJson(request, stopBody, MAX_BODY_BYTES);
    if (!body.ok) return body.response;
    const result = await profiler.stop(body.value);
    if (!result.ok) {
      return problem(409, {
        type: "profiling-no-session",
        detail:
          result.reason === "idle"
            ? "No profiling session is running."
            : "The session is already stopping; try again shortly.",
      });
    }
    return json({ status: "stopped", session: result.session });
  };

  const status: Handler = async () => json(await profiler.status());

  const reports: Handler = async () => {
    const artifacts = await profiler.reports();
    return json({
      reports: artifacts.map((artifact) => ({
        ...artifact,
        url: `/debug/profiling/reports/${artifact.name}`,
        opensIn:
          artifact.kind === "cpuprofile"
            ? "Chrome DevTools › Performance › Load profile"
            : "Chrome DevTools › Memory › Load",
      })),
    });
  };

  const download: Handler = async (request) => {
    const name = (request as BunRequest<typeof PROFILING_REPORT_ROUTE>).params?.name ?? "";
    const found = await profiler.read(name);
    if (!found) return problem(404, { type: "profiling-report-not-found", detail: "No such report." });
    return new Response(found.file, {
      headers: {
        "content-type": "application/json",
        "content-disposition": `attachment; filename="${found.artifact.name}"`,
        "cache-control": "no-store",
      },
    });
  };

  const cleanup: Handler = async () => json(await profiler.cleanup());

  return { start, stop, status, reports, download, cleanup };
}

export type ProfilingHandlers = ReturnType<typeof createProfilingHandlers>;
