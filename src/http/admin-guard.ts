import type { Handler } from "./pipeline.ts";
import { problem } from "./problem.ts";
import { secretMatcher } from "./secret.ts";

const BEARER = /^Bearer\s+(\S+)\s*$/i;

/**
 * The admin routes' check: `Authorization: Bearer <ADMIN_TOKEN>`, compared in constant time
 * (secretMatcher). A missing or wrong token is a 401 problem that names neither value.
 */
export function createAdminGuard(adminToken: string): (handler: Handler) => Handler {
  const matches = secretMatcher(adminToken);
  return (handler) => (request, ctx) => {
    const presented = BEARER.exec(request.headers.get("authorization") ?? "")?.[1] ?? null;
    if (!matches(presented)) {
      return problem(401, {
        type: "admin-token-required",
        detail: "Admin routes require the admin token as a Bearer token.",
        headers: { "www-authenticate": 'Bearer realm="admin"' },
      });
    }
    return handler(request, ctx);
  };
}
