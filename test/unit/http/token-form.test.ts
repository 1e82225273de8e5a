import { describe, expect, test } from "bun:test";
import { readTokenForm } from "../../../src/http/token-form.ts";

const FORM = "application/x-www-form-urlencoded";
const request = (body: string, type: string | null = FORM) =>
  new Request("http://service/tokens", {
    method: "POST",
    body,
    headers: type === null ? {} : { "content-type": type },
  });

async function refusal(body: string, type: string | null = FORM) {
  const refused = await readTokenForm(request(body, type), 64);
  if (!refused) throw new Error("the form was accepted");
  return { reason: refused.reason, status: refused.response.status, body: await refused.response.json() };
}

describe("readTokenForm: the client-credentials form (RFC 6749 §4.4.2)", () => {
  test("grant_type=client_credentials is accepted, with a charset, in any case of media type, other parameters ignored", async () => {
    expect(await readTokenForm(request("grant_type=client_credentials"), 64)).toBeUndefined();
    expect(
      await readTokenForm(
        request(
          "grant_type=client_credentials&scope=&x=1",
          "Application/X-WWW-Form-Urlencoded; charset=utf-8",
        ),
        64,
      ),
    ).toBeUndefined();
    expect(
      await readTokenForm(request("grant_type=client_credentials", `${FORM} ; charset=utf-8`), 64),
    ).toBeUndefined();
  });

  test("another media type, or none: invalid_request", async () => {
    for (const type of [
      "application/json",
      "text/plain",
      "application/x-www-form-urlencodedx",
      "xapplication/x-www-form-urlencoded",
      "application/x-www-form-urlencoded,text/plain",
      null,
    ]) {
      expect(await refusal("grant_type=client_credentials", type)).toEqual({
        reason: "invalid_request",
        status: 400,
        body: { error: "invalid_request", error_description: `The body must be ${FORM}.` },
      });
    }
  });

  test("a body over the limit: 413, counted as body_too_large; at the limit it is read", async () => {
    const atLimit = `grant_type=client_credentials&p=${"x".repeat(64 - 32)}`;
    expect(atLimit.length).toBe(64);
    expect(await readTokenForm(request(atLimit), 64)).toBeUndefined();
    // Bytes, not characters: "é" is two.
    expect((await refusal(`${atLimit.slice(0, -1)}é`)).reason).toBe("body_too_large");
    expect(await refusal(`${atLimit}x`)).toEqual({
      reason: "body_too_large",
      status: 413,
      body: { error: "invalid_request", error_description: "Request bodies are limited to 64 bytes." },
    });
  });

  test("grant_type or scope twice: invalid_request", async () => {
    expect((await refusal("grant_type=client_credentials&grant_type=x")).body).toEqual({
      error: "invalid_request",
      error_description: "grant_type is given more than once.",
    });
    expect((await refusal("grant_type=client_credentials&scope=&scope=")).body).toEqual({
      error: "invalid_request",
      error_description: "scope is given more than once.",
    });
  });

  test("no grant_type, or an empty one: invalid_request", async () => {
    for (const body of ["", "grant_type=", "scope=a"]) {
      expect((await refusal(body)).body).toEqual({
        error: "invalid_request",
        error_description: "grant_type is missing.",
      });
    }
  });

  test("another grant: unsupported_grant_type; a scope: invalid_scope; both counted as invalid_request", async () => {
    expect(await refusal("grant_type=password")).toEqual({
      reason: "invalid_request",
      status: 400,
      body: {
        error: "unsupported_grant_type",
        error_description: "Only grant_type=client_credentials is supported.",
      },
    });
    expect(await refusal("grant_type=client_credentials&scope=read")).toEqual({
      reason: "invalid_request",
      status: 400,
      body: {
        error: "invalid_scope",
        error_description: "This service issues tokens without scopes; omit scope.",
      },
    });
  });
});
