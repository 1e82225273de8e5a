import { afterEach, describe, expect, test } from "bun:test";
import { KongEmulator } from "../../support/kong-emulator.ts";
import {
  adapterFor,
  json,
  kongFailureOf,
  kongValueOf,
  scriptedKongs,
  UNKNOWN_CONSUMER,
} from "./support/kong-adapter.ts";

const CONSUMER = "6f1c6d1e-7a2b-4c3d-8e9f-0a1b2c3d4e5f";
const LIST_PATH = `/consumers/${CONSUMER}/jwt`;

/** `count` distinct credentials, ids starting at `from`. */
function credentials(count: number, from = 0) {
  return Array.from({ length: count }, (_, i) => ({
    id: `cred-${from + i}`,
    key: `key-${from + i}`,
    secret: "s".repeat(32),
    algorithm: "HS256",
    created_at: from + i,
  }));
}

const kong = scriptedKongs();
let emulator: KongEmulator | undefined;
afterEach(async () => {
  await emulator?.stop();
  emulator = undefined;
});

describe("a consumer's credential list is read to its end", () => {
  test("every page of Kong's list is followed, its opaque offsets percent-encoded", async () => {
    emulator = KongEmulator.start({ pageSize: 2 });
    const consumer = emulator.addConsumer({ username: "many" });
    for (let i = 0; i < 5; i++) emulator.addCredential(consumer.id);
    const { adapter } = adapterFor(emulator.adminUrl);

    const listed = await kongValueOf(adapter.listCredentials(consumer.id));
    expect(listed.map((c) => c.id).sort()).toEqual(
      emulator
        .credentialsOf(consumer.id)
        .map((c) => c.id)
        .sort(),
    );
    const pages = emulator.calls.map((call) => call.search);
    expect(pages).toHaveLength(3);
    expect(pages[0]).toBe("");
    // Kong's offsets are base64 (+, /, =): sent unescaped, Kong would read a different offset.
    for (const search of pages.slice(1)) expect(search).toMatch(/^\?offset=[A-Za-z0-9%]+$/);
  });

  test("only the offset of Kong's next link is used: its host and path are never followed", async () => {
    const server = kong((request) =>
      request.search === ""
        ? json(200, { data: credentials(1), next: "http://elsewhere.invalid/steal?offset=a%2Bb%2F%3D" })
        : json(200, { data: credentials(1, 1), next: null }),
    );
    const { adapter } = adapterFor(server.url);
    expect((await kongValueOf(adapter.listCredentials(CONSUMER))).map((c) => c.id)).toEqual([
      "cred-0",
      "cred-1",
    ]);
    expect(server.requests.map((r) => `${r.path}${r.search}`)).toEqual([
      LIST_PATH,
      `${LIST_PATH}?offset=a%2Bb%2F%3D`,
    ]);
  });

  test("a next link without an offset falls back to the list's offset field (Konnect)", async () => {
    const server = kong((request) =>
      request.search === ""
        ? json(200, { data: credentials(1), next: `${LIST_PATH}?size=1`, offset: "cursor 2" })
        : json(200, { data: credentials(1, 1), next: null, offset: "cursor 3" }),
    );
    const { adapter } = adapterFor(server.url);
    expect(await kongValueOf(adapter.listCredentials(CONSUMER))).toHaveLength(2);
    expect(server.requests.map((r) => r.search)).toEqual(["", "?offset=cursor%202"]);
  });

  test("a list ends when next is null or absent, whatever its offset field says", async () => {
    for (const last of [{ next: null, offset: "more" }, { offset: "more" }, { next: "", offset: "more" }]) {
      const server = kong(() => json(200, { data: credentials(2), ...last }));
      const { adapter } = adapterFor(server.url);
      expect(await kongValueOf(adapter.listCredentials(CONSUMER))).toHaveLength(2);
      expect(server.requests).toHaveLength(1);
    }
  });

  test("a next link with no offset anywhere ends the list rather than reading page one again", async () => {
    const server = kong(() => json(200, { data: credentials(2), next: LIST_PATH }));
    const { adapter } = adapterFor(server.url);
    expect(await kongValueOf(adapter.listCredentials(CONSUMER))).toHaveLength(2);
    expect(server.requests).toHaveLength(1);
  });

  test("a list whose next link never ends is an outage after 100 pages, not an endless loop", async () => {
    const server = kong((_request, index) =>
      json(200, { data: [], next: `${LIST_PATH}?offset=${index + 1}` }),
    );
    const { adapter } = adapterFor(server.url);
    const error = await kongFailureOf(adapter.listCredentials(CONSUMER));
    expect(error).toMatchObject({
      kind: "unavailable",
      message: "Kong credential list did not end after 100 pages",
    });
    expect(server.requests).toHaveLength(100);
    expect(server.requests[99]?.search).toBe("?offset=99");
  });

  test("exactly 100 pages are read when the 100th is the last", async () => {
    const server = kong((_request, index) =>
      json(200, {
        data: credentials(1, index),
        next: index < 99 ? `${LIST_PATH}?offset=${index + 1}` : null,
      }),
    );
    const { adapter } = adapterFor(server.url);
    expect(await kongValueOf(adapter.listCredentials(CONSUMER))).toHaveLength(100);
  });

  test("1000 credentials are listed; one more is an outage (a leak in whatever creates them)", async () => {
    const pages = (total: number) =>
      kong((_request, index) => {
        const size = Math.min(400, total - index * 400);
        return json(200, {
          data: credentials(size, index * 400),
          next: (index + 1) * 400 < total ? `${LIST_PATH}?offset=p${index + 1}` : null,
        });
      });
    const thousand = pages(1000);
    expect(await kongValueOf(adapterFor(thousand.url).adapter.listCredentials(CONSUMER))).toHaveLength(1000);

    const more = pages(1001);
    const error = await kongFailureOf(adapterFor(more.url).adapter.listCredentials(CONSUMER));
    expect(error).toMatchObject({
      kind: "unavailable",
      message: "Kong lists more than 1000 jwt credentials for one consumer",
    });
    expect(more.requests).toHaveLength(3);
  });

  test("a consumer deleted between two pages is unknown (null), not half a list", async () => {
    const server = kong((request) =>
      request.search === ""
        ? json(200, { data: credentials(1), next: `${LIST_PATH}?offset=x` })
        : json(404, { message: "Not found" }),
    );
    const { adapter } = adapterFor(server.url);
    expect(await adapter.listCredentials(CONSUMER)).toEqual(UNKNOWN_CONSUMER);
  });

  test("an error on a later page names the path only, never the offset", async () => {
    const server = kong((request) =>
      request.search === ""
        ? json(200, { data: credentials(1), next: `${LIST_PATH}?offset=opaque-cursor` })
        : json(400, { message: "invalid offset" }),
    );
    const { adapter } = adapterFor(server.url);
    const error = await kongFailureOf(adapter.listCredentials(CONSUMER));
    expect(error).toMatchObject({ kind: "misconfigured", message: `GET ${LIST_PATH}: Kong answered 400` });
  });
});
