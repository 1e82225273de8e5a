import { createHash, timingSafeEqual } from "node:crypto";
import type { Handler } from "./pipeline.ts";
import { problem } from "./problem.ts";

/**
 * Debug and profiling endpoints exist only outside production; where DEBUG_TOKEN is set they also
 * require it in `X-Debug-Token` (compared in constant time). Without DEBUG_TOKEN they are open, which
 * is what a developer's laptop wants.
 */
export function createDebugGuard(debugToken: string | undefined) {
  const expected = debugToken ? digest(debugToken) : undefined;
  return (handler: Handler): Handler => {
    if (!expected) return handler;
    return (request, ctx) => {
      const presented = request.headers.get("x-debug-token");
      if (presented === null || !timingSafeEqual(digest(presented), expected)) {
        return problem(401, {
          type: "debug-token-required",
          detail: "Debug endpoints require the X-Debug-Token header.",
          headers: { "www-authenticate": 'Token realm="debug"' },
        });
      }
      return handler(request, ctx);
    };
  };
}

function digest(value: string): Buffer {
  return createHash("sha256").update(value).digest();
}
