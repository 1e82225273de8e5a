import type { BunRequest } from "bun";
import type { InvalidateResponse, RotateResponse } from "../api/admin-schemas.ts";
import type { Invalidate } from "../credentials/invalidation.ts";
import type { CredentialRotation } from "../credentials/rotation.ts";
import type { Handler } from "../http/pipeline.ts";
import { problem } from "../http/problem.ts";
import type { RequestContext } from "../http/request-context.ts";
import type { KongFailure } from "../kong/result.ts";
import type { Logger } from "../telemetry/logger.ts";
import type { ServiceMetrics } from "../telemetry/metrics.ts";
import { json } from "./json.ts";

export const ADMIN_INVALIDATE_ROUTE = "/admin/consumers/:id/invalidate";
export const ADMIN_ROTATE_ROUTE = "/admin/consumers/:id/rotate";

export interface AdminDeps {
  readonly invalidate: Invalidate;
  readonly rotation: Pick<CredentialRotation, "rotate">;
  readonly logger: Logger;
  readonly metrics: Pick<ServiceMetrics, "credentialOperation">;
  /** What a 503 tells the caller to wait before trying again. */
  readonly retryAfterSeconds: () => number;
}

/** Kong consumer ids are UUIDs, as X-Consumer-ID is (src/http/consumer-identity.ts). */
const UUID = /^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$/i;

function consumerIdOf(request: Request): string | undefined {
  // Bun fills `params` on every route with a parameter; both admin routes have `:id`.
  const { id } = (request as BunRequest<typeof ADMIN_ROTATE_ROUTE>).params;
  return UUID.test(id) ? id.toLowerCase() : undefined;
}

const notAConsumerId = () =>
  problem(400, { type: "invalid-consumer-id", detail: "The path does not name a Kong consumer id." });

/** Who an admin log line is about: the consumer and the request; the token never appears. */
const logFields = (consumerId: string, ctx: RequestContext, action: string) => ({
  event: { action, category: ["iam"] },
  consumer: { id: consumerId },
  http: { request: { id: ctx.requestId } },
});

/** POST /admin/consumers/{id}/invalidate and /rotate. */
export function createAdminHandlers(deps: AdminDeps): { invalidate: Handler; rotate: Handler } {
  const { logger, metrics } = deps;

  const invalidate: Handler = async (request, ctx) => {
    const consumerId = consumerIdOf(request);
    if (!consumerId) return notAConsumerId();
    const scope = await deps.invalidate(consumerId);
    metrics.credentialOperation("invalidate", scope);
    logger.info("Consumer's cached credentials invalidated (admin)", {
      ...logFields(consumerId, ctx, "admin-invalidate"),
      scope,
    });
    const body: InvalidateResponse = { consumerId, scope };
    return json(body);
  };

  const rotate: Handler = async (request, ctx) => {
    const consumerId = consumerIdOf(request);
    if (!consumerId) return notAConsumerId();
    const result = await deps.rotation.rotate(consumerId);
    const fields = logFields(consumerId, ctx, "admin-rotate");
    if (!result.ok) {
      metrics.credentialOperation("rotate", result.error.kind);
      logger.warn(`Consumer rotation failed: ${reasonOf(result.error)}`, fields);
      return rotationFailure(result.error, deps.retryAfterSeconds);
    }
    const body: RotateResponse = result.value;
    metrics.credentialOperation("rotate", body.credential.created ? "rotated" : "current");
    logger.info("Consumer's credential rotated (admin)", {
      ...fields,
      // Ids only, and not under a "credential" key, which the log redactor blanks.
      rotation: {
        current_id: body.credential.id,
        created: body.credential.created,
        retired_ids: body.retired.map(({ id }) => id),
        kept_ids: body.kept.map(({ id }) => id),
      },
      scope: body.scope,
    });
    return json(body);
  };

  return { invalidate, rotate };
}

function reasonOf(failure: KongFailure): string {
  return failure.kind === "unknown-consumer" ? "Kong does not know the consumer" : failure.message;
}

function rotationFailure(failure: KongFailure, retryAfterSeconds: () => number): Response {
  switch (failure.kind) {
    case "unknown-consumer":
      return problem(404, { type: "unknown-consumer", detail: "Kong does not know this consumer." });
    case "unavailable":
      return problem(503, {
        type: "kong-unavailable",
        detail: "Kong is unreachable; nothing was rotated. Try again shortly.",
        headers: { "retry-after": String(retryAfterSeconds()) },
      });
    case "misconfigured":
      return problem(500, { type: "misconfigured", detail: "The service cannot use Kong's Admin API." });
  }
}
