import { describe, expect, test } from "bun:test";
import { z } from "zod";
import { readJson } from "../../../src/http/body.ts";

const schema = z.object({
  count: z.int().min(1).default(1),
  type: z.enum(["test", "smoke"]).default("test"),
});

function post(body: string) {
  return new Request("http://auth.internal/debug/metrics/test", { method: "POST", body });
}

async function problemOf(result: Awaited<ReturnType<typeof readJson>>) {
  if (result.ok) throw new Error("expected a problem answer");
  return { status: result.response.status, body: (await result.response.json()) as Record<string, unknown> };
}

describe("readJson: small JSON bodies", () => {
  test("a valid body is parsed and validated", async () => {
    expect(await readJson(post('{"count": 3, "type": "smoke"}'), schema, 1_000)).toEqual({
      ok: true,
      value: { count: 3, type: "smoke" },
    });
  });

  test("an empty or blank body is {}, so the schema's defaults apply", async () => {
    for (const body of ["", "  \n\t "]) {
      expect(await readJson(post(body), schema, 1_000)).toEqual({
        ok: true,
        value: { count: 1, type: "test" },
      });
    }
  });

  test("a body that is not JSON → 400 invalid-body", async () => {
    expect(await problemOf(await readJson(post("{count: 3"), schema, 1_000))).toEqual({
      status: 400,
      body: {
        type: "urn:auth-service:problem:invalid-body",
        title: "Bad Request",
        status: 400,
        detail: "The body is not valid JSON.",
      },
    });
  });

  test("a schema mismatch → 400 naming each field and what is wrong, never the value sent", async () => {
    const { status, body } = await problemOf(
      await readJson(post('{"count": 0, "type": "secret-value-42"}'), schema, 1_000),
    );
    expect(status).toBe(400);
    expect(body.type).toBe("urn:auth-service:problem:invalid-body");
    const detail = String(body.detail);
    expect(detail).toMatch(/^count: .+; type: .+$/);
    expect(detail).not.toContain("secret-value-42");
  });

  test("a nested field is named by its dotted path", async () => {
    const nested = z.object({ window: z.object({ seconds: z.int().min(1) }) });
    const { body } = await problemOf(await readJson(post('{"window": {"seconds": 0}}'), nested, 1_000));
    expect(String(body.detail)).toMatch(/^window\.seconds: /);
  });

  test("a mismatch of the body as a whole is named body", async () => {
    const { body } = await problemOf(await readJson(post("[1, 2]"), schema, 1_000));
    expect(String(body.detail)).toMatch(/^body: /);
  });

  test("a body of exactly the limit is read; one byte more → 413 naming the limit", async () => {
    const exact = `{"count": 2${" ".repeat(100 - 12)}}`;
    expect(exact).toHaveLength(100);
    expect(await readJson(post(exact), schema, 100)).toEqual({ ok: true, value: { count: 2, type: "test" } });
    expect(await problemOf(await readJson(post(`${exact} `), schema, 100))).toEqual({
      status: 413,
      body: {
        type: "about:blank",
        title: "Payload Too Large",
        status: 413,
        detail: "Request bodies are limited to 100 bytes.",
      },
    });
  });
});
