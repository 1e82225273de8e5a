import { afterEach, beforeEach, describe, expect, test } from "bun:test";
import { KongEmulator, type KongMode } from "../../support/kong-emulator.ts";
import { AdminClient } from "./admin-client.ts";

describe.each(["API_GATEWAY", "KONNECT"] as const)(
  "Kong emulator credential pagination (%s)",
  (mode: KongMode) => {
    let kong: KongEmulator;
    let admin: AdminClient;

    beforeEach(() => {
      kong = KongEmulator.start({ mode, pageSize: 2 });
      admin = new AdminClient(kong);
      kong.addConsumer({ username: "paged" });
    });
    afterEach(() => kong.stop());

    const nextPrefix = () =>
      mode === "API_GATEWAY"
        ? "/consumers/paged/jwt?offset="
        : `/v2/control-planes/${kong.controlPlaneId}/core-entities/consumers/paged/jwt?offset=`;

    test("lists by id, so the newest credential is not necessarily first", async () => {
      // The newest credential gets the smallest id: an age-ordered list would put it last.
      const ids = ["00000000", "11111111", "22222222"].map((p) => `${p}-0000-4000-8000-000000000000`);
      kong.addCredential("paged", { id: ids[2], created_at: 1_700_000_000 });
      kong.addCredential("paged", { id: ids[1], created_at: 1_700_000_100 });
      kong.addCredential("paged", { id: ids[0], created_at: 1_700_000_200 });

      const listed = await admin.request("GET", "/consumers/paged/jwt?size=10");
      expect(listed.status).toBe(200);
      expect(listed.body.data.map((c: { id: string }) => c.id)).toEqual(ids);
      expect(listed.body.data[0].created_at).toBe(1_700_000_200);
      expect(listed.body.next).toBeNull();
      expect(listed.body).not.toHaveProperty("offset");
    });

    test("follows next until it is null and sees every credential once", async () => {
      const created = Array.from({ length: 5 }, () => kong.addCredential("paged").id).sort();
      const seen: string[] = [];
      const pageSizes: number[] = [];
      let url: string | null = admin.url("/consumers/paged/jwt");
      while (url !== null) {
        const page = await admin.send("GET", url);
        expect(page.status).toBe(200);
        pageSizes.push(page.body.data.length);
        seen.push(...page.body.data.map((c: { id: string }) => c.id));
        if (page.body.next !== null) {
          expect(page.body.next.startsWith(nextPrefix())).toBe(true);
          expect(page.body.next).toEndWith(encodeURIComponent(page.body.offset));
        }
        url = page.body.next === null ? null : admin.nextUrl(page.body.next);
      }
      expect(pageSizes).toEqual([2, 2, 1]);
      expect(seen).toEqual(created);
    });

    test("honours size on the first page; next carries only the offset, as Kong's nested lists do", async () => {
      for (let i = 0; i < 5; i++) kong.addCredential("paged");
      const first = await admin.request("GET", "/consumers/paged/jwt?size=3");
      expect(first.body.data).toHaveLength(3);
      expect(first.body.next).not.toContain("size=");
      const second = await admin.send("GET", admin.nextUrl(first.body.next));
      expect(second.body.data).toHaveLength(2);
      expect(second.body.next).toBeNull();
    });

    test("keeps paging correctly when a credential is deleted between pages", async () => {
      const ids = Array.from({ length: 4 }, () => kong.addCredential("paged").id).sort();
      const first = await admin.request("GET", "/consumers/paged/jwt");
      kong.removeCredential("paged", ids[1] ?? "");
      const second = await admin.send("GET", admin.nextUrl(first.body.next));
      expect(second.body.data.map((c: { id: string }) => c.id)).toEqual(ids.slice(2));
    });

    test("answers an empty page for a consumer without credentials", async () => {
      const listed = await admin.request("GET", "/consumers/paged/jwt");
      expect(listed.body).toEqual({ data: [], next: null });
    });

    test("accepts size up to 1000 and refuses anything else with 400", async () => {
      kong.addCredential("paged");
      expect((await admin.request("GET", "/consumers/paged/jwt?size=1000")).status).toBe(200);
      for (const size of ["1001", "0", "-1", "2.5", "abc"]) {
        const refused = await admin.request("GET", `/consumers/paged/jwt?size=${size}`);
        expect(refused.status).toBe(400);
        if (mode === "API_GATEWAY") expect(refused.body).toMatchObject({ code: 9, name: "invalid size" });
        else expect(refused.body).toMatchObject({ status: 400, title: "Bad Request" });
      }
    });

    test("refuses an offset it did not issue with 400", async () => {
      const bogus = [
        "not-an-offset",
        Buffer.from('{"id":1}').toString("base64"),
        Buffer.from("[]").toString("base64"),
      ];
      for (const offset of bogus) {
        const refused = await admin.request(
          "GET",
          `/consumers/paged/jwt?offset=${encodeURIComponent(offset)}`,
        );
        expect(refused.status).toBe(400);
        expect(JSON.stringify(refused.body)).toContain("is not a valid offset");
      }
    });
  },
);
