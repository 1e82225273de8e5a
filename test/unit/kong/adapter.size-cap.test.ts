import { describe, expect, test } from "bun:test";
import { adapterFor, kongFailureOf, kongValueOf, scriptedKongs } from "./support/kong-adapter.ts";

const ID = "6f1c6d1e-7a2b-4c3d-8e9f-0a1b2c3d4e5f";
const MIB = 1024 * 1024;

/** A consumer answer of exactly `bytes` bytes (valid JSON, padded inside a string). */
function consumerOfSize(bytes: number): string {
  const head = `{"id":"${ID}","padding":"`;
  return `${head}${"A".repeat(bytes - head.length - 2)}"}`;
}

/** The same bytes, sent in `chunk`-byte pieces without a Content-Length (chunked transfer). */
function streamed(text: string, chunk: number): Response {
  const bytes = Buffer.from(text);
  let at = 0;
  return new Response(
    new ReadableStream({
      pull(controller) {
        if (at >= bytes.length) return controller.close();
        controller.enqueue(bytes.subarray(at, at + chunk));
        at += chunk;
      },
    }),
    { headers: { "content-type": "application/json" } },
  );
}

const kong = scriptedKongs();

describe("Kong's answers are read up to a size cap; a bigger one is an outage", () => {
  test("by default, an answer of 1 MiB is read and one byte more is refused", async () => {
    const fits = kong(() => new Response(consumerOfSize(MIB)));
    expect(await kongValueOf(adapterFor(fits.url).adapter.findConsumer(ID))).toEqual({ id: ID });

    const over = kong(() => new Response(consumerOfSize(MIB + 1)));
    const error = await kongFailureOf(adapterFor(over.url).adapter.findConsumer(ID));
    expect(error).toMatchObject({
      kind: "unavailable",
      status: 200,
      message: `GET /consumers/${ID}: answer exceeds the 1048576-byte limit`,
    });
  });

  test("a declared Content-Length over the cap is refused at the cap", async () => {
    const fits = kong(() => new Response(consumerOfSize(200)));
    expect(await kongValueOf(adapterFor(fits.url, { maxBodyBytes: 200 }).adapter.findConsumer(ID))).toEqual({
      id: ID,
    });

    const over = kong(() => new Response(consumerOfSize(201)));
    const { adapter } = adapterFor(over.url, { maxBodyBytes: 200 });
    expect(await kongFailureOf(adapter.findConsumer(ID))).toMatchObject({
      kind: "unavailable",
      message: `GET /consumers/${ID}: answer exceeds the 200-byte limit`,
    });
    // An outage, so a read tries once more.
    expect(over.requests).toHaveLength(2);
  });

  test("a streamed answer without Content-Length is counted as it arrives, up to the cap", async () => {
    const fits = kong(() => streamed(consumerOfSize(200), 7));
    expect(await kongValueOf(adapterFor(fits.url, { maxBodyBytes: 200 }).adapter.findConsumer(ID))).toEqual({
      id: ID,
    });

    const over = kong(() => streamed(consumerOfSize(201), 7));
    expect(
      await kongFailureOf(adapterFor(over.url, { maxBodyBytes: 200 }).adapter.findConsumer(ID)),
    ).toMatchObject({
      kind: "unavailable",
      message: `GET /consumers/${ID}: answer exceeds the 200-byte limit`,
    });
  });

  test("a body that breaks off mid-way is unreadable, an outage", async () => {
    // Raw TCP: the status line and part of the promised body, then the connection closes.
    const listener = Bun.listen({
      hostname: "127.0.0.1",
      port: 0,
      socket: {
        data(socket) {
          socket.end(`HTTP/1.1 200 OK\r\ncontent-length: 500\r\n\r\n{"id":"${ID}"`);
        },
      },
    });
    try {
      const error = await kongFailureOf(
        adapterFor(`http://127.0.0.1:${listener.port}`).adapter.findConsumer(ID),
      );
      expect(error).toMatchObject({
        kind: "unavailable",
        status: 200,
        message: `GET /consumers/${ID}: unreadable response body`,
      });
      expect(error).toMatchObject({ cause: expect.anything() });
    } finally {
      listener.stop(true);
    }
  });

  test("multi-byte characters split across chunks arrive intact", async () => {
    const username = "Zoë-日本-🙂".repeat(5);
    const server = kong(() => streamed(JSON.stringify({ id: ID, username }), 3));
    expect(await kongValueOf(adapterFor(server.url).adapter.findConsumer(ID))).toEqual({ id: ID, username });
  });
});
