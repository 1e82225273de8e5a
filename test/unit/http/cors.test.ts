import { describe, expect, test } from "bun:test";
import { createCors } from "../../../src/http/cors.ts";

const EXPOSED = "X-Request-Id, Retry-After, RateLimit-Limit, RateLimit-Remaining, RateLimit-Reset";
const ALLOWED =
  "Content-Type, Authorization, X-Request-Id, X-Consumer-ID, X-Consumer-Username, X-Anonymous-Consumer, apikey";

function from(origin?: string) {
  return new Request("http://auth.internal/tokens", origin ? { headers: { origin } } : {});
}

function applied(
  cors: ReturnType<typeof createCors>,
  request: Request,
  initial: Record<string, string> = {},
) {
  const headers = new Headers(initial);
  cors.apply(request, headers);
  return headers;
}

describe("CORS on every answer", () => {
  test("API_CORS=*: any origin, the rate-limit and request-id headers exposed, no Vary", () => {
    const headers = applied(createCors("*"), from("https://anything.example"));
    expect(headers.get("access-control-allow-origin")).toBe("*");
    expect(headers.get("access-control-expose-headers")).toBe(EXPOSED);
    expect(headers.get("vary")).toBeNull();
  });

  test("an allow-list echoes a listed origin only, and always varies on Origin", () => {
    const cors = createCors(["https://app.example.com", "https://admin.example.com"]);
    for (const origin of ["https://app.example.com", "https://admin.example.com"]) {
      const headers = applied(cors, from(origin));
      expect(headers.get("access-control-allow-origin")).toBe(origin);
      expect(headers.get("vary")).toBe("Origin");
      expect(headers.get("access-control-expose-headers")).toBe(EXPOSED);
    }
    for (const request of [from("https://evil.example.com"), from("https://app.example.com.evil"), from()]) {
      const headers = applied(cors, request);
      expect(headers.get("access-control-allow-origin")).toBeNull();
      expect(headers.get("vary")).toBe("Origin");
    }
  });

  test("Vary: Origin is added to what the answer already varies on", () => {
    const headers = applied(createCors(["https://app.example.com"]), from("https://app.example.com"), {
      vary: "Accept-Encoding",
    });
    expect(headers.get("vary")).toBe("Accept-Encoding, Origin");
  });
});

describe("CORS preflight", () => {
  test("204 without a body, the route's methods, the headers a browser may send, cached a day", async () => {
    const response = createCors("*").preflight(from("https://app.example.com"), ["GET", "HEAD", "OPTIONS"]);
    expect(response.status).toBe(204);
    expect(await response.text()).toBe("");
    expect(response.headers.get("access-control-allow-methods")).toBe("GET, HEAD, OPTIONS");
    expect(response.headers.get("access-control-allow-headers")).toBe(ALLOWED);
    expect(response.headers.get("access-control-max-age")).toBe("86400");
    expect(response.headers.get("access-control-allow-origin")).toBe("*");
    expect(response.headers.get("access-control-expose-headers")).toBe(EXPOSED);
  });

  test("with an allow-list, an unlisted origin's preflight gets no allow-origin", () => {
    const cors = createCors(["https://app.example.com"]);
    const listed = cors.preflight(from("https://app.example.com"), ["POST", "OPTIONS"]);
    expect(listed.headers.get("access-control-allow-origin")).toBe("https://app.example.com");
    expect(listed.headers.get("access-control-allow-methods")).toBe("POST, OPTIONS");
    const unlisted = cors.preflight(from("https://evil.example.com"), ["POST", "OPTIONS"]);
    expect(unlisted.headers.get("access-control-allow-origin")).toBeNull();
    expect(unlisted.headers.get("vary")).toBe("Origin");
  });
});
