/**
 * Creating asymmetric jwt credentials through the emulated Admin API, as daos.lua validates them
 * (docs/kong-facts.md#jwt-asymmetric-credentials), and verifying tokens against what was created.
 */
import { afterAll, beforeAll, describe, expect, test } from "bun:test";
import { KongEmulator, type KongMode } from "../../support/kong-emulator.ts";
import { verifyToken } from "../../support/kong-jwt-verifier.ts";
import { AdminClient } from "./admin-client.ts";
import { ecKey, ed25519Key, type KeyPair, rsaKey, signAsymmetricToken } from "./asymmetric-tokens.ts";

const rsa = rsaKey();
const KEYS: Record<string, KeyPair> = {
  RS256: rsa,
  RS384: rsa,
  RS512: rsa,
  PS256: rsa,
  PS384: rsa,
  PS512: rsa,
  ES256: ecKey("P-256"),
  ES384: ecKey("P-384"),
  ES512: ecKey("P-521"),
  EdDSA: ed25519Key(),
};
const CONDITIONAL = "failed conditional validation given value of field 'algorithm'";
const UNLOADABLE = "-----BEGIN PUBLIC KEY-----\nnot a key\n-----END PUBLIC KEY-----";

describe.each(["API_GATEWAY", "KONNECT"] as const)(
  "Kong emulator: asymmetric jwt credentials (%s)",
  (mode: KongMode) => {
    let kong: KongEmulator;
    let admin: AdminClient;
    let consumer = 0;

    beforeAll(() => {
      kong = KongEmulator.start({ mode });
      admin = new AdminClient(kong);
    });
    afterAll(() => kong.stop());

    function create(body: Record<string, unknown>) {
      consumer += 1;
      const username = `asym-${consumer}`;
      kong.addConsumer({ username });
      return admin
        .request("POST", `/consumers/${username}/jwt`, { json: body })
        .then((answer) => ({ answer, username }));
    }

    function expectConditionalRefusal(answer: { status: number; body: unknown }, problem: string) {
      expect(answer.status).toBe(400);
      if (mode === "API_GATEWAY") {
        expect(answer.body).toEqual({
          code: 2,
          name: "schema violation",
          message: `2 schema violations (${CONDITIONAL}; rsa_public_key: ${problem})`,
          fields: { "@entity": [CONDITIONAL], rsa_public_key: problem },
        });
      } else {
        expect(answer.body).toMatchObject({
          status: 400,
          title: "Bad Request",
          invalid_parameters: [{ field: "rsa_public_key", reason: problem }],
        });
      }
    }

    test.each(Object.keys(KEYS))(
      "creates a %s credential with its public key, and Kong accepts its tokens",
      async (alg) => {
        const key = KEYS[alg] as KeyPair;
        const { answer, username } = await create({ algorithm: alg, rsa_public_key: key.publicPem });
        expect(answer.status).toBe(201);
        expect(answer.body).toMatchObject({ algorithm: alg, rsa_public_key: key.publicPem });
        expect(kong.credentialsOf(username).map((c) => c.algorithm)).toEqual([alg]);

        const token = signAsymmetricToken({
          alg,
          privateKey: key.privateKey,
          claims: { iss: answer.body.key },
        });
        expect(await verifyToken(token, {}, kong)).toMatchObject({
          ok: true,
          credential: { id: answer.body.id },
        });
      },
    );

    test.each(["RS256", "RS384", "RS512", "PS256", "PS384", "PS512", "EdDSA"])(
      "refuses a %s credential without rsa_public_key, or with one OpenSSL cannot load",
      async (alg) => {
        expectConditionalRefusal((await create({ algorithm: alg })).answer, "required field missing");
        expectConditionalRefusal(
          (await create({ algorithm: alg, rsa_public_key: UNLOADABLE })).answer,
          "invalid key",
        );
        expect(() => kong.addCredential(kong.addConsumer().id, { algorithm: alg })).toThrow(
          "required field missing",
        );
      },
    );

    test.each(["ES256", "ES384", "ES512"])(
      "creates a %s credential without a key or with any string, as Kong does",
      async (alg) => {
        const bare = await create({ algorithm: alg });
        expect(bare.answer.status).toBe(201);
        expect(bare.answer.body.rsa_public_key).toBeNull();
        const junk = await create({ algorithm: alg, rsa_public_key: UNLOADABLE });
        expect(junk.answer.status).toBe(201);
        expect(kong.addCredential(kong.addConsumer().id, { algorithm: alg }).rsa_public_key).toBeNull();
      },
    );

    test("refuses an algorithm Kong 3.10 does not know, listing the thirteen it does", async () => {
      const { answer } = await create({
        algorithm: "ES256K",
        rsa_public_key: (KEYS.ES256 as KeyPair).publicPem,
      });
      expect(answer.status).toBe(400);
      const expected =
        "expected one of: HS256, HS384, HS512, RS256, RS384, RS512, ES256, ES384, ES512, PS256, PS384, PS512, EdDSA";
      if (mode === "API_GATEWAY") expect(answer.body.fields).toEqual({ algorithm: expected });
      else expect(answer.body.invalid_parameters).toEqual([{ field: "algorithm", reason: expected }]);
    });
  },
);
