import { describe, expect, test } from "bun:test";
import * as oauth from "oauth4webapi";
import { importSigningKey, secretBytes } from "../../../src/jwt/keys.ts";
import { TokenSigner } from "../../../src/jwt/signer.ts";
import { ANONYMOUS_CONSUMER, TEST_CONSUMERS } from "../../shared/test-consumers.ts";
import { testConfig } from "../../support/config.ts";
import {
  type JwtPluginConfig,
  resolveJwtPluginConfig,
  verifyKongJwt,
  verifyToken,
} from "../../support/kong-jwt-verifier.ts";
import { startStack } from "../../support/stack.ts";
import { Credentials } from "../support/jwt-tokens.ts";
import {
  authServiceEnv,
  configMapData,
  type DeckConsumer,
  type DeckFile,
  deck,
  deckText,
  pluginOf,
  protectedService,
  renderedDeck,
  tokenService,
} from "./support/artifacts.ts";
import { startMiniKong } from "./support/mini-kong.ts";
import { deckEnvReferences } from "./support/substitution.ts";

/** The trusted-gateway header as the service is configured to read it, wherever that is set. */
const GATEWAY_HEADER_FALLBACK = "X-Gateway-Secret";
const DECK_REFERENCE = /^\$\{\{ env "DECK_[A-Z0-9_]+" \}\}$/;
const HMAC = ["HS256", "HS384", "HS512"];
const MAX_EXPIRATION_LIMIT = 31_536_000;

const deployedEnvs = () => [authServiceEnv(), configMapData()];
/** The token settings of the defaults and of each deployed environment (compose, Kubernetes). */
const deployedJwtSettings = () =>
  [{}, ...deployedEnvs()].map(
    (env: Record<string, string | undefined>) =>
      testConfig({
        JWT_EXPIRATION_MINUTES: env.JWT_EXPIRATION_MINUTES,
        KONG_JWT_CLOCK_SKEW_SECONDS: env.KONG_JWT_CLOCK_SKEW_SECONDS,
        KONG_JWT_KEY_CLAIM_NAME: env.KONG_JWT_KEY_CLAIM_NAME,
        KONG_JWT_SECRET_IS_BASE64: env.KONG_JWT_SECRET_IS_BASE64,
      }).jwt,
  );
const jwtPlugin = (file: DeckFile = deck) => pluginOf(protectedService(file).plugins, "jwt");
const jwtConfig = (file: DeckFile = deck) =>
  jwtPlugin(file).config as JwtPluginConfig & Record<string, unknown>;
const routeNamed = (name: string, file: DeckFile = deck) =>
  tokenService(file).routes?.find((route) => route.name === name);
const tokensRoute = (file: DeckFile = deck) => routeNamed("tokens", file);
const oauthTokensRoute = (file: DeckFile = deck) => routeNamed("oauth-tokens", file);
/** decK's basic-auth credentials of a consumer: the OAuth 2.0 client id and secret. */
const basicAuthOf = (consumer: DeckConsumer) =>
  (consumer.basicauth_credentials ?? []) as { username: string; password: string }[];
const anonymousName = () => String(jwtConfig().anonymous);

interface TransformerConfig {
  remove: { headers: string[] };
  add: { headers: string[] };
  replace?: { headers: string[] };
  append?: { headers: string[] };
}
const transformerConfig = (file: DeckFile = deck, route = tokensRoute(file)) =>
  pluginOf(route?.plugins, "request-transformer").config as unknown as TransformerConfig;
const exampleConsumers = (file: DeckFile = deck): DeckConsumer[] =>
  file.consumers.filter((consumer) => consumer.username !== anonymousName());

describe("kong/kong.yaml", () => {
  test("is a decK 3.0 file scoped by select_tags, so a sync leaves the service's own credentials alone", () => {
    expect(deck._format_version).toBe("3.0");
    expect(deck._info?.select_tags?.length).toBeGreaterThan(0);
  });

  test("holds no secret: API keys, JWT secrets and the gateway secret are decK environment references", () => {
    const consumers = exampleConsumers();
    expect(consumers.length).toBeGreaterThan(0);
    for (const consumer of consumers) {
      for (const credential of consumer.keyauth_credentials ?? [])
        expect(credential.key).toMatch(DECK_REFERENCE);
      for (const credential of consumer.jwt_secrets ?? []) expect(credential.secret).toMatch(DECK_REFERENCE);
      for (const credential of basicAuthOf(consumer)) expect(credential.password).toMatch(DECK_REFERENCE);
    }
    for (const route of [tokensRoute(), oauthTokensRoute()]) {
      for (const header of transformerConfig(deck, route).add.headers)
        expect(header.slice(header.indexOf(":") + 1)).toMatch(DECK_REFERENCE);
    }
    // decK substitutes only DECK_* variables.
    for (const name of deckEnvReferences(deckText)) expect(name).toStartWith("DECK_");
  });

  test("routes only /tokens to the token service: GET behind key-auth on the apikey header, POST behind basic-auth", () => {
    const service = tokenService();
    expect(service.routes?.map((route) => route.name).sort()).toEqual(["oauth-tokens", "tokens"]);
    const oauth = oauthTokensRoute();
    expect(oauth?.paths).toEqual(["/tokens"]);
    expect(oauth?.methods).toEqual(["POST"]);
    expect(oauth?.strip_path).toBe(false);
    const basicAuth = pluginOf(oauth?.plugins, "basic-auth").config ?? {};
    // The client's secret stays at Kong, and a client without one never reaches the service.
    expect(basicAuth.hide_credentials).toBe(true);
    expect(basicAuth.anonymous).toBeUndefined();
    const route = tokensRoute();
    expect(route?.paths).toEqual(["/tokens"]);
    expect(route?.methods).toEqual(["GET"]);
    expect(route?.strip_path).toBe(false);
    const keyAuth = pluginOf(route?.plugins, "key-auth").config ?? {};
    expect(keyAuth.key_names).toEqual(["apikey"]);
    expect(keyAuth.hide_credentials).toBe(true);
    expect(keyAuth.key_in_query).toBe(false);
    // No anonymous fallback on /tokens: a request without a key never reaches the service.
    expect(keyAuth.anonymous).toBeUndefined();
  });

  test.each(["tokens", "oauth-tokens"])(
    "request-transformer on %s drops any client-sent gateway header, then adds Kong's, under the service's header name",
    (routeName) => {
      const transformer = transformerConfig(deck, routeNamed(routeName));
      const configured = [
        ...deployedEnvs().map((env) => env.TRUSTED_GATEWAY_HEADER),
        testConfig().security.gatewayHeader,
      ].filter((name): name is string => typeof name === "string");
      const expected = configured[0] ?? GATEWAY_HEADER_FALLBACK;
      for (const name of configured) expect(name.toLowerCase()).toBe(expected.toLowerCase());

      const removed = transformer.remove.headers.map((name) => name.toLowerCase());
      expect(removed).toContain(expected.toLowerCase());
      expect(transformer.add.headers).toHaveLength(1);
      const [name] = (transformer.add.headers[0] as string).split(":");
      expect(name?.toLowerCase()).toBe(expected.toLowerCase());
      // `append` would forward the client's value too; nothing else may touch the header.
      expect(transformer.append?.headers ?? []).toEqual([]);
      expect(transformer.replace?.headers ?? []).toEqual([]);
    },
  );

  test("the jwt plugin reads the claim the service writes the credential key to", () => {
    const config = jwtConfig();
    expect(config.key_claim_name).toBe(testConfig().jwt.keyClaimName);
    for (const env of deployedEnvs()) {
      if (env.KONG_JWT_KEY_CLAIM_NAME !== undefined)
        expect(env.KONG_JWT_KEY_CLAIM_NAME).toBe(String(config.key_claim_name));
    }
    expect(config.secret_is_base64).toBe(testConfig().jwt.secretIsBase64);
    for (const env of deployedEnvs()) {
      if (env.KONG_JWT_SECRET_IS_BASE64 !== undefined)
        expect(env.KONG_JWT_SECRET_IS_BASE64 === "true").toBe(config.secret_is_base64 as boolean);
    }
  });

  test("the jwt plugin verifies exp and nbf and caps the lifetime at no less than the service's lifetime plus its clock-skew tolerance", () => {
    const config = jwtConfig();
    // Kong's schema: only exp and nbf, and maximum_expiration > 0 needs exp.
    expect(() => resolveJwtPluginConfig(config)).not.toThrow();
    expect([...(config.claims_to_verify ?? [])].sort()).toEqual(["exp", "nbf"]);
    const maximum = config.maximum_expiration as number;
    expect(maximum).toBeLessThanOrEqual(MAX_EXPIRATION_LIMIT);
    // A Kong node `skew` seconds behind sees a fresh token's exp lifetime + skew seconds away.
    for (const jwt of deployedJwtSettings())
      expect(maximum).toBeGreaterThanOrEqual(jwt.expirationMinutes * 60 + jwt.clockSkewSeconds);
  });

  test("a Kong node as far behind or ahead as the service's clock-skew tolerance accepts a fresh token; one second further behind refuses it", async () => {
    const NOW = 1_800_000_000;
    const secret = "kong-yaml-clock-skew-secret-0123456789";
    const kong = new Credentials();
    kong.add("skew-key", secret);
    for (const jwt of deployedJwtSettings()) {
      const signingKey = importSigningKey(secretBytes(secret, jwt.secretIsBase64) as Uint8Array<ArrayBuffer>);
      const { token } = new TokenSigner(jwt, () => NOW).sign("alice", {
        key: "skew-key",
        algorithm: "HS256",
        signingKey,
      });
      const kongAt = async (offset: number) => {
        const verdict = await verifyToken(token, jwtConfig(), { credentialByKey: kong.lookup }, NOW + offset);
        return verdict.ok ? "accepted" : verdict.body;
      };
      const skew = jwt.clockSkewSeconds;
      expect(await kongAt(-1)).toBe("accepted");
      expect(await kongAt(-skew)).toBe("accepted");
      expect(await kongAt(skew)).toBe("accepted");
      expect(await kongAt(-skew - 1)).toEqual({ nbf: "token not valid yet" });
    }
  });

  test("tokens are accepted from the Authorization header only, never from a query string or cookie", () => {
    const config = jwtConfig();
    expect(config.header_names).toEqual(["authorization"]);
    expect(config.uri_param_names).toEqual([]);
    expect(config.cookie_names).toEqual([]);
  });

  test("a request without a valid token continues as the anonymous consumer, who is refused", () => {
    const anonymous = deck.consumers.find((consumer) => consumer.username === anonymousName());
    expect(anonymous?.username).toBe(ANONYMOUS_CONSUMER.username);
    expect(anonymous?.custom_id).toBe(ANONYMOUS_CONSUMER.custom_id);
    // No credential of any kind: the anonymous consumer can never authenticate, nor get a token.
    expect(Object.keys(anonymous ?? {}).sort()).toEqual(["custom_id", "username"]);
    const termination = (deck.plugins ?? []).filter(
      (plugin) => plugin.name === "request-termination" && plugin.consumer === anonymousName(),
    );
    expect(termination).toHaveLength(1);
    expect(termination[0]?.service).toBe(protectedService().name);
    expect(termination[0]?.config?.status_code).toBe(401);
  });

  test("example consumers are the shared test consumers, each with an API key and an HMAC JWT credential", () => {
    // DB-less Kong (docker-compose.yml) cannot create credentials, so each one is declared here.
    const consumers = exampleConsumers();
    const keys = new Set<string>();
    for (const consumer of consumers) {
      const shared = TEST_CONSUMERS.find((candidate) => candidate.username === consumer.username);
      expect(shared, consumer.username).toBeDefined();
      expect(consumer.custom_id).toBe(shared?.custom_id as string);
      expect(consumer.keyauth_credentials?.length).toBe(1);
      expect(consumer.jwt_secrets?.length).toBe(1);
      // OAuth clients form-encode the client id before Basic (RFC 6749 §2.3.1); Kong compares it as sent.
      expect(basicAuthOf(consumer).map((credential) => credential.username)).toEqual([
        expect.stringMatching(/^[A-Za-z0-9]+$/),
      ]);
      for (const credential of consumer.jwt_secrets ?? []) {
        expect(HMAC).toContain(credential.algorithm ?? "HS256");
        expect(credential.key.length).toBeGreaterThan(0);
        expect(keys.has(credential.key)).toBe(false);
        keys.add(credential.key);
      }
    }
  });

  test("Kong accepts the token the service signs with a declared credential (compose values, rendered file)", async () => {
    const rendered = renderedDeck();
    const env = authServiceEnv();
    const gatewayHeader = transformerConfig(rendered).add.headers[0] as string;
    const [headerName = "", ...valueParts] = gatewayHeader.split(":");
    // The test plays Kong: same gateway secret, same JWT settings as the compose stack.
    const stack = await startStack({
      env: {
        KONG_JWT_KEY_CLAIM_NAME: env.KONG_JWT_KEY_CLAIM_NAME,
        JWT_EXPIRATION_MINUTES: env.JWT_EXPIRATION_MINUTES,
        KONG_JWT_CLOCK_SKEW_SECONDS: env.KONG_JWT_CLOCK_SKEW_SECONDS,
        KONG_JWT_AUTHORITY: env.KONG_JWT_AUTHORITY,
        KONG_JWT_AUDIENCE: env.KONG_JWT_AUDIENCE,
        TRUSTED_GATEWAY_HEADER: env.TRUSTED_GATEWAY_HEADER,
        TRUSTED_GATEWAY_SECRET: env.TRUSTED_GATEWAY_SECRET,
        TRUSTED_PROXY_CIDRS: "127.0.0.1/32",
      },
    });
    try {
      for (const consumer of exampleConsumers(rendered)) {
        const declared = consumer.jwt_secrets?.[0];
        expect(declared?.secret?.length).toBeGreaterThanOrEqual(32);
        const seeded = stack.emulator.addConsumer({
          username: consumer.username,
          custom_id: consumer.custom_id ?? null,
        });
        stack.emulator.addCredential(seeded.id, {
          key: declared?.key as string,
          secret: declared?.secret as string,
          algorithm: declared?.algorithm ?? "HS256",
        });

        const response = await stack.tokens(seeded, { [headerName]: valueParts.join(":") });
        expect(response.status).toBe(200);
        const body = (await response.json()) as { access_token: string; expires_in: number };
        expect(body.expires_in).toBeLessThanOrEqual(jwtConfig(rendered).maximum_expiration as number);

        const verdict = await verifyKongJwt(
          { headers: { authorization: `Bearer ${body.access_token}` } },
          jwtConfig(rendered),
          (key) => stack.emulator.credentialByKey(key),
        );
        expect(verdict.ok ? verdict.consumer.username : verdict.message).toBe(consumer.username);
      }
    } finally {
      await stack.stop();
    }
  });

  test("an OAuth 2.0 client library gets a token Kong accepts through the basic-auth route (compose values, rendered file)", async () => {
    const rendered = renderedDeck();
    const env = authServiceEnv();
    const stack = await startStack({
      env: {
        KONG_JWT_KEY_CLAIM_NAME: env.KONG_JWT_KEY_CLAIM_NAME,
        JWT_EXPIRATION_MINUTES: env.JWT_EXPIRATION_MINUTES,
        KONG_JWT_CLOCK_SKEW_SECONDS: env.KONG_JWT_CLOCK_SKEW_SECONDS,
        TRUSTED_GATEWAY_HEADER: env.TRUSTED_GATEWAY_HEADER,
        TRUSTED_GATEWAY_SECRET: env.TRUSTED_GATEWAY_SECRET,
        TRUSTED_PROXY_CIDRS: "127.0.0.1/32",
      },
    });
    const kong = startMiniKong(rendered, stack.emulator, { "auth-service": stack.url });
    try {
      const as: oauth.AuthorizationServer = {
        issuer: `http://127.0.0.1:${kong.port}`,
        token_endpoint: `http://127.0.0.1:${kong.port}/tokens`,
      };
      const options = { [oauth.allowInsecureRequests]: true };
      for (const consumer of exampleConsumers(rendered)) {
        const [credential] = basicAuthOf(consumer);
        const client: oauth.Client = { client_id: credential?.username as string };
        const grant = (secret: string) =>
          oauth.clientCredentialsGrantRequest(
            as,
            client,
            oauth.ClientSecretBasic(secret),
            new URLSearchParams(),
            options,
          );
        const token = await oauth.processClientCredentialsResponse(
          as,
          client,
          await grant(credential?.password as string),
        );
        const verdict = await verifyKongJwt(
          { headers: { authorization: `Bearer ${token.access_token}` } },
          jwtConfig(rendered),
          (key) => stack.emulator.credentialByKey(key),
        );
        expect(verdict.ok ? verdict.consumer.username : verdict.message).toBe(consumer.username);
        // A wrong secret is Kong's 401; the service never sees it.
        expect((await grant("wrong")).status).toBe(401);
      }
    } finally {
      kong.stop(true);
      await stack.stop();
    }
  });
});
