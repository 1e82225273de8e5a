import type { BunRequest } from "bun";
import type { ProfilingStartBody, ProfilingStopBody } from "../api/schemas.ts";
import type { Handler } from "../http/pipeline.ts";
import { problem } from "../http/problem.ts";
import type { Profiler } from "../profiling/profiler.ts";
import { json } from "./json.ts";

/** Bun's route pattern for the download; the name arrives as `request.params.name`. */
export const PROFILING_REPORT_ROUTE = "/debug/profiling/reports/:name";

/**
 * The six `/debug/profiling/*` endpoints over one Profiler (routes in src/api/debug-routes.ts). They
 * are mounted only outside production and only when PROFILING_ENABLED is true; the Profiler itself
 * refuses production too.
 */
export function createProfilingHandlers(profiler: Profiler) {
  /** The body arrives validated by its route (src/api/debug-routes.ts). */
  const start = async (body: ProfilingStartBody): Promise<Response> => {
    const result = await profiler.start(body);
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

  const stop = async (body: ProfilingStopBody): Promise<Response> => {
    const result = await profiler.stop(body);
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

  const reports: Handler = async () => json({ reports: (await profiler.reports()).map(listed) });

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

/** A report as the listing shows it: where to download it and what opens it. */
function listed(artifact: Awaited<ReturnType<Profiler["reports"]>>[number]) {
  return {
    ...artifact,
    url: `/debug/profiling/reports/${artifact.name}`,
    opensIn:
      artifact.kind === "cpuprofile"
        ? "Chrome DevTools › Performance › Load profile"
        : "Chrome DevTools › Memory › Load",
  };
}
