import { describe, expect, test } from "bun:test";
import { readConsumerIdentity } from "../../../src/http/consumer-identity.ts";

const ID = "6f1c6d1e-7a2b-4c3d-8e9f-0a1b2c3d4e5f";

/** Bun's Headers hold each received byte as one character (Latin-1); Kong sends UTF-8 bytes. */
const onTheWire = (username: string) => Buffer.from(username, "utf8").toString("latin1");

function read(username: string) {
  return readConsumerIdentity(new Headers({ "x-consumer-id": ID, "x-consumer-username": username }));
}

describe("readConsumerIdentity: usernames as Kong sends them", () => {
  test.each(["josé", "user€", "山田太郎", "🦊", "Ünïcødé ☃"])(
    "UTF-8 bytes of %p read back as the name",
    (name) => {
      expect(read(onTheWire(name))).toEqual({ ok: true, identity: { consumerId: ID, username: name } });
    },
  );

  test("ASCII is returned as it is", () => {
    expect(read("alice.smith+1@example.com")).toEqual({
      ok: true,
      identity: { consumerId: ID, username: "alice.smith+1@example.com" },
    });
  });

  test("bytes that are not UTF-8 are left as received (Kong never sends them)", () => {
    expect(read("\u00c9mile")).toEqual({ ok: true, identity: { consumerId: ID, username: "\u00c9mile" } });
  });

  test.each(["\u0085", "\u009f", "\u007f", "\t"])(
    "a control character (%p), UTF-8 encoded or not, is malformed",
    (control) => {
      for (const username of [onTheWire(`a${control}b`), `a${control}b`]) {
        expect(read(username)).toEqual({ ok: false, detail: "The X-Consumer-Username header is malformed." });
      }
    },
  );

  test("the 256-character limit counts characters, not bytes", () => {
    for (const char of ["a", "é", "€", "🦊"]) {
      expect(read(onTheWire(char.repeat(256))).ok).toBe(true);
      expect(read(onTheWire(char.repeat(257)))).toEqual({
        ok: false,
        detail: "The X-Consumer-Username header is malformed.",
      });
    }
  });
});
