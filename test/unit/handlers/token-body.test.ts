import { describe, expect, test } from "bun:test";
import fc from "fast-check";
import type { TokenResponse } from "../../../src/api/schemas.ts";
import { tokenBody } from "../../../src/handlers/tokens.ts";

const segment = fc.stringMatching(/^[A-Za-z0-9_-]{1,400}$/);

describe("the token response body", () => {
  test("is byte for byte what JSON.stringify makes of a TokenResponse, for any compact JWS and lifetime", () => {
    fc.assert(
      fc.property(
        segment,
        segment,
        segment,
        fc.integer({ min: 1, max: 86_400 * 365 }),
        (h, p, s, expiresIn) => {
          const token = `${h}.${p}.${s}`;
          const reference: TokenResponse = {
            access_token: token,
            expires_in: expiresIn,
            token_type: "Bearer",
          };
          expect(tokenBody(token, expiresIn)).toBe(JSON.stringify(reference));
        },
      ),
      { numRuns: 500 },
    );
  });
});
