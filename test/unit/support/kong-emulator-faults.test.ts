import { afterEach, beforeEach, describe, expect, test } from "bun:test";
import { KongEmulator } from "../../support/kong-emulator.ts";
import { waitFor, within } from "../../support/wait.ts";
import { AdminClient } from "./admin-client.ts";

describe("Kong emulator faults, latency and call recording", () => {
  let kong: KongEmulator;
  let admin: AdminClient;

  beforeEach(() => {
    kong = KongEmulator.start();
    admin = new AdminClient(kong);
    kong.addConsumer({ username: "target" });
  });
  afterEach(() => kong.stop());

  test("answers a status fault `times` times, then behaves normally; both are recorded", async () => {
    kong.inject({ status: 503, times: 1 });
    const failed = await admin.request("GET", "/consumers/target");
    const ok = await admin.request("GET", "/consumers/target");
    expect(failed.status).toBe(503);
    expect(failed.body).toEqual({ message: "An unexpected error occurred" });
    expect(ok.status).toBe(200);
    expect(kong.calls.map((call) => call.status)).toEqual([503, 200]);
  });

  test("keeps a fault without `times` until clearFaults()", async () => {
    kong.inject({ status: 500 });
    expect((await admin.request("GET", "/consumers/target")).status).toBe(500);
    expect((await admin.request("GET", "/consumers/target")).status).toBe(500);
    kong.clearFaults();
    expect((await admin.request("GET", "/consumers/target")).status).toBe(200);
  });

  test("applies a fault only to requests it matches, with a custom body and headers", async () => {
    kong.inject({
      status: 429,
      body: { message: "API rate limit exceeded" },
      headers: { "retry-after": "7" },
      match: ({ method, path }) => method === "POST" && path.endsWith("/jwt"),
    });
    expect((await admin.request("GET", "/consumers/target/jwt")).status).toBe(200);
    const limited = await admin.request("POST", "/consumers/target/jwt");
    expect(limited.status).toBe(429);
    expect(limited.headers.get("retry-after")).toBe("7");
    expect(limited.body).toEqual({ message: "API rate limit exceeded" });
    expect(kong.credentialsOf("target")).toEqual([]);
  });

  test("answers a KONNECT 5xx fault as a problem document", async () => {
    const konnect = KongEmulator.start({ mode: "KONNECT" });
    try {
      konnect.inject({ status: 502, times: 1 });
      const failed = await new AdminClient(konnect).send("GET", konnect.adminUrl);
      expect(failed.status).toBe(502);
      expect(failed.body).toMatchObject({ status: 502, title: "Bad Gateway" });
    } finally {
      await konnect.stop();
    }
  });

  test("delays, then proceeds normally (or with the fault's status)", async () => {
    kong.inject({ delayMs: 60, times: 1 });
    kong.inject({ delayMs: 30, status: 504, times: 1 });
    let begin = performance.now();
    expect((await admin.request("GET", "/consumers/target")).status).toBe(200);
    expect(performance.now() - begin).toBeGreaterThanOrEqual(55);
    begin = performance.now();
    expect((await admin.request("GET", "/consumers/target")).status).toBe(504);
    expect(performance.now() - begin).toBeGreaterThanOrEqual(25);
  });

  test("adds the configured latency to every response", async () => {
    kong.setLatency(40);
    const begin = performance.now();
    expect((await admin.request("GET", "/consumers/target")).status).toBe(200);
    expect(performance.now() - begin).toBeGreaterThanOrEqual(35);
    kong.setLatency(0);
  });

  test("hangs until the client aborts, records the call, and keeps serving others", async () => {
    kong.inject({ hang: true, times: 1 });
    const begin = performance.now();
    const hung = admin.request("GET", "/consumers/target", { signal: AbortSignal.timeout(80) });
    await expect(hung).rejects.toThrow();
    expect(performance.now() - begin).toBeGreaterThanOrEqual(75);
    expect(kong.calls).toHaveLength(1);
    expect(kong.calls[0]?.status).toBe(0);
    expect((await admin.request("GET", "/consumers/target")).status).toBe(200);
  });

  test("releases a hung request when the emulator stops", async () => {
    kong.inject({ hang: true });
    const hung = admin.request("GET", "/consumers/target").then(
      () => "answered",
      () => "failed",
    );
    await waitFor(() => kong.calls.length === 1, "the request to reach the emulator");
    // A request left hanging (or a stop waiting for it) would end only with the test's timeout.
    expect(
      await within(
        2_500,
        kong.stop().then(() => hung),
      ),
    ).toBe("failed");
  });

  test("resets the connection without an answer", async () => {
    kong.inject({ reset: true, times: 1 });
    const outcome = await admin.request("POST", "/consumers/target/jwt", { json: {} }).then(
      (response) => `status ${response.status}`,
      (error: { code?: string }) => error.code,
    );
    expect(outcome).toBe("ECONNRESET");
    expect(kong.calls[0]?.status).toBe(0);
    expect(kong.credentialsOf("target")).toEqual([]);
    expect((await admin.request("GET", "/consumers/target")).status).toBe(200);
  });

  test("records method, raw path, query and headers; counts and resets calls", async () => {
    await admin.request("GET", "/consumers/target/jwt?size=5", { headers: { "x-request-id": "r-1" } });
    await admin.request("POST", "/consumers/target/jwt");
    await admin.request("GET", "/consumers/target");
    const [first] = kong.calls;
    expect(first).toMatchObject({
      method: "GET",
      path: "/consumers/target/jwt",
      search: "?size=5",
      status: 200,
    });
    expect(first?.headers.get("x-request-id")).toBe("r-1");
    expect(first?.at).toBeLessThanOrEqual(Date.now());
    expect(kong.countCalls()).toBe(3);
    expect(kong.countCalls({ method: "get" })).toBe(2);
    expect(kong.countCalls({ pathIncludes: "/jwt" })).toBe(2);
    expect(kong.countCalls({ method: "POST", pathIncludes: "/jwt" })).toBe(1);
    kong.resetCalls();
    expect(kong.countCalls()).toBe(0);
  });

  test("pads an answer to a huge body with its Content-Length, still a valid entity", async () => {
    kong.inject({ pad: { bytes: 5_000_000 }, times: 1 });
    const response = await fetch(admin.url("/consumers/target"), { headers: admin.authHeaders });
    expect(response.status).toBe(200);
    expect(response.headers.get("content-length")).toBe("5000000");
    const text = await response.text();
    expect(text.length).toBe(5_000_000);
    const body = JSON.parse(text) as { username: string; padding: string };
    expect(body.username).toBe("target");
    expect(body.padding).toMatch(/^A+$/);
    expect(kong.calls[0]?.status).toBe(200);
    expect((await admin.request("GET", "/consumers/target")).text.length).toBeLessThan(1000);
  });

  test("streams a padded answer in chunks without Content-Length", async () => {
    kong.inject({ pad: { bytes: 1_000_000, streamed: true, chunkBytes: 100_000 }, times: 1 });
    const response = await fetch(admin.url("/consumers/target/jwt"), { headers: admin.authHeaders });
    expect(response.headers.get("content-length")).toBeNull();
    expect(response.headers.get("transfer-encoding")).toBe("chunked");
    const reader = (response.body as ReadableStream<Uint8Array>).getReader();
    let chunks = 0;
    let bytes = 0;
    for (let read = await reader.read(); !read.done; read = await reader.read()) {
      chunks += 1;
      bytes += read.value.length;
    }
    expect(bytes).toBe(1_000_000);
    expect(chunks).toBeGreaterThan(1);
  });

  test("trickles a streamed body: the client's deadline passes before the body ends", async () => {
    kong.inject({ pad: { bytes: 2_000, streamed: true, chunkBytes: 100, chunkDelayMs: 50 }, times: 1 });
    const response = await fetch(admin.url("/consumers/target"), {
      headers: admin.authHeaders,
      signal: AbortSignal.timeout(300),
    });
    expect(response.status).toBe(200);
    await expect(response.text()).rejects.toThrow();
    expect((await admin.request("GET", "/consumers/target")).status).toBe(200);
  });

  test("refuses a fault whose `times` is not a positive integer", () => {
    expect(() => kong.inject({ status: 500, times: 0 })).toThrow();
  });
});
