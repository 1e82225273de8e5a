import { afterEach, describe, expect, test } from "bun:test";
import * as oauth from "oauth4webapi";
import { testConfig } from "../support/config.ts";
import { type BasicAuthClient, basicAuthKong } from "../support/kong-basic-auth.ts";
import { verifyToken } from "../support/kong-jwt-verifier.ts";
import { type Stack, type StackOptions, startStack } from "../support/stack.ts";

/**
 * POST /tokens, the OAuth 2.0 client-credentials form (RFC 6749 §4.4) of GET /tokens: a maintained
 * OAuth client library gets the same token through Kong's basic-auth route, and every refusal is an
 * RFC 6749 §5.2 error an OAuth client can read.
 */

const PLUGIN = {
  key_claim_name: "key",
  claims_to_verify: ["exp", "nbf"] as ("exp" | "nbf")[],
  maximum_expiration: testConfig().jwt.expirationMinutes * 60 + testConfig().jwt.clockSkewSeconds,
};
const FORM = "application/x-www-form-urlencoded";
const GATEWAY_SECRET = "kong-to-auth-service-shared-secret-0123456789";

let stack: Stack | undefined;
afterEach(async () => {
  await stack?.stop();
  stack = undefined;
});

async function started(options: StackOptions = {}): Promise<Stack> {
  stack = await startStack(options);
  return stack;
}

/**
 * A consumer with a Kong basic-auth credential, known to the Admin API emulator. The credential is
 * alphanumeric: OAuth clients form-encode both halves before Basic (RFC 6749 §2.3.1; oauth4webapi turns
 * `-` into `%2D`), and Kong's basic-auth compares what it decodes as it is.
 */
function basicAuthClient(s: Stack, name: string): BasicAuthClient {
  const consumer = s.emulator.addConsumer({ username: name });
  return {
    consumer: { id: consumer.id, username: name },
    username: `${name.replaceAll("-", "")}Client`,
    password: "s3cretPassw0rd",
  };
}

/** What oauth4webapi does for a client_secret_basic client-credentials grant, through `kong`. */
async function clientCredentials(s: Stack, client: BasicAuthClient, kong: ReturnType<typeof basicAuthKong>) {
  const as: oauth.AuthorizationServer = { issuer: s.url, token_endpoint: `${s.url}/tokens` };
  const oauthClient: oauth.Client = { client_id: client.username };
  const options = { [oauth.allowInsecureRequests]: true, [oauth.customFetch]: kong };
  const response = await oauth.clientCredentialsGrantRequest(
    as,
    oauthClient,
    oauth.ClientSecretBasic(client.password),
    new URLSearchParams(),
    options,
  );
  return oauth.processClientCredentialsResponse(as, oauthClient, response);
}

/** POST /tokens as Kong forwards it for `consumer` (no gateway secret unless given). */
function post(
  s: Stack,
  consumer: { id: string; username: string } | undefined,
  body: string,
  headers: Record<string, string> = {},
) {
  return s.fetch("/tokens", {
    method: "POST",
    headers: {
      "content-type": FORM,
      ...(consumer ? { "x-consumer-id": consumer.id, "x-consumer-username": consumer.username } : {}),
      ...headers,
    },
    body,
  });
}

/** The §5.2 body and the headers every error of this route carries. */
async function oauthErrorOf(response: Response): Promise<Record<string, unknown>> {
  expect(response.headers.get("content-type")).toBe("application/json");
  expect(response.headers.get("cache-control")).toBe("no-store");
  expect(response.headers.get("pragma")).toBe("no-cache");
  return (await response.json()) as Record<string, unknown>;
}

describe("POST /tokens through an OAuth 2.0 client library", () => {
  test("oauth4webapi's client-credentials grant through Kong's basic-auth route gets a token Kong's jwt plugin accepts", async () => {
    const s = await started({ env: { TRUSTED_GATEWAY_SECRET: GATEWAY_SECRET } });
    const client = basicAuthClient(s, "oauth-alice");
    const credential = s.emulator.addCredential(client.consumer.id);
    const kong = basicAuthKong(s, [client], { "x-gateway-secret": GATEWAY_SECRET });

    const token = await clientCredentials(s, client, kong);
    expect(token.token_type).toBe("bearer");
    expect(token.expires_in).toBe(900);
    const verdict = await verifyToken(token.access_token, PLUGIN, s.emulator);
    if (!verdict.ok) throw new Error(`Kong would refuse the token: ${verdict.message}`);
    expect(verdict.consumer.id).toBe(client.consumer.id);
    expect(verdict.credential.id).toBe(credential.id);
    expect(verdict.claims).toMatchObject({ sub: "oauth-alice", name: "oauth-alice" });
  });

  test("the answer has RFC 6749 §5.1's shape and headers, and the same token GET /tokens gives", async () => {
    const s = await started();
    const client = basicAuthClient(s, "same-token");
    const response = await post(s, client.consumer, "grant_type=client_credentials");
    expect(response.status).toBe(200);
    expect(response.headers.get("content-type")).toBe("application/json");
    expect(response.headers.get("cache-control")).toBe("no-store");
    expect(response.headers.get("pragma")).toBe("no-cache");
    expect(response.headers.get("ratelimit-limit")).not.toBeNull();
    const body = (await response.json()) as Record<string, unknown>;
    expect(Object.keys(body).sort()).toEqual(["access_token", "expires_in", "token_type"]);
    expect(body.token_type).toBe("Bearer");

    const viaGet = (await (await s.tokens(client.consumer)).json()) as Record<string, unknown>;
    const posted = await verifyToken(body.access_token as string, PLUGIN, s.emulator);
    const got = await verifyToken(viaGet.access_token as string, PLUGIN, s.emulator);
    if (!posted.ok || !got.ok) throw new Error("Kong would refuse a token");
    expect(posted.credential.id).toBe(got.credential.id);
    expect(posted.claims.sub).toBe(got.claims.sub);
    expect(body.expires_in).toBe(viaGet.expires_in);
  });

  test("unknown parameters are ignored and an empty scope counts as absent (RFC 6749 §3.2)", async () => {
    const s = await started();
    const client = basicAuthClient(s, "extra-params");
    const response = await post(
      s,
      client.consumer,
      "grant_type=client_credentials&scope=&audience=x&client_id=y",
    );
    expect(response.status).toBe(200);
  });

  test("a refusal reaches the library as the §5.2 error, with its status and Retry-After", async () => {
    const s = await started({ env: { RATE_LIMIT_MAX_REQUESTS: "1" } });
    const client = basicAuthClient(s, "limited-client");
    const kong = basicAuthKong(s, [client]);
    await clientCredentials(s, client, kong);
    const error = await clientCredentials(s, client, kong).catch((e: unknown) => e);
    expect(error).toBeInstanceOf(oauth.ResponseBodyError);
    const refusal = error as oauth.ResponseBodyError;
    expect(refusal.error).toBe("temporarily_unavailable");
    expect(refusal.status).toBe(429);
    expect(Number(refusal.response.headers.get("retry-after"))).toBeGreaterThan(0);
  });
});

describe("POST /tokens refuses in RFC 6749 §5.2 shape", () => {
  test("no grant_type: 400 invalid_request", async () => {
    const s = await started();
    const client = basicAuthClient(s, "no-grant");
    const response = await post(s, client.consumer, "scope=");
    expect(response.status).toBe(400);
    expect(await oauthErrorOf(response)).toEqual({
      error: "invalid_request",
      error_description: "grant_type is missing.",
    });
  });

  test("another grant type: 400 unsupported_grant_type", async () => {
    const s = await started();
    const client = basicAuthClient(s, "other-grant");
    const response = await post(s, client.consumer, "grant_type=password&username=a&password=b");
    expect(response.status).toBe(400);
    expect((await oauthErrorOf(response)).error).toBe("unsupported_grant_type");
  });

  test("a scope: 400 invalid_scope, since the token carries none", async () => {
    const s = await started();
    const client = basicAuthClient(s, "scoped");
    const response = await post(s, client.consumer, "grant_type=client_credentials&scope=read");
    expect(response.status).toBe(400);
    expect((await oauthErrorOf(response)).error).toBe("invalid_scope");
  });

  test("a parameter given twice: 400 invalid_request (RFC 6749 §3.2)", async () => {
    const s = await started();
    const client = basicAuthClient(s, "twice");
    const response = await post(
      s,
      client.consumer,
      "grant_type=client_credentials&grant_type=client_credentials",
    );
    expect(response.status).toBe(400);
    expect(await oauthErrorOf(response)).toEqual({
      error: "invalid_request",
      error_description: "grant_type is given more than once.",
    });
  });

  test("a body that is not a form: 400 invalid_request, whatever it holds", async () => {
    const s = await started();
    const client = basicAuthClient(s, "json-body");
    for (const type of ["application/json", "text/plain", "multipart/form-data; boundary=x"]) {
      const response = await post(s, client.consumer, "grant_type=client_credentials", {
        "content-type": type,
      });
      expect(response.status).toBe(400);
      expect((await oauthErrorOf(response)).error).toBe("invalid_request");
    }
    const charset = await post(s, client.consumer, "grant_type=client_credentials", {
      "content-type": `${FORM}; charset=UTF-8`,
    });
    expect(charset.status).toBe(200);
  });

  test("a form over 1 KiB, and a body declared over 16 KiB: 413 invalid_request", async () => {
    const s = await started();
    const client = basicAuthClient(s, "big-form");
    const padded = `grant_type=client_credentials&pad=${"x".repeat(1024)}`;
    const large = await post(s, client.consumer, padded);
    expect(large.status).toBe(413);
    expect(await oauthErrorOf(large)).toEqual({
      error: "invalid_request",
      error_description: "Request bodies are limited to 1024 bytes.",
    });
    const huge = await post(s, client.consumer, `${padded}${"x".repeat(20_000)}`);
    expect(huge.status).toBe(413);
    expect((await oauthErrorOf(huge)).error).toBe("invalid_request");
  });

  test("no consumer headers, or Kong's anonymous consumer: 401 invalid_client with a Basic challenge", async () => {
    const s = await started();
    const client = basicAuthClient(s, "anon-check");
    for (const response of [
      await post(s, undefined, "grant_type=client_credentials"),
      await post(s, client.consumer, "grant_type=client_credentials", { "x-anonymous-consumer": "true" }),
    ]) {
      expect(response.status).toBe(401);
      expect(response.headers.get("www-authenticate")).toBe('Basic realm="kong"');
      expect((await oauthErrorOf(response)).error).toBe("invalid_client");
    }
  });

  test("a consumer Kong does not know, or a username other than Kong's: 401 invalid_client", async () => {
    const s = await started();
    const known = basicAuthClient(s, "known-name");
    for (const response of [
      await post(s, { id: crypto.randomUUID(), username: "ghost" }, "grant_type=client_credentials"),
      await post(s, { id: known.consumer.id, username: "forged" }, "grant_type=client_credentials"),
    ]) {
      expect(response.status).toBe(401);
      expect(response.headers.get("www-authenticate")).toBe('Basic realm="kong"');
      expect((await oauthErrorOf(response)).error).toBe("invalid_client");
    }
  });

  test("not through Kong: 401 invalid_client without the gateway secret, 403 from a peer outside the CIDRs", async () => {
    const secret = await started({ env: { TRUSTED_GATEWAY_SECRET: GATEWAY_SECRET } });
    const client = basicAuthClient(secret, "no-secret");
    const noSecret = await post(secret, client.consumer, "grant_type=client_credentials");
    expect(noSecret.status).toBe(401);
    expect((await oauthErrorOf(noSecret)).error).toBe("invalid_client");
    await secret.stop();
    stack = undefined;

    const peer = await started({ env: { TRUSTED_PROXY_CIDRS: "10.0.0.0/8" } });
    const outsider = basicAuthClient(peer, "outside-peer");
    const refused = await post(peer, outsider.consumer, "grant_type=client_credentials");
    expect(refused.status).toBe(403);
    expect((await oauthErrorOf(refused)).error).toBe("invalid_client");
  });

  test("over the rate limit: 429 temporarily_unavailable with Retry-After and the RateLimit headers", async () => {
    const s = await started({ env: { RATE_LIMIT_MAX_REQUESTS: "1" } });
    const client = basicAuthClient(s, "rate-limited");
    expect((await post(s, client.consumer, "grant_type=client_credentials")).status).toBe(200);
    const response = await post(s, client.consumer, "grant_type=client_credentials");
    expect(response.status).toBe(429);
    expect(Number(response.headers.get("retry-after"))).toBeGreaterThan(0);
    expect(response.headers.get("ratelimit-remaining")).toBe("0");
    expect((await oauthErrorOf(response)).error).toBe("temporarily_unavailable");
  });

  test("Kong unusable and nothing cached: 503 temporarily_unavailable with Retry-After", async () => {
    const s = await started();
    const client = basicAuthClient(s, "kong-down");
    s.emulator.inject({ status: 503 });
    const response = await post(s, client.consumer, "grant_type=client_credentials");
    expect(response.status).toBe(503);
    expect(Number(response.headers.get("retry-after"))).toBeGreaterThan(0);
    expect((await oauthErrorOf(response)).error).toBe("temporarily_unavailable");
  });

  test("Kong refuses the admin token: 500 server_error, naming no secret", async () => {
    const s = await started();
    const client = basicAuthClient(s, "misconfigured");
    s.emulator.inject({ status: 401 });
    const response = await post(s, client.consumer, "grant_type=client_credentials");
    expect(response.status).toBe(500);
    expect(await oauthErrorOf(response)).toEqual({
      error: "server_error",
      error_description: "The service cannot use Kong's Admin API.",
    });
  });

  test("an unexpected error while serving: 500 server_error", async () => {
    // A clock that fails on demand: the one dependency every token request reads.
    let broken = false;
    const now = () => {
      if (broken) throw new Error("clock failure");
      return Date.now();
    };
    const s = await started({ now });
    const client = basicAuthClient(s, "unlucky");
    broken = true;
    const response = await post(s, client.consumer, "grant_type=client_credentials").finally(() => {
      broken = false;
    });
    expect(response.status).toBe(500);
    expect(await oauthErrorOf(response)).toEqual({
      error: "server_error",
      error_description: "The request could not be served.",
    });
  });

  test("GET /tokens keeps its RFC 9457 problems", async () => {
    const s = await started();
    const response = await s.fetch("/tokens");
    expect(response.status).toBe(401);
    expect(response.headers.get("content-type")).toBe("application/problem+json");
    expect(response.headers.get("www-authenticate")).toBe('Key realm="kong"');
  });
});
