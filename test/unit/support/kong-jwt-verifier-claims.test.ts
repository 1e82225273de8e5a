import { afterAll, describe, expect, test } from "bun:test";
import { KongEmulator } from "../../support/kong-emulator.ts";
import { type JwtPluginConfig, verifyKongJwt, verifyToken } from "../../support/kong-jwt-verifier.ts";
import { b64url, Credentials, NOW, signToken } from "./jwt-tokens.ts";

const store = new Credentials();
store.add("alice-key", "alice-secret");
const rawSecret = new Uint8Array([0xfb, 0xff, 0x3e, 0x10, 0x22, 0x99, 0xf0, 0x0f, 0xbe, 0xef, 0x01, 0x02]);
store.add("b64-key", b64url(rawSecret));
store.add("plus-key", "ab+cd");
store.add("slash-key", "ab/cd");

const WITH_ERROR = 'Bearer error="invalid_token"';
const bearer = (token: string) => ({ headers: { authorization: `Bearer ${token}` } });
const aliceToken = (claims: Record<string, unknown>) =>
  signToken({ claims: { iss: "alice-key", ...claims }, secret: "alice-secret" });

function verify(token: string, config: JwtPluginConfig = {}, now = NOW) {
  return verifyKongJwt(bearer(token), config, store.lookup, now);
}

async function expectClaimRefusal(
  token: string,
  config: JwtPluginConfig,
  body: Record<string, unknown>,
  message: string,
) {
  expect(await verify(token, config)).toEqual({
    ok: false,
    status: 401,
    message,
    wwwAuthenticate: WITH_ERROR,
    body,
  });
}

describe("Kong jwt plugin oracle: decoding", () => {
  test("tolerates trailing = padding on the transmitted segments", async () => {
    const padded = (json: string) =>
      Buffer.from(json)
        .toString("base64url")
        .padEnd(Math.ceil(json.length / 3) * 4, "=");
    const header = { alg: "HS256", t: 12 };
    const token = await signToken({
      header,
      claims: { iss: "alice-key", n: 1 },
      secret: "alice-secret",
      encode: padded,
    });
    expect(token.split(".")[0]).toEndWith("==");
    expect((await verify(token)).ok).toBe(true);
  });

  test("refuses standard base64 (+ and /) as invalid JSON", async () => {
    const standard = (json: string) => Buffer.from(json).toString("base64").replace(/=+$/, "");
    const header = { alg: "HS256", x: "???>>>" };
    expect(standard(JSON.stringify(header))).toMatch(/[+/]/);
    const token = await signToken({
      header,
      claims: { iss: "alice-key" },
      secret: "alice-secret",
      encode: standard,
    });
    expect((await verify(token)).ok).toBe(false);
    expect(await verify(token)).toMatchObject({
      message: "Bad token; invalid JSON",
      wwwAuthenticate: WITH_ERROR,
    });
  });

  test("refuses tokens that do not split or decode into two JSON objects", async () => {
    const header = b64url(JSON.stringify({ alg: "HS256" }));
    const payload = b64url(JSON.stringify({ iss: "alice-key" }));
    for (const token of [
      "not-a-jwt",
      `${header}.${payload}`,
      `${header}.!!!.sig`,
      `${header}.${b64url("not json")}.sig`,
      `${header}.${b64url("[1,2]")}.sig`,
    ]) {
      expect(await verify(token)).toMatchObject({ ok: false, message: "Bad token; invalid JSON" });
    }
  });

  test("splits on the first two dots only, so a fourth segment spoils the signature", async () => {
    const token = await aliceToken({});
    expect(await verify(`${token}.extra`)).toMatchObject({
      ok: false,
      message: "Bad token; invalid signature",
    });
  });

  test("verifies the exact transmitted segments, whatever their JSON formatting", async () => {
    const token = await signToken({
      header: '{ "typ" : "JWT",\n "alg" : "HS256" }',
      claims: '{"sub":"x",   "iss":"alice-key"}',
      secret: "alice-secret",
    });
    expect(await verify(token)).toMatchObject({ ok: true, claims: { iss: "alice-key", sub: "x" } });
  });
});

describe("Kong jwt plugin oracle: registered claims", () => {
  test("checks nothing unless claims_to_verify says so", async () => {
    expect((await verify(await aliceToken({ exp: NOW - 1000, nbf: NOW + 1000 }))).ok).toBe(true);
  });

  test("exp fails at exp == now and passes one second before", async () => {
    const config: JwtPluginConfig = { claims_to_verify: ["exp"] };
    await expectClaimRefusal(
      await aliceToken({ exp: NOW }),
      config,
      { exp: "token expired" },
      "'exp' token expired",
    );
    expect((await verify(await aliceToken({ exp: NOW + 1 }), config)).ok).toBe(true);
  });

  test("nbf passes at nbf == now and fails one second later", async () => {
    const config: JwtPluginConfig = { claims_to_verify: ["nbf"] };
    expect((await verify(await aliceToken({ nbf: NOW }), config)).ok).toBe(true);
    const early = await aliceToken({ nbf: NOW + 1 });
    await expectClaimRefusal(early, config, { nbf: "token not valid yet" }, "'nbf' token not valid yet");
  });

  test("a missing or non-number claim must be a number; every failing claim is reported", async () => {
    const config: JwtPluginConfig = { claims_to_verify: ["exp", "nbf"] };
    const body = { exp: "must be a number", nbf: "must be a number" };
    await expectClaimRefusal(
      await aliceToken({}),
      config,
      body,
      "'exp' must be a number; 'nbf' must be a number",
    );
    const strings = await aliceToken({ exp: String(NOW + 60), nbf: NOW + 5 });
    await expectClaimRefusal(
      strings,
      config,
      { exp: "must be a number", nbf: "token not valid yet" },
      "'exp' must be a number; 'nbf' token not valid yet",
    );
  });

  test("maximum_expiration refuses exp - now above the limit and accepts it at the limit", async () => {
    const config: JwtPluginConfig = { claims_to_verify: ["exp"], maximum_expiration: 300 };
    expect((await verify(await aliceToken({ exp: NOW + 300 }), config)).ok).toBe(true);
    await expectClaimRefusal(
      await aliceToken({ exp: NOW + 301 }),
      config,
      { exp: "exceeds maximum allowed expiration" },
      "'exp' exceeds maximum allowed expiration",
    );
    await expectClaimRefusal(
      await aliceToken({ exp: NOW }),
      config,
      { exp: "token expired" },
      "'exp' token expired",
    );
  });

  test("refuses a configuration Kong's schema would refuse", async () => {
    const token = await aliceToken({ exp: NOW + 10 });
    await expect(verify(token, { maximum_expiration: 60 })).rejects.toThrow(/claims_to_verify/);
    await expect(
      verify(token, { claims_to_verify: ["exp"], maximum_expiration: 31_536_001 }),
    ).rejects.toThrow();
  });
});

describe("Kong jwt plugin oracle: secret_is_base64", () => {
  test("signs with the base64url-decoded secret", async () => {
    const token = await signToken({ claims: { iss: "b64-key" }, secret: rawSecret });
    expect((await verify(token, { secret_is_base64: true })).ok).toBe(true);
    await expect(verify(token)).resolves.toMatchObject({ ok: false, message: "Invalid signature" });
  });

  test("refuses a stored secret containing + or / as an invalid key/secret", async () => {
    for (const key of ["plus-key", "slash-key"]) {
      const token = await signToken({ claims: { iss: key }, secret: key === "plus-key" ? "ab+cd" : "ab/cd" });
      expect((await verify(token)).ok).toBe(true);
      await expect(verify(token, { secret_is_base64: true })).resolves.toMatchObject({
        ok: false,
        message: "Invalid key/secret",
        wwwAuthenticate: WITH_ERROR,
      });
    }
  });
});

describe("verifyToken against the emulator", () => {
  const kong = KongEmulator.start();
  afterAll(() => kong.stop());

  test("accepts a token for an emulated credential, judged by the real clock by default", async () => {
    const consumer = kong.addConsumer({ username: "emulated" });
    const credential = kong.addCredential("emulated", { algorithm: "HS512" });
    const now = Math.floor(Date.now() / 1000);
    const token = await signToken({
      claims: { iss: credential.key, exp: now + 60, nbf: now },
      secret: credential.secret,
      alg: "HS512",
    });
    const result = await verifyToken(token, { claims_to_verify: ["exp", "nbf"] }, kong);
    expect(result).toMatchObject({
      ok: true,
      consumer: { id: consumer.id },
      credential: { id: credential.id },
    });
    expect(await verifyToken(token, { claims_to_verify: ["exp"] }, kong, now + 60)).toMatchObject({
      ok: false,
    });
    kong.removeCredential("emulated", credential.id);
    expect(await verifyToken(token, {}, kong)).toMatchObject({
      message: "No credentials found for given 'iss'",
    });
  });
});
