import { describe, expect, test } from "bun:test";
import { oauthError } from "../../../src/http/oauth-error.ts";

describe("oauthError: RFC 6749 §5.2 errors", () => {
  test("each status the shared steps and the lookup give has one code", async () => {
    const codes: Record<number, string> = {
      400: "invalid_request",
      401: "invalid_client",
      403: "invalid_client",
      413: "invalid_request",
      429: "temporarily_unavailable",
      500: "server_error",
      503: "temporarily_unavailable",
    };
    for (const [status, code] of Object.entries(codes)) {
      const response = oauthError(Number(status), { type: "ignored-problem-type", detail: "Why." });
      expect(response.status).toBe(Number(status));
      expect(await response.json()).toEqual({ error: code, error_description: "Why." });
    }
  });

  test("a code given wins over the status; no detail, no error_description", async () => {
    expect(await oauthError(400, { error: "unsupported_grant_type" }).json()).toEqual({
      error: "unsupported_grant_type",
    });
    expect(await oauthError(400).json()).toEqual({ error: "invalid_request" });
  });

  test("never cached, JSON, the caller's headers kept", () => {
    const response = oauthError(429, { headers: { "retry-after": "7" } });
    expect(response.headers.get("content-type")).toBe("application/json");
    expect(response.headers.get("cache-control")).toBe("no-store");
    expect(response.headers.get("pragma")).toBe("no-cache");
    expect(response.headers.get("retry-after")).toBe("7");
    expect(response.headers.get("www-authenticate")).toBeNull();
  });

  test("only a 401 challenges, with Basic whatever scheme the steps named", () => {
    const challenged = oauthError(401, { headers: { "www-authenticate": 'Key realm="kong"' } });
    expect(challenged.headers.get("www-authenticate")).toBe('Basic realm="kong"');
    expect(oauthError(403).headers.get("www-authenticate")).toBeNull();
  });
});
