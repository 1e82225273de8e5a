import { describe, expect, test } from "bun:test";
import { problem } from "../../../src/http/problem.ts";

describe("problem: RFC 9457 answers", () => {
  test("a typed problem: URN type, the status's title, status, detail; problem+json and no-store", async () => {
    const response = problem(429, { type: "rate-limited", detail: "Slow down." });
    expect(response.status).toBe(429);
    expect(response.headers.get("content-type")).toBe("application/problem+json");
    expect(response.headers.get("cache-control")).toBe("no-store");
    expect(await response.json()).toEqual({
      type: "urn:auth-service:problem:rate-limited",
      title: "Too Many Requests",
      status: 429,
      detail: "Slow down.",
    });
  });

  test("without a type it is about:blank, and without a detail there is no detail member", async () => {
    expect(await problem(404).json()).toEqual({ type: "about:blank", title: "Not Found", status: 404 });
    expect(await problem(503, { detail: "" }).json()).toEqual({
      type: "about:blank",
      title: "Service Unavailable",
      status: 503,
    });
  });

  test("a given title wins; a status without a standard reason phrase is titled Error", async () => {
    expect(await problem(400, { title: "Bad consumer" }).json()).toMatchObject({ title: "Bad consumer" });
    expect(await problem(599).json()).toMatchObject({ title: "Error", status: 599 });
  });

  test("extra headers are added, and may not be dropped by the defaults", () => {
    const response = problem(401, {
      headers: { "www-authenticate": 'Key realm="kong"', "retry-after": "3" },
    });
    expect(response.headers.get("www-authenticate")).toBe('Key realm="kong"');
    expect(response.headers.get("retry-after")).toBe("3");
    expect(response.headers.get("content-type")).toBe("application/problem+json");
  });
});
