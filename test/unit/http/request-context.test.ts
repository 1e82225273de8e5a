import { describe, expect, test } from "bun:test";
import { requestIdOf, urlOf } from "../../../src/http/request-context.ts";

const UUID = /^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$/;

function withRequestId(id?: string) {
  return new Request(
    "http://auth.internal/tokens",
    id === undefined ? {} : { headers: { "x-request-id": id } },
  );
}

describe("request ids", () => {
  test.each(["trace-abc_123", "!", "~", "x".repeat(128), "a/b:c=d;e", "ABC.def"])(
    "a caller's X-Request-Id %p is kept",
    (id) => {
      expect(requestIdOf(withRequestId(id))).toBe(id);
    },
  );

  test.each(["x".repeat(129), "a b", "a\tb", "\u007f", "caf\u00e9", "a\u0080b"])(
    "an X-Request-Id %p that is not 1-128 printable ASCII without spaces is replaced by a fresh UUID",
    (id) => {
      const minted = requestIdOf(withRequestId(id));
      expect(minted).toMatch(UUID);
    },
  );

  test("without one (or empty), each request gets its own UUID", () => {
    const first = requestIdOf(withRequestId());
    const second = requestIdOf(withRequestId());
    expect(first).toMatch(UUID);
    expect(second).toMatch(UUID);
    expect(first).not.toBe(second);
    expect(requestIdOf(withRequestId(""))).toMatch(UUID);
  });
});

/** A request whose `url` is what Bun hands over when the Host header is missing or unusable. */
function withUrl(url: string): Request {
  return { url } as Request;
}

describe("the request's path and query, whatever the Host header was", () => {
  test("an absolute URL is read as it is", () => {
    const url = urlOf(withUrl("http://auth.internal:3000/openapi?format=yaml"));
    expect(url.pathname).toBe("/openapi");
    expect(url.searchParams.get("format")).toBe("yaml");
  });

  test("a relative URL keeps its path and query", () => {
    const url = urlOf(withUrl("/health/ready?verbose=1"));
    expect(url.pathname).toBe("/health/ready");
    expect(url.search).toBe("?verbose=1");
  });

  test("a URL broken by its host keeps the path after the host", () => {
    expect(urlOf(withUrl("http://[::1/health/live?x=1")).pathname).toBe("/health/live");
    expect(urlOf(withUrl("http://[::1/health/live?x=1")).search).toBe("?x=1");
  });

  test("a broken URL with no path at all is the root", () => {
    for (const url of ["http://[::1", "http://[::1?x=1", "http://["])
      expect(urlOf(withUrl(url)).pathname).toBe("/");
  });

  test("something with no scheme and no leading slash still answers a path", () => {
    expect(urlOf(withUrl("[::1/metrics")).pathname).toBe("/metrics");
    expect(urlOf(withUrl("[::1")).pathname).toBe("/");
  });
});
