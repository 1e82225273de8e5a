import pkg from "../package.json" with { type: "json" };
import { MemoryCredentialCache } from "./cache/memory.ts";
import type { Config } from "./config/index.ts";
import { CredentialService } from "./credentials/service.ts";
import { createHealthHandlers } from "./handlers/health.ts";
import { createOpenApiHandler } from "./handlers/openapi.ts";
import { createTokensHandler } from "./handlers/tokens.ts";
import { createCors } from "./http/cors.ts";
import { createPipeline } from "./http/pipeline.ts";
import { TokenSigner } from "./jwt/signer.ts";
import { KongAdapter } from "./kong/adapter.ts";
import { KongHealthProbe } from "./kong/health.ts";
import { createStrategy } from "./kong/strategies.ts";
import { buildRoutes } from "./routes.ts";
import { createLogger, type Logger } from "./telemetry/logger.ts";

export interface AppOverrides {
  readonly logger?: Logger;
  readonly now?: () => number;
}

/** Largest request body any endpoint accepts; nothing this service takes is bigger. */
const MAX_BODY_BYTES = 16 * 1024;
const UNKNOWN_CONSUMER_TTL_MS = 10_000;
const KONG_PROBE_TTL_MS = 5_000;
const RETRY_AFTER_SECONDS = 5;

/**
 * The composition root: every part is built here, once, from the frozen configuration and handed
 * to what needs it. Tests build the same app with other parts.
 */
export function createApp(config: Readonly<Config>, overrides: AppOverrides = {}) {
  const now = overrides.now ?? Date.now;
  const version = pkg.version;
  const logger =
    overrides.logger ??
    createLogger({
      level: config.app.logLevel,
      serviceName: "authentication-service",
      serviceVersion: version,
      environment: config.app.environment,
      secrets: [config.kong.adminToken],
    });

  const kong = new KongAdapter(
    createStrategy(config.kong.mode, config.kong.adminUrl, config.kong.adminToken),
    {
      timeoutMs: config.kong.connectionTimeoutMs,
    },
  );
  const cache = new MemoryCredentialCache({
    maxSize: config.cache.maxSize,
    freshMs: config.cache.ttlSeconds * 1000,
    staleMs: 0,
    unknownConsumerMs: UNKNOWN_CONSUMER_TTL_MS,
    now,
  });
  const credentials = new CredentialService(kong, cache, {
    secretIsBase64: config.jwt.secretIsBase64,
    retryAfterSeconds: RETRY_AFTER_SECONDS,
    now,
  });
  const signer = new TokenSigner(config.jwt, () => Math.floor(now() / 1000));

  let draining = false;
  const health = createHealthHandlers({
    config,
    version,
    kongProbe: new KongHealthProbe(kong, KONG_PROBE_TTL_MS, now),
    cache,
    isDraining: () => draining,
    startedAt: now(),
  });

  const cors = createCors(config.api.cors);
  const pipeline = createPipeline({ cors, logger, maxBodyBytes: MAX_BODY_BYTES });
  const { routes, fallback } = buildRoutes(
    {
      "/": { GET: createOpenApiHandler(config.api) },
      "/tokens": { GET: createTokensHandler({ credentials, signer, logger }) },
      "/health": { GET: health.health },
      "/health/live": { GET: health.live },
      "/health/ready": { GET: health.ready },
    },
    pipeline,
    cors,
  );

  return {
    config,
    logger,
    version,
    routes,
    fallback,
    /** Hard ceiling for Bun; the pipeline answers 413 with a problem body well below it. */
    maxRequestBodySize: MAX_BODY_BYTES * 4,
    startDraining() {
      draining = true;
    },
    get draining() {
      return draining;
    },
    async close() {
      logger.close();
    },
  };
}

export type App = ReturnType<typeof createApp>;
