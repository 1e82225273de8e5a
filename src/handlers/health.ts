import type { MemoryCredentialCache } from "../cache/memory.ts";
import type { Config } from "../config/index.ts";
import type { KongHealthProbe } from "../kong/health.ts";

export interface HealthDeps {
  readonly config: Readonly<Config>;
  readonly version: string;
  readonly kongProbe: KongHealthProbe;
  readonly cache: MemoryCredentialCache;
  readonly isDraining: () => boolean;
  readonly startedAt: number;
}

const JSON_HEADERS = { "content-type": "application/json", "cache-control": "no-store" };
const json = (body: unknown, status = 200) =>
  new Response(JSON.stringify(body), { status, headers: JSON_HEADERS });

/** The Admin API location without anything secret: no userinfo, no query. */
export function publicUrl(url: string): string {
  const parsed = new URL(url);
  return `${parsed.origin}${parsed.pathname}`;
}

export function createHealthHandlers(deps: HealthDeps) {
  const { config } = deps;
  const uptimeSeconds = () => Math.round((Date.now() - deps.startedAt) / 1000);

  async function health(): Promise<Response> {
    const kong = await deps.kongProbe.check();
    const status = kong.healthy ? "healthy" : "unhealthy";
    return json(
      {
        status,
        timestamp: new Date().toISOString(),
        uptime: uptimeSeconds(),
        version: deps.version,
        environment: config.app.environment,
        dependencies: {
          kong: {
            status: kong.healthy ? "healthy" : "unhealthy",
            mode: config.kong.mode,
            url: publicUrl(config.kong.adminUrl),
            responseTime: kong.responseTimeMs,
            ...(kong.error ? { error: kong.error } : {}),
          },
          cache: { type: "memory", ...deps.cache.stats() },
        },
      },
      status === "unhealthy" ? 503 : 200,
    );
  }

  /** Liveness: the process answers. Never depends on Kong, or Kubernetes would restart healthy pods. */
  function live(): Response {
    return json({ status: "alive", timestamp: new Date().toISOString(), uptime: uptimeSeconds() });
  }

  /** Readiness: false while draining, so load balancers stop sending before the process exits. */
  function ready(): Response {
    if (deps.isDraining()) return json({ status: "not_ready", reason: "shutting down" }, 503);
    return json({ status: "ready", timestamp: new Date().toISOString() });
  }

  return { health, live, ready };
}
