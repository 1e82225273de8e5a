import { describe, expect, test } from "bun:test";
import { readCapped } from "../../../src/kong/body.ts";

/** A body in the given chunks that records whether its reader gave up on it. */
function chunkedBody(chunks: string[]) {
  const state = { cancelled: false, pulled: 0 };
  const queue = chunks.map((chunk) => Buffer.from(chunk));
  const stream = new ReadableStream<Uint8Array>({
    pull(controller) {
      const next = queue.shift();
      if (next) {
        state.pulled++;
        controller.enqueue(next);
      } else controller.close();
    },
    cancel() {
      state.cancelled = true;
    },
  });
  return { stream, state };
}

describe("readCapped: a body read only up to the cap", () => {
  test("a body at the cap is read whole, across chunks", async () => {
    const { stream, state } = chunkedBody(["abc", "def", "ghij"]);
    expect(await readCapped(new Response(stream), 10)).toEqual({ ok: true, text: "abcdefghij" });
    expect(state.cancelled).toBe(false);
  });

  test("a body without Content-Length is cut off as soon as the running count passes the cap", async () => {
    const { stream, state } = chunkedBody(["abcd", "efgh", "ijkl", "mnop"]);
    expect(await readCapped(new Response(stream), 10)).toEqual({ ok: false });
    expect(state.cancelled).toBe(true);
    // The third chunk passed the cap: the fourth was never asked for.
    expect(state.pulled).toBeLessThanOrEqual(3);
  });

  test("a declared Content-Length over the cap is refused without reading the body", async () => {
    const { stream, state } = chunkedBody(["abc"]);
    const response = new Response(stream, { headers: { "content-length": "11" } });
    expect(await readCapped(response, 10)).toEqual({ ok: false });
    expect(state.cancelled).toBe(true);
    expect(state.pulled).toBe(0);
  });

  test("a Content-Length that lies low does not lift the cap", async () => {
    const { stream } = chunkedBody(["abcdef", "ghijkl"]);
    const response = new Response(stream, { headers: { "content-length": "2" } });
    expect(await readCapped(response, 10)).toEqual({ ok: false });
  });

  test("a declared Content-Length at the cap is read", async () => {
    const response = new Response("0123456789", { headers: { "content-length": "10" } });
    expect(await readCapped(response, 10)).toEqual({ ok: true, text: "0123456789" });
  });

  test("no body is an empty text, unless its declared length is over the cap", async () => {
    expect(await readCapped(new Response(null), 10)).toEqual({ ok: true, text: "" });
    expect(await readCapped(new Response(null, { headers: { "content-length": "10" } }), 10)).toEqual({
      ok: true,
      text: "",
    });
    expect(await readCapped(new Response(null, { headers: { "content-length": "11" } }), 10)).toEqual({
      ok: false,
    });
  });

  test("UTF-8 characters split between chunks are decoded whole", async () => {
    const bytes = Buffer.from("Zoë🙂");
    const stream = new ReadableStream<Uint8Array>({
      start(controller) {
        for (let i = 0; i < bytes.length; i++) controller.enqueue(bytes.subarray(i, i + 1));
        controller.close();
      },
    });
    expect(await readCapped(new Response(stream), 100)).toEqual({ ok: true, text: "Zoë🙂" });
  });
});
