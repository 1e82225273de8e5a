import type { Config } from "../config/index.ts";
import type { Handler } from "./pipeline.ts";
import { problem } from "./problem.ts";
import { secretMatcher } from "./secret.ts";

/**
 * Whether debug and profiling endpoints exist, and who may call them. A heap snapshot holds every
 * secret in memory, so outside a developer's machine and tests they exist only behind DEBUG_TOKEN:
 * never in production, in staging only with the token. Where DEBUG_TOKEN is set it is required in
 * `X-Debug-Token` (compared in constant time). Undefined means: do not mount them.
 */
export function createDebugGuard(
  environment: Config["app"]["environment"],
  debugToken: string | undefined,
): ((handler: Handler) => Handler) | undefined {
  if (environment === "production") return undefined;
  if (!debugToken) {
    const local = environment === "development" || environment === "test";
    return local ? (handler) => handler : undefined;
  }
  const matches = secretMatcher(debugToken);
  return (handler: Handler): Handler =>
    (request, ctx) => {
      if (!matches(request.headers.get("x-debug-token"))) {
        return problem(401, {
          type: "debug-token-required",
          detail: "Debug endpoints require the X-Debug-Token header.",
          headers: { "www-authenticate": 'Token realm="debug"' },
        });
      }
      return handler(request, ctx);
    };
}
