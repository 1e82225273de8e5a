import { describe, expect, test } from "bun:test";
import { createAdminGuard } from "../../../src/http/admin-guard.ts";
import type { RequestContext } from "../../../src/http/request-context.ts";

const TOKEN = "admin-token-0123456789abcdef0123456789";
const ctx = { requestId: "r", startedAt: 0 } as RequestContext;
const guarded = createAdminGuard(TOKEN)(() => new Response("admitted"));
const call = (authorization?: string) =>
  guarded(
    new Request("http://service/admin", authorization === undefined ? {} : { headers: { authorization } }),
    ctx,
  ) as Response;

describe("the admin guard", () => {
  test("admits exactly `Bearer <ADMIN_TOKEN>`, the scheme in any case, blanks around it", async () => {
    for (const header of [`Bearer ${TOKEN}`, `bearer ${TOKEN}`, `BEARER   ${TOKEN}  `]) {
      expect(await call(header).text()).toBe("admitted");
    }
  });

  test("refuses anything else with a 401 problem that quotes nothing presented", async () => {
    for (const header of [
      undefined,
      "",
      TOKEN,
      `Basic ${TOKEN}`,
      `Bearer ${TOKEN}x`,
      `Bearer ${TOKEN.slice(1)}`,
      `Bearer ${TOKEN} extra`,
      `Token ${TOKEN}`,
      "Bearer null",
      "null",
      `xBearer ${TOKEN}`,
    ]) {
      const refused = call(header);
      expect(refused.status).toBe(401);
      expect(refused.headers.get("content-type")).toBe("application/problem+json");
      expect(refused.headers.get("www-authenticate")).toBe('Bearer realm="admin"');
      const body = await refused.json();
      expect(body).toEqual({
        type: "urn:auth-service:problem:admin-token-required",
        title: "Unauthorized",
        status: 401,
        detail: "Admin routes require the admin token as a Bearer token.",
      });
      expect(JSON.stringify(body)).not.toContain(TOKEN.slice(6));
    }
  });
});
