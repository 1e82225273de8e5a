import type { createDebugHandlers } from "../handlers/debug.ts";
import { PROFILING_REPORT_ROUTE, type ProfilingHandlers } from "../handlers/profiling.ts";
import type { Handler } from "../http/pipeline.ts";
import { type Route, withBody } from "../http/route.ts";
import {
  metricsExportResponseSchema,
  metricsStatsResponseSchema,
  metricsTestBodySchema,
  metricsTestResponseSchema,
  profilingBodySchemas,
  profilingResponseSchema,
} from "./schemas.ts";

/** Debug bodies are a few fields. */
const MAX_BODY_BYTES = 1024;

/** Who may call the debug endpoints (src/http/debug-guard.ts) and how the document says so. */
export interface DebugAccess {
  readonly guard: (handler: Handler) => Handler;
  /** Whether DEBUG_TOKEN is required. */
  readonly tokenRequired: boolean;
}

/** One object on every debug route, so the YAML document names it once and refers to it after. */
const TOKEN_REQUIRED = [{ debugToken: [] }];

/** The route behind the guard, documented as needing the debug token when it does. */
function guarded(access: DebugAccess, route: Route): Route {
  return {
    ...route,
    ...(access.tokenRequired ? { security: TOKEN_REQUIRED } : {}),
    handler: access.guard(route.handler),
  };
}

type DebugHandlers = ReturnType<typeof createDebugHandlers>;

/** `/debug/metrics/*`: telemetry by hand, outside production. */
export function debugMetricsRoutes(access: DebugAccess, debug: DebugHandlers): Route[] {
  const routes: Route[] = [
    withBody({
      method: "POST",
      path: "/debug/metrics/test",
      summary: "Record test metrics (not in production)",
      tags: ["debug"],
      body: metricsTestBodySchema,
      maxBodyBytes: MAX_BODY_BYTES,
      ok: { status: 200, schema: metricsTestResponseSchema, description: "Recorded" },
      handle: debug.test,
    }),
    {
      method: "POST",
      path: "/debug/metrics/export",
      summary: "Force an OTLP export (not in production)",
      tags: ["debug"],
      ok: { status: 200, schema: metricsExportResponseSchema, description: "Exported" },
      extra: { "409": { description: "TELEMETRY_MODE is console" } },
      handler: debug.exportNow,
    },
    {
      method: "GET",
      path: "/debug/metrics/stats",
      summary: "Export statistics (not in production)",
      tags: ["debug"],
      ok: { status: 200, schema: metricsStatsResponseSchema, description: "Statistics" },
      handler: debug.stats,
    },
  ];
  return routes.map((route) => guarded(access, route));
}

/** `/debug/profiling/*`, mounted only when PROFILING_ENABLED is true as well. */
export function profilingRoutes(
  access: DebugAccess,
  profiling: ProfilingHandlers,
  maxSessionMs: number,
): Route[] {
  const bodies = profilingBodySchemas(maxSessionMs);
  const tags = ["debug"];
  const ok = (description: string, status = 200) => ({
    status,
    schema: profilingResponseSchema,
    description,
  });
  const busy = { "409": { description: "A session is already running, or none is" } };
  const routes: Route[] = [
    withBody({
      method: "POST",
      path: "/debug/profiling/start",
      summary: "Start a profiling session",
      tags,
      body: bodies.start,
      maxBodyBytes: MAX_BODY_BYTES,
      ok: ok("Started", 201),
      extra: busy,
      handle: profiling.start,
    }),
    withBody({
      method: "POST",
      path: "/debug/profiling/stop",
      summary: "Stop the session and write its files",
      tags,
      body: bodies.stop,
      maxBodyBytes: MAX_BODY_BYTES,
      ok: ok("Stopped"),
      extra: busy,
      handle: profiling.stop,
    }),
    ...profilingReads(profiling, tags, ok),
  ];
  return routes.map((route) => guarded(access, route));
}

/** The profiling routes without a body. */
function profilingReads(
  profiling: ProfilingHandlers,
  tags: string[],
  ok: (description: string) => Route["ok"],
): Route[] {
  const route = (
    method: Route["method"],
    path: string,
    summary: string,
    answer: string,
    handler: Handler,
  ) => ({
    method,
    path,
    summary,
    tags,
    ok: ok(answer),
    handler,
  });
  return [
    route("GET", "/debug/profiling/status", "Profiling status", "Status", profiling.status),
    route("GET", "/debug/profiling/reports", "List reports", "Reports", profiling.reports),
    route(
      "GET",
      PROFILING_REPORT_ROUTE,
      "Download a .cpuprofile or .heapsnapshot",
      "The file",
      profiling.download,
    ),
    route("POST", "/debug/profiling/cleanup", "Delete all reports", "Deleted", profiling.cleanup),
  ];
}
