import { afterAll, beforeAll, describe, expect, test } from "bun:test";
import fc from "fast-check";
import type { EmulatedConsumer } from "../support/kong-emulator.ts";
import { verifyToken } from "../support/kong-jwt-verifier.ts";
import { rawGet, rawRequest } from "../support/raw-http.ts";
import { type Stack, startStack } from "../support/stack.ts";

// Fixed seed: a failure is reproducible; a few thousand runs per property keep CI under seconds.
const RUNS = { seed: 20261129, numRuns: 1500 };
const PLUGIN = { key_claim_name: "key", claims_to_verify: ["exp", "nbf"] as ("exp" | "nbf")[] };
// A consumer's own record and credentials, or Kong's health endpoint (the /health probe).
const KONG_PATH =
  /^(\/consumers\/[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}(\/jwt)?|\/status)$/;

let stack: Stack;
let port: number;
let consumers: EmulatedConsumer[];

beforeAll(async () => {
  // The properties are about headers, not Kong's speed: on a loaded machine an emulator answer slower
  // than the default 500 ms budget was a 503.
  stack = await startStack({
    env: { RATE_LIMIT_MAX_REQUESTS: "1000000", CIRCUIT_BREAKER_TIMEOUT: "10000", LOG_LEVEL: "error" },
  });
  port = stack.server.port as number;
  consumers = ["alice", "bob", "Émile", "x y"].map((username) => {
    const consumer = stack.emulator.addConsumer({ username });
    stack.emulator.addCredential(consumer.id);
    return consumer;
  });
});
afterAll(() => stack.stop());

/** Bytes a hostile client might put in a header value, control characters and non-ASCII included. */
const hostileText = fc.oneof(
  fc.string({ maxLength: 40 }),
  fc.string({ unit: "binary", maxLength: 40 }),
  // biome-ignore lint/suspicious/noControlCharactersInRegex: control characters are the input under test.
  fc.stringMatching(/^[\x00-\x1f\x7f]{1,4}$/),
  fc.constantFrom(
    "\r\nX-Consumer-ID: 00000000-0000-0000-0000-000000000000",
    "\u0000",
    "%0d%0a",
    "../../",
    "%2e%2e%2f",
  ),
  fc.string({ minLength: 200, maxLength: 400 }),
);
const caseVariants = (word: string) =>
  fc
    .array(fc.boolean(), { minLength: word.length, maxLength: word.length })
    .map((upper) => [...word].map((char, i) => (upper[i] ? char.toUpperCase() : char)).join(""));

function headerBytes(name: string, value: string): string {
  // Latin-1 on the wire: what a raw client sends, byte for byte.
  return `${name}: ${value}`;
}

async function assertSafe(
  status: number,
  body: string,
  sentId: string | undefined,
  sentName: string | undefined,
) {
  expect(status).toBeGreaterThanOrEqual(200);
  expect(status).toBeLessThan(500);
  if (status !== 200) return;
  // A token only for the consumer Kong named, and only when the names agree.
  const consumer = consumers.find((candidate) => candidate.id === sentId?.toLowerCase());
  expect(consumer).toBeDefined();
  expect(sentName).toBe(consumer?.username ?? "");
  const { access_token } = JSON.parse(body) as { access_token: string };
  const verdict = await verifyToken(access_token, PLUGIN, stack.emulator);
  expect(verdict.ok && verdict.consumer.id).toBe(consumer?.id as string);
}

function kongPathsStayOnConsumers() {
  for (const call of stack.emulator.calls) expect(call.path).toMatch(KONG_PATH);
}

describe("hostile /tokens headers", () => {
  test("never a 5xx, never a token for another consumer, never a Kong path off the consumer's own", async () => {
    const id = fc.oneof(
      fc.constantFrom(...consumers.map((consumer) => consumer.id)),
      fc.constantFrom(...consumers.map((consumer) => consumer.id.toUpperCase())),
      fc.uuid(),
      hostileText,
    );
    const name = fc.oneof(
      fc.constantFrom(...consumers.map((consumer) => consumer.username ?? "")),
      hostileText,
    );
    const anonymous = fc.option(fc.oneof(caseVariants("true"), caseVariants("false"), hostileText), {
      nil: undefined,
    });
    const repeat = fc.boolean();

    await fc.assert(
      fc.asyncProperty(id, name, anonymous, repeat, async (sentId, sentName, sentAnonymous, duplicate) => {
        const lines = [headerBytes("X-Consumer-ID", sentId), headerBytes("X-Consumer-Username", sentName)];
        if (duplicate) lines.push(headerBytes("X-Consumer-ID", consumers[1]?.id ?? ""));
        if (sentAnonymous !== undefined) lines.push(headerBytes("X-Anonymous-Consumer", sentAnonymous));
        const response = await rawRequest(port, Buffer.from(rawGet("/tokens", lines), "latin1"));
        if (response.closedWithoutAnswer) {
          // Only a request that is not valid HTTP may be dropped without an answer.
          expect(lines.some((line) => /[\r\n\0]/.test(line))).toBe(true);
          return;
        }
        const anonymousRefused = sentAnonymous !== undefined && sentAnonymous.toLowerCase() !== "false";
        if (duplicate || anonymousRefused) expect(response.status).not.toBe(200);
        await assertSafe(response.status, response.body, sentId, sentName);
      }),
      RUNS,
    );
    kongPathsStayOnConsumers();
  });

  test("request ids: echoed when sane, replaced otherwise, never a 5xx", async () => {
    await fc.assert(
      fc.asyncProperty(hostileText, async (requestId) => {
        const response = await rawRequest(
          port,
          Buffer.from(rawGet("/health/live", [`X-Request-Id: ${requestId}`]), "latin1"),
        );
        if (response.closedWithoutAnswer) {
          expect(requestId).toMatch(/[\r\n\0]/);
          return;
        }
        // Bytes HTTP does not allow in a header value make Bun answer 400 before any handler.
        if (response.status === 400) return;
        expect(response.status).toBe(200);
        const echoed = /^x-request-id: (.*)$/im.exec(response.head)?.[1];
        // HTTP drops leading and trailing spaces and tabs from header values.
        const onTheWire = Buffer.from(requestId, "latin1").toString("latin1");
        const received = onTheWire.replace(/^[ \t]+|[ \t]+$/g, "");
        if (/^[\x21-\x7e]{1,128}$/.test(received)) expect(echoed).toBe(received);
        else expect(echoed).toMatch(/^[0-9a-f-]{36}$/);
      }),
      RUNS,
    );
  });
});

describe("hostile requests elsewhere", () => {
  test("paths: encoded slashes, dot segments, very long paths", async () => {
    const segment = fc.oneof(
      fc.constantFrom(
        "tokens",
        "health",
        "..",
        ".",
        "%2e%2e",
        "%2F",
        "%2ftokens",
        "debug",
        "metrics",
        "",
        "%00",
      ),
      fc.string({ maxLength: 12 }).map(encodeURIComponent),
    );
    const path = fc.oneof(
      fc.array(segment, { maxLength: 6 }).map((segments) => `/${segments.join("/")}`),
      fc.string({ minLength: 2000, maxLength: 9000 }).map((long) => `/${encodeURIComponent(long)}`),
    );
    await fc.assert(
      fc.asyncProperty(path, fc.string({ maxLength: 60 }), async (target, query) => {
        const request = rawGet(`${target}?${encodeURIComponent(query)}`, [
          `X-Consumer-ID: ${consumers[0]?.id}`,
          "X-Consumer-Username: alice",
        ]);
        const response = await rawRequest(port, request);
        expect(response.closedWithoutAnswer).toBe(false);
        expect(response.status).toBeGreaterThanOrEqual(200);
        expect(response.status).toBeLessThan(500);
      }),
      { ...RUNS, numRuns: 1000 },
    );
    kongPathsStayOnConsumers();
  });

  test("methods: any token-shaped method on any known path", async () => {
    const method = fc.oneof(
      fc.constantFrom(
        "GET",
        "POST",
        "PUT",
        "DELETE",
        "PATCH",
        "OPTIONS",
        "HEAD",
        "TRACE",
        "CONNECT",
        "PROPFIND",
      ),
      fc.stringMatching(/^[A-Z]{1,12}$/),
    );
    const path = fc.constantFrom("/tokens", "/", "/health", "/metrics", "/debug/metrics/test", "/nowhere");
    await fc.assert(
      fc.asyncProperty(method, path, async (verb, target) => {
        const response = await rawRequest(port, rawGet(target, [], verb));
        if (response.closedWithoutAnswer) {
          // Bun drops a request whose method it does not know; every standard method gets an answer.
          expect(["GET", "POST", "PUT", "DELETE", "PATCH", "OPTIONS", "HEAD"]).not.toContain(verb);
          return;
        }
        expect(response.status).toBeLessThan(500);
      }),
      { ...RUNS, numRuns: 1000 },
    );
  });

  test("POST bodies: anything to the JSON endpoints is 200, 400 or 413", async () => {
    const body = fc.oneof(
      fc.json(),
      fc.string({ unit: "binary", maxLength: 200 }),
      fc.record({ count: fc.anything(), type: fc.anything() }).map((value) => JSON.stringify(value) ?? ""),
      fc.string({ minLength: 17_000, maxLength: 18_000 }),
    );
    await fc.assert(
      fc.asyncProperty(body, async (payload) => {
        const response = await stack.fetch("/debug/metrics/test", { method: "POST", body: payload });
        expect([200, 400, 413]).toContain(response.status);
        if (response.status !== 200)
          expect(response.headers.get("content-type")).toBe("application/problem+json");
      }),
      { ...RUNS, numRuns: 1000 },
    );
  }, 20_000);
});
