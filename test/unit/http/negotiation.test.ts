import { describe, expect, test } from "bun:test";
import { negotiate, negotiated, qualityOf } from "../../../src/http/negotiation.ts";
import type { RequestContext } from "../../../src/http/request-context.ts";

const OFFERED = ["application/json", "text/plain", "application/openmetrics-text"];
const PROMETHEUS =
  "application/openmetrics-text;version=1.0.0,application/openmetrics-text;version=0.0.1;q=0.75,text/plain;version=0.0.4;q=0.5,*/*;q=0.1";

describe("qualityOf (RFC 9110 §12.5.1)", () => {
  test("the most specific range naming the type decides, whatever its place", () => {
    expect(qualityOf("text/*;q=0.3, text/plain;q=0.7, */*;q=0.1", "text/plain")).toBe(0.7);
    expect(qualityOf("text/plain;q=0.7, text/*;q=0.3", "text/html")).toBe(0.3);
    expect(qualityOf("*/*;q=0.2", "application/json")).toBe(0.2);
    expect(qualityOf("text/plain", "application/json")).toBe(0);
    expect(qualityOf("text/plain;q=0.2, */*;q=0.9", "text/plain")).toBe(0.2);
    expect(qualityOf("text/plain;q=0.2, text/*;q=0.9", "text/plain")).toBe(0.2);
    expect(qualityOf("*/*;q=0.9, text/plain;q=0.2", "text/plain")).toBe(0.2);
  });

  test("q defaults to 1, other parameters are ignored, case does not matter, a type listed twice counts at its best", () => {
    expect(qualityOf("Text/Plain; version=0.0.4", "text/plain")).toBe(1);
    expect(qualityOf(PROMETHEUS, "application/openmetrics-text")).toBe(1);
    expect(
      qualityOf(
        "application/openmetrics-text;q=0.2, application/openmetrics-text;q=0.6",
        "application/openmetrics-text",
      ),
    ).toBe(0.6);
  });

  test("an unreadable q is 0: that range accepts nothing", () => {
    expect(qualityOf("text/plain;q=abc", "text/plain")).toBe(0);
  });
});

describe("negotiate", () => {
  test("Prometheus's Accept chooses OpenMetrics; text/plain the text format", () => {
    expect(OFFERED[negotiate(PROMETHEUS, OFFERED)]).toBe("application/openmetrics-text");
    expect(OFFERED[negotiate("text/plain;version=0.0.4", OFFERED)]).toBe("text/plain");
    expect(OFFERED[negotiate("text/plain;q=0.5, application/openmetrics-text;q=0.4", OFFERED)]).toBe(
      "text/plain",
    );
  });

  test("no Accept, */*, a tie, or nothing acceptable: the default", () => {
    for (const accept of [null, "", "*/*", "text/plain, application/json", "image/png", "text/plain;q=0"])
      expect(negotiate(accept, OFFERED), String(accept)).toBe(0);
  });
});

describe("negotiated routes", () => {
  const route = negotiated({
    method: "GET",
    path: "/things",
    summary: "Things",
    tags: [],
    ok: { status: 200, schema: undefined as never, description: "Things" },
    representations: [
      { mediaType: "text/plain", description: "As text", handler: () => new Response("text") },
    ],
    handler: () => Response.json({ json: true }),
  });
  const ask = (accept?: string) =>
    route.handler(
      new Request("http://x/things", accept ? { headers: { accept } } : {}),
      {} as RequestContext,
    );

  test("the document lists every representation; the handler answers with the one chosen, varying with Accept", async () => {
    expect(route.also).toEqual([{ mediaType: "text/plain", description: "As text" }]);
    const text = await ask("text/plain");
    expect(await text.text()).toBe("text");
    expect(text.headers.get("vary")).toBe("Accept");
    expect(await (await ask("application/json, text/plain;q=0.5")).json()).toEqual({ json: true });
    const json = await ask();
    expect(await json.json()).toEqual({ json: true });
    expect(json.headers.get("vary")).toBe("Accept");
  });
});
