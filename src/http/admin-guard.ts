import type { Handler } from "./pipeline.ts";
import { problem } from "./problem.ts";
import { secretMatcher } from "./secret.ts";

/** Header values arrive trimmed (fetch's Headers): nothing may follow the token. */
const BEARER = /^Bearer\s+(\S+)$/i;

/**
 * The admin routes' check: `Authorization: Bearer <ADMIN_TOKEN>`, compared in constant time
 * (secretMatcher). A missing or wrong token is a 401 problem that names neither value.
 */
export function createAdminGuard(adminToken: string): (handler: Handler) => Handler {
  const matches = secretMatcher(adminToken);
  return (handler) => (request, ctx) => {
    // A missing header reads as "null", which is no bearer credential.
    const presented = BEARER.exec(String(request.headers.get("authorization")))?.[1] ?? null;
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
