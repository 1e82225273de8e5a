import { afterEach, describe, expect, test } from "bun:test";
import { rawRequest } from "../support/raw-http.ts";
import { type Stack, startStack } from "../support/stack.ts";

/**
 * Without a usable Host header Bun leaves `request.url` relative ("/health") or not a URL at all
 * ("http://[::1/health"), so anything that reads the URL must cope with either.
 */
const HOSTLESS_FORMS: readonly ((method: string, path: string) => string)[] = [
  (method, path) => `${method} ${path} HTTP/1.0\r\n\r\n`,
  (method, path) => `${method} ${path}?format=yaml HTTP/1.0\r\nConnection: close\r\n\r\n`,
  (method, path) => `${method} ${path} HTTP/1.1\r\nHost:\r\nConnection: close\r\n\r\n`,
  (method, path) => `${method} ${path} HTTP/1.1\r\nHost: [::1\r\nConnection: close\r\n\r\n`,
  (method, path) => `${method} ${path} HTTP/1.1\r\nHost: a b\r\nConnection: close\r\n\r\n`,
];

let stack: Stack | undefined;
afterEach(async () => {
  await stack?.stop();
  stack = undefined;
});

describe("a request without a usable Host header", () => {
  for (const level of ["info", "debug"]) {
    test(`every route at LOG_LEVEL=${level}: a 4xx or a normal answer, never a 5xx, no stack trace logged`, async () => {
      stack = await startStack({ env: { LOG_LEVEL: level } });
      const port = stack.server.port as number;
      const targets: [string, string][] = [["GET", "/no-such-endpoint"]];
      for (const [path, methods] of Object.entries(stack.app.routes))
        for (const method of [...Object.keys(methods), "HEAD", "OPTIONS", "DELETE"])
          targets.push([method, path]);

      const wrong: string[] = [];
      for (const [method, path] of targets) {
        for (const form of HOSTLESS_FORMS) {
          const request = form(method, path);
          const { status, body } = await rawRequest(port, request);
          if (status === 0 || status >= 500 || body.includes("    at "))
            wrong.push(`${status} for ${JSON.stringify(request)}`);
        }
      }
      expect(wrong).toEqual([]);
      expect(stack.logs.text).not.toMatch(/stack/i);
      expect(stack.logs.records().filter((record) => record["log.level"] === "error")).toEqual([]);
    });
  }
});
