import { z } from "zod";
import { type Problem, setting } from "../setting.ts";
import { bool, httpsOnly, httpUrl, int, list, parseUrl, text } from "../values.ts";
import { reachesThisHost } from "../weak-values.ts";

/** Which Kong the service asks for credentials, and the tokens it signs with them. */

const KONNECT_CONTROL_PLANE = /\/v2\/control-planes\/[^/]+\/?$/;

export const kong = {
  mode: setting({
    env: "KONG_MODE",
    schema: z.enum(["API_GATEWAY", "KONNECT"]).prefault("API_GATEWAY"),
    description: "API_GATEWAY (self-hosted Admin API) or KONNECT (Konnect control plane API)",
  }),
  adminUrl: setting({
    env: "KONG_ADMIN_URL",
    // No default: a missing URL is named at start-up instead of the service asking the wrong Kong.
    schema: httpUrl.transform((url) => url.replace(/\/+$/, "")),
    description: "Admin API base URL, or https://<region>.api.konghq.com/v2/control-planes/<id> for Konnect",
    example: "http://localhost:8001",
    rules: [
      (url, config): Problem => {
        const path = config.kong.mode === "KONNECT" ? parseUrl(url)?.pathname : undefined;
        return path !== undefined && !KONNECT_CONTROL_PLANE.test(path)
          ? "must be https://<region>.api.konghq.com/v2/control-planes/<id> in KONNECT mode"
          : undefined;
      },
    ],
    production: [
      httpsOnly,
      (url): Problem => {
        const host = parseUrl(url)?.hostname;
        return host !== undefined && reachesThisHost(host)
          ? "must not point at localhost in production"
          : undefined;
      },
      (url): Problem => {
        const parsed = parseUrl(url);
        return parsed && (parsed.username || parsed.password)
          ? "must not carry credentials; use KONG_ADMIN_TOKEN"
          : undefined;
      },
    ],
  }),
  adminToken: setting({
    env: "KONG_ADMIN_TOKEN",
    schema: z
      .string()
      .trim()
      .transform((token) => token.replace(/^Bearer\s+/i, ""))
      // fetch refuses any other header byte on every call, which would look like a Kong outage.
      .refine(
        (token) => /^[\x20-\x7e]*$/.test(token),
        "must be printable ASCII (it is sent in an HTTP header)",
      )
      .optional(),
    secret: true,
    description:
      "Kong-Admin-Token (Enterprise RBAC) or Konnect kpat_/spat_ token; optional for open-source Kong",
    rules: [
      (token, config): Problem =>
        config.kong.mode === "KONNECT" && !token
          ? "is required in KONNECT mode (a kpat_ or spat_ token)"
          : undefined,
    ],
    production: [
      (token): Problem =>
        typeof token !== "string" || token.length < 32
          ? "must be at least 32 characters in production"
          : undefined,
    ],
  }),
  connectionTimeoutMs: setting({
    env: "KONG_CONNECTION_TIMEOUT",
    schema: int(100, 60_000).prefault(5_000),
    description: "Timeout of one Kong Admin API call in milliseconds",
  }),
  connectionPoolSize: setting({
    env: "KONG_CONNECTION_POOL_SIZE",
    schema: int(1, 500).prefault(10),
    description: "Most concurrent Kong Admin API calls; more wait in a bounded queue, then get 503",
  }),
  anonymousConsumers: setting({
    env: "KONG_ANONYMOUS_CONSUMERS",
    schema: list(text(256), "must name at least one consumer id or username").prefault("anonymous"),
    description:
      "Comma-separated ids or usernames of Kong's anonymous consumer(s), as in the auth plugins' anonymous setting; never given a token",
  }),
};

/**
 * Claims the signer always writes; the credential key may share only `iss` with them
 * (docs/kong-facts.md#choice-claims).
 */
const RESERVED_CLAIMS = ["sub", "aud", "jti", "iat", "nbf", "exp", "name", "unique_name"];

const keyClaimName = z
  .string()
  .regex(/^[A-Za-z_][A-Za-z0-9_.-]{0,63}$/, "must be a plain claim name such as key, iss or kid")
  .refine((name) => !RESERVED_CLAIMS.includes(name), {
    message: `must not be one of the claims the token already carries (${RESERVED_CLAIMS.join(", ")})`,
  });

export const jwt = {
  authority: setting({
    env: "KONG_JWT_AUTHORITY",
    schema: httpUrl,
    description: "Token issuer written to the iss claim",
    example: "https://sts-api.example.com/",
    production: [httpsOnly],
  }),
  audience: setting({
    env: "KONG_JWT_AUDIENCE",
    schema: text(2048),
    description: "Token audience written to the aud claim",
    example: "http://api.example.com/",
  }),
  issuers: setting({
    env: "KONG_JWT_ISSUER",
    schema: list(text(2048), "must name at least one issuer").optional(),
    description: "Comma-separated issuers; the first replaces the authority in iss",
    rules: [
      (issuers, config): Problem =>
        config.jwt.keyClaimName === "iss" && issuers
          ? "cannot be set when KONG_JWT_KEY_CLAIM_NAME is iss: iss carries the credential key"
          : undefined,
    ],
  }),
  keyClaimName: setting({
    env: "KONG_JWT_KEY_CLAIM_NAME",
    schema: keyClaimName.prefault("key"),
    description: "Claim carrying the credential key; must equal the jwt plugin's key_claim_name",
  }),
  expirationMinutes: setting({
    env: "JWT_EXPIRATION_MINUTES",
    schema: int(1, 60).prefault(15),
    description: "Token lifetime in minutes (1-60)",
  }),
  clockSkewSeconds: setting({
    env: "KONG_JWT_CLOCK_SKEW_SECONDS",
    schema: int(0, 300).prefault(30),
    description:
      "How far a Kong node's clock may be behind or ahead of this service's; nbf is backdated by it, and the " +
      "jwt plugin's maximum_expiration must be at least JWT_EXPIRATION_MINUTES × 60 plus it",
    rules: [
      // A Kong node ahead by the tolerance must still see the token unexpired
      // (docs/kong-facts.md#choice-clock-skew).
      (skew, config): Problem =>
        skew >= config.jwt.expirationMinutes * 60
          ? "must be less than the token lifetime (JWT_EXPIRATION_MINUTES × 60): a Kong node that far ahead " +
            "sees every token expired"
          : undefined,
    ],
  }),
  secretIsBase64: setting({
    env: "KONG_JWT_SECRET_IS_BASE64",
    schema: bool.prefault(false),
    description: "Mirror of the jwt plugin's secret_is_base64: sign with the base64url-decoded secret",
  }),
  uniqueNameDomain: setting({
    env: "JWT_UNIQUE_NAME_DOMAIN",
    schema: text(253).prefault("example.com"),
    description: "Prefix of the unique_name claim (<domain>#<username>)",
  }),
};
