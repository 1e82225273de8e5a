import { describe, expect, test } from "bun:test";
import { STATUS_CODES } from "node:http";
import { problem } from "../../../src/http/problem.ts";
import { errorStatusText } from "../../../src/http/status-text.ts";

describe("errorStatusText", () => {
  test("words every 4xx and 5xx status exactly as node:http does", () => {
    for (let status = 400; status < 600; status++) {
      expect(`${status} ${errorStatusText(status)}`).toBe(`${status} ${STATUS_CODES[status]}`);
    }
  });

  test("has no phrase for statuses that are not errors", () => {
    expect(errorStatusText(200)).toBeUndefined();
    expect(errorStatusText(302)).toBeUndefined();
  });

  test("gives a problem without a title of its own its status's phrase", async () => {
    expect(((await problem(429).json()) as { title: string }).title).toBe("Too Many Requests");
    expect(((await problem(503).json()) as { title: string }).title).toBe("Service Unavailable");
    expect(((await problem(599).json()) as { title: string }).title).toBe("Error");
  });
});
