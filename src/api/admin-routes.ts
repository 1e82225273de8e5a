import { ADMIN_INVALIDATE_ROUTE, ADMIN_ROTATE_ROUTE } from "../handlers/admin.ts";
import type { Handler } from "../http/pipeline.ts";
import type { Route } from "../http/route.ts";
import { invalidateResponseSchema, rotateResponseSchema } from "./admin-schemas.ts";

/** One object on every admin route, so the YAML document names it once. */
const ADMIN_TOKEN_REQUIRED = [{ adminToken: [] }];

const retryAfter = { "Retry-After": { description: "Seconds to wait", schema: { type: "integer" } } };

const common = {
  "400": { description: "The path does not name a Kong consumer id (a UUID)" },
  "401": { description: "Missing or wrong admin token" },
};

/**
 * The admin routes, mounted only when ADMIN_TOKEN is set (absent, not hidden, otherwise), each behind
 * `guard`. Kong's public route never reaches them (docs/kong-setup.md).
 */
export function adminRoutes(
  guard: (handler: Handler) => Handler,
  handlers: { invalidate: Handler; rotate: Handler },
): Route[] {
  return [
    {
      method: "POST",
      path: ADMIN_INVALIDATE_ROUTE,
      summary: "Drop every cached copy of a consumer's credential, in every instance",
      tags: ["admin"],
      security: ADMIN_TOKEN_REQUIRED,
      ok: { status: 200, schema: invalidateResponseSchema, description: "Invalidated" },
      extra: common,
      handler: guard(handlers.invalidate),
    },
    {
      method: "POST",
      path: ADMIN_ROTATE_ROUTE,
      summary: "Rotate a consumer's credential; superseded ones are removed once their tokens expired",
      tags: ["admin"],
      security: ADMIN_TOKEN_REQUIRED,
      ok: { status: 200, schema: rotateResponseSchema, description: "Rotated" },
      extra: {
        ...common,
        "404": { description: "Kong does not know the consumer" },
        "500": { description: "The service cannot use Kong's Admin API (misconfiguration)" },
        "503": { description: "Kong unreachable; nothing was rotated", headers: retryAfter },
      },
      handler: guard(handlers.rotate),
    },
  ];
}
