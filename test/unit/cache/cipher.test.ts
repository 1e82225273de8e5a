import { describe, expect, test } from "bun:test";
import { SecretCipher } from "../../../src/cache/cipher.ts";

const key = () => crypto.getRandomValues(new Uint8Array(32));
const SECRET = "Zx8f3k9dmvR2K1nP5mX7Q9Z3yL4wB6aa";

describe("SecretCipher", () => {
  test("round-trips a secret bound to its context", async () => {
    const cipher = new SecretCipher(key());
    const sealed = await cipher.seal(SECRET, "prefix:credential:a");
    expect(await cipher.open(sealed, "prefix:credential:a")).toBe(SECRET);
  });

  test("the sealed form does not contain the secret in any encoding", async () => {
    const sealed = await new SecretCipher(key()).seal(SECRET, "ctx");
    const text = JSON.stringify(sealed);
    expect(text).not.toContain(SECRET);
    expect(text).not.toContain(Buffer.from(SECRET).toString("base64"));
    expect(sealed.kid).toMatch(/^[0-9a-f]{16}$/);
  });

  test("two seals of one secret differ (fresh IV)", async () => {
    const cipher = new SecretCipher(key());
    const [a, b] = await Promise.all([cipher.seal(SECRET, "ctx"), cipher.seal(SECRET, "ctx")]);
    expect(a.iv).not.toBe(b.iv);
    expect(a.ct).not.toBe(b.ct);
  });

  test("a value moved to another consumer's key does not open", async () => {
    const cipher = new SecretCipher(key());
    const sealed = await cipher.seal(SECRET, "prefix:credential:a");
    expect(await cipher.open(sealed, "prefix:credential:b")).toBeUndefined();
  });

  test("a value sealed with another key (rotation) is a miss, not garbage", async () => {
    const sealed = await new SecretCipher(key()).seal(SECRET, "ctx");
    expect(await new SecretCipher(key()).open(sealed, "ctx")).toBeUndefined();
  });

  test("a tampered ciphertext does not open", async () => {
    const cipher = new SecretCipher(key());
    const sealed = await cipher.seal(SECRET, "ctx");
    const bytes = Buffer.from(sealed.ct, "base64");
    bytes[0] = (bytes[0] as number) ^ 1;
    expect(await cipher.open({ ...sealed, ct: bytes.toString("base64") }, "ctx")).toBeUndefined();
  });
});
