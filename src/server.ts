import { type App, createAppWithTelemetry } from "./app.ts";
import { ConfigError, loadConfig } from "./config/index.ts";

/** Slow or idle clients are cut off after this many seconds without traffic. */
const IDLE_TIMEOUT_SECONDS = 10;

export function startServer(app: App, idleTimeoutSeconds = IDLE_TIMEOUT_SECONDS) {
  const { config } = app;
  const server = Bun.serve({
    hostname: config.app.host,
    port: config.app.port,
    idleTimeout: idleTimeoutSeconds,
    maxRequestBodySize: app.maxRequestBodySize,
    routes: app.routes,
    fetch: app.fallback,
    development: false,
  });
  app.serving(server);
  return server;
}

/**
 * Graceful stop within SHUTDOWN_TIMEOUT_MS. For the drain window (SHUTDOWN_DRAIN_MS) requests are
 * still served, but readiness fails and every answer carries `Connection: close`, so balancers stop
 * routing here and keep-alive clients move on after their answer. Only then does the listener close:
 * Bun closes idle keep-alive connections at once, dropping a request the client has just written.
 * In-flight requests get the rest of the budget, then the rest is cut and the process exits 0.
 */
export async function shutdown(app: App, server: ReturnType<typeof startServer>, signal: string) {
  if (app.draining) return;
  app.startDraining();
  const { shutdownTimeoutMs: timeout, shutdownDrainMs: drainMs } = app.config.app;
  app.logger.info("Shutting down", { event: { action: "shutdown" }, signal });
  await Bun.sleep(drainMs);
  const drained = await Promise.race([
    server.stop(false).then(() => true),
    Bun.sleep(timeout - drainMs).then(() => false),
  ]);
  if (!drained) {
    app.logger.warn(`In-flight requests still running after ${timeout} ms; closing them`);
    await server.stop(true);
  }
  app.logger.info("Stopped", { event: { action: "stopped" } });
  // Telemetry gets what is left of the budget, at least a second, to flush its last batch.
  await app.close(Math.max(1_000, Math.min(5_000, timeout)));
}

async function main() {
  const bootStarted = performance.now();
  let config: ReturnType<typeof loadConfig>;
  try {
    config = loadConfig();
  } catch (error) {
    if (!(error instanceof ConfigError)) throw error;
    process.stderr.write(`${error.message}\n`);
    process.exit(1);
  }

  const app = await createAppWithTelemetry(config);
  const server = startServer(app);
  app.start();
  app.logger.info(`Listening on ${server.url}`, {
    event: { action: "started", duration: Math.round((performance.now() - bootStarted) * 1e6) },
    config: {
      environment: config.app.environment,
      kong: {
        mode: config.kong.mode,
        url: new URL(config.kong.adminUrl).origin,
        timeoutMs: config.kong.connectionTimeoutMs,
      },
      redis: { enabled: config.redis.enabled, highAvailability: config.cache.highAvailability },
      telemetry: { mode: app.telemetry.mode, endpoints: app.telemetry.endpoints },
      jwt: { keyClaimName: config.jwt.keyClaimName, expirationMinutes: config.jwt.expirationMinutes },
      cache: {
        ttlSeconds: config.cache.ttlSeconds,
        maxSize: config.cache.maxSize,
        staleToleranceMinutes: config.cache.staleToleranceMinutes,
        encrypted: config.cache.encryptionKey !== undefined,
      },
      security: {
        gatewaySecret: config.security.gatewaySecret !== undefined,
        trustedProxyCidrs: config.security.trustedProxyCidrs ?? [],
      },
    },
  });

  // A stray rejection (a library's background task) is a bug to log, not a reason to stop serving.
  process.on("unhandledRejection", (reason) => {
    app.logger.error("Unhandled promise rejection", {
      err: reason instanceof Error ? reason : new Error(String(reason)),
    });
  });

  for (const signal of ["SIGTERM", "SIGINT"] as const) {
    process.on(signal, () => {
      shutdown(app, server, signal).then(
        () => process.exit(0),
        () => process.exit(1),
      );
    });
  }
}

// No top-level await: the image's bundle is CommonJS, the format Bun's bytecode cache needs (Dockerfile).
if (import.meta.main) {
  main().catch((error: unknown) => {
    process.stderr.write(`${error instanceof Error ? (error.stack ?? error.message) : String(error)}\n`);
    process.exit(1);
  });
}
