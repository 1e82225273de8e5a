import { describe, expect, test } from "bun:test";
import { type JwtPluginConfig, verifyKongJwt } from "../../support/kong-jwt-verifier.ts";
import { Credentials, NOW, signToken } from "./jwt-tokens.ts";

const store = new Credentials();
const alice = store.add("alice-key", "alice-secret");
store.add("bob-key", "bob-secret");
store.add("hs384-key", "hs384-secret-hs384-secret-hs384-secret-hs384", "HS384");
store.add("hs512-key", "hs512-secret-hs512-secret-hs512-secret-hs512-secret-hs512-secret!", "HS512");

const WITH_ERROR = 'Bearer error="invalid_token"';
const claims = (extra: Record<string, unknown> = {}) => ({
  iss: "alice-key",
  iat: NOW,
  exp: NOW + 300,
  ...extra,
});
const aliceToken = (extra: Record<string, unknown> = {}) =>
  signToken({ claims: claims(extra), secret: "alice-secret" });

function verify(request: { headers?: Record<string, string>; url?: string }, config: JwtPluginConfig = {}) {
  return verifyKongJwt(request, config, store.lookup, NOW);
}
const bearer = (token: string) => ({ headers: { Authorization: `Bearer ${token}` } });

async function expectRefusal(
  result: Promise<Awaited<ReturnType<typeof verify>>>,
  message: string,
  wwwAuthenticate = WITH_ERROR,
) {
  expect(await result).toEqual({ ok: false, status: 401, message, wwwAuthenticate, body: { message } });
}

describe("Kong jwt plugin oracle: finding the token", () => {
  test("accepts a valid HS256 token and names the credential and consumer", async () => {
    const result = await verify(bearer(await aliceToken()));
    expect(result).toEqual({
      ok: true,
      credential: alice.credential,
      consumer: alice.consumer,
      claims: claims(),
      header: { typ: "JWT", alg: "HS256" },
    });
  });

  test("answers 401 Unauthorized without invalid_token when no token is present", async () => {
    await expectRefusal(verify({}), "Unauthorized", "Bearer");
    await expectRefusal(verify({}, { realm: "api" }), "Unauthorized", 'Bearer realm="api"');
  });

  test("matches the Authorization header with \\s*[Bb]earer\\s+(.+) and ignores a bare token", async () => {
    const token = await aliceToken();
    for (const value of [`bearer ${token}`, `  Bearer    ${token}`]) {
      expect((await verify({ headers: { authorization: value } })).ok).toBe(true);
    }
    await expectRefusal(verify({ headers: { authorization: token } }), "Unauthorized", "Bearer");
    await expectRefusal(verify({ headers: { authorization: `Basic ${token}` } }), "Unauthorized", "Bearer");
  });

  test("reads ?jwt= by default and the configured uri_param_names only", async () => {
    const token = await aliceToken();
    expect((await verify({ url: `/anything?jwt=${token}` })).ok).toBe(true);
    expect((await verify({ url: `http://gw/x?token=${token}` }, { uri_param_names: ["token"] })).ok).toBe(
      true,
    );
    await expectRefusal(
      verify({ url: `/x?jwt=${token}` }, { uri_param_names: ["token"] }),
      "Unauthorized",
      "Bearer",
    );
    await expectRefusal(verify({ url: "/x?jwt=" }), "Unauthorized", "Bearer");
    await expectRefusal(verify({ url: "/x?jwt" }), "Unrecognizable token");
  });

  test("reads cookies only when cookie_names is configured", async () => {
    const token = await aliceToken();
    const request = { headers: { cookie: `other=1; crumble=${token}; path=/` } };
    expect((await verify(request, { cookie_names: ["silly", "crumble"] })).ok).toBe(true);
    await expectRefusal(verify(request), "Unauthorized", "Bearer");
  });

  test("reads the configured header_names instead of Authorization", async () => {
    const token = await aliceToken();
    const config = { header_names: ["CustomAuthorization"] };
    expect((await verify({ headers: { customauthorization: `Bearer ${token}` } }, config)).ok).toBe(true);
    await expectRefusal(verify(bearer(token), config), "Unauthorized", "Bearer");
  });

  test("refuses two distinct tokens but accepts the same token presented twice", async () => {
    const one = await aliceToken();
    const other = await aliceToken({ jti: "2" });
    await expectRefusal(verify({ ...bearer(one), url: `/x?jwt=${other}` }), "Multiple tokens provided");
    await expectRefusal(verify({ url: `/x?jwt=${one}&jwt=${other}` }), "Multiple tokens provided");
    expect((await verify({ ...bearer(one), url: `/x?jwt=${one}` })).ok).toBe(true);
  });
});

describe("Kong jwt plugin oracle: key claim, credential and signature", () => {
  test("requires the key claim and refuses an empty one", async () => {
    const missing = await signToken({ claims: { exp: NOW + 60 }, secret: "alice-secret" });
    const empty = await signToken({ claims: { iss: "" }, secret: "alice-secret" });
    await expectRefusal(verify(bearer(missing)), "No mandatory 'iss' in claims");
    await expectRefusal(verify(bearer(empty)), "Invalid 'iss' in claims");
  });

  test("refuses a key that matches no credential", async () => {
    const token = await signToken({ claims: { iss: "123456789" }, secret: "alice-secret" });
    await expectRefusal(verify(bearer(token)), "No credentials found for given 'iss'");
  });

  test("uses key_claim_name, from the claims first and else from the header", async () => {
    const inAud = await signToken({
      claims: { aud: "alice-key", iss: "someone-else" },
      secret: "alice-secret",
    });
    expect((await verify(bearer(inAud), { key_claim_name: "aud" })).ok).toBe(true);

    const inKid = await signToken({
      header: { alg: "HS256", kid: "alice-key" },
      claims: {},
      secret: "alice-secret",
    });
    expect((await verify(bearer(inKid), { key_claim_name: "kid" })).ok).toBe(true);
    await expectRefusal(verify(bearer(inKid)), "No mandatory 'iss' in claims");

    const both = await signToken({
      header: { alg: "HS256", kid: "alice-key" },
      claims: { kid: "bob-key" },
      secret: "alice-secret",
    });
    await expectRefusal(verify(bearer(both), { key_claim_name: "kid" }), "Invalid signature");
  });

  test("refuses a token signed with another secret", async () => {
    const token = await signToken({ claims: claims(), secret: "not-alice-secret" });
    await expectRefusal(verify(bearer(token)), "Invalid signature");
  });

  test("requires the token's alg to equal the credential's algorithm", async () => {
    const claimsRs = await signToken({
      header: { typ: "JWT", alg: "RS256" },
      claims: claims(),
      secret: "alice-secret",
    });
    await expectRefusal(verify(bearer(claimsRs)), "Invalid algorithm");
    const hs256For512 = await signToken({ claims: { iss: "hs512-key" }, secret: "whatever" });
    await expectRefusal(verify(bearer(hs256For512)), "Invalid algorithm");
  });

  test("accepts HS384 and HS512 credentials signed with their own algorithm", async () => {
    for (const [key, alg] of [
      ["hs384-key", "HS384"],
      ["hs512-key", "HS512"],
    ] as const) {
      const secret = store.lookup(key)?.credential.secret ?? "";
      const result = await verify(bearer(await signToken({ claims: { iss: key }, secret, alg })));
      expect(result).toMatchObject({ ok: true, credential: { key, algorithm: alg } });
    }
  });

  test("refuses alg none and a missing alg before looking for a credential", async () => {
    const payload = Buffer.from(JSON.stringify(claims())).toString("base64url");
    for (const header of [{ alg: "none" }, { typ: "JWT" }, { alg: "hs256" }]) {
      const token = `${Buffer.from(JSON.stringify(header)).toString("base64url")}.${payload}.`;
      await expectRefusal(verify(bearer(token)), "Bad token; invalid alg");
    }
  });
});
