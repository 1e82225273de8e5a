/**
 * Kong's `jwt` plugin (access phase) as a pure function: the oracle for "Kong would accept this
 * token". It follows docs/kong-facts.md#jwt-plugin and Kong's handler.lua / jwt_parser.lua,
 * including their exact messages. Claim failures carry Kong's body (`{"exp":"token expired"}`);
 * `message` renders that body as `'<claim>' <reason>`. Like Kong, it has no clock leeway: the
 * service's clock-skew tolerance is in the tokens it issues; `nowSeconds` plays a Kong node whose
 * clock is off. Asymmetric credentials are verified as docs/kong-facts.md#jwt-asymmetric says,
 * including the 500 Kong answers when one of jwt_parser's asserts raises.
 */
import {
  type CredentialLookup,
  type EmulatedConsumer,
  type EmulatedCredential,
  JWT_ALGORITHMS,
} from "./kong-emulator.ts";
import { verifyAsymmetric } from "./kong-jwt/asymmetric.ts";
import { decodeBase64Url } from "./kong-jwt/base64url.ts";
import { retrieveToken } from "./kong-jwt/token-sources.ts";

export interface JwtPluginConfig {
  key_claim_name?: string;
  secret_is_base64?: boolean;
  claims_to_verify?: ("exp" | "nbf")[];
  maximum_expiration?: number;
  header_names?: string[];
  uri_param_names?: string[];
  cookie_names?: string[];
  realm?: string;
}

export type VerifyResult =
  | {
      ok: true;
      credential: EmulatedCredential;
      consumer: EmulatedConsumer;
      claims: Record<string, unknown>;
      header: Record<string, unknown>;
    }
  | { ok: false; status: 401; message: string; wwwAuthenticate: string; body: Record<string, unknown> }
  | {
      ok: false;
      status: 500;
      message: typeof UNEXPECTED_ERROR;
      body: { message: typeof UNEXPECTED_ERROR };
      /** The Lua error Kong logs; the client sees only `message`. */
      error: string;
    };

/** What Kong's runloop answers when a plugin's access handler raises an error. */
const UNEXPECTED_ERROR = "An unexpected error occurred";

const ALGORITHMS: ReadonlySet<string> = new Set(JWT_ALGORITHMS);
const HMAC_HASHES: Record<string, string> = { HS256: "SHA-256", HS384: "SHA-384", HS512: "SHA-512" };
const MAX_EXPIRATION_LIMIT = 31_536_000;

/** Applies Kong's defaults and refuses a configuration Kong's plugin schema would refuse. */
export function resolveJwtPluginConfig(
  config: JwtPluginConfig = {},
): Required<Omit<JwtPluginConfig, "realm">> & Pick<JwtPluginConfig, "realm"> {
  const resolved = {
    key_claim_name: config.key_claim_name ?? "iss",
    secret_is_base64: config.secret_is_base64 ?? false,
    claims_to_verify: config.claims_to_verify ?? [],
    maximum_expiration: config.maximum_expiration ?? 0,
    header_names: config.header_names ?? ["authorization"],
    uri_param_names: config.uri_param_names ?? ["jwt"],
    cookie_names: config.cookie_names ?? [],
    realm: config.realm,
  };
  const maxExp = resolved.maximum_expiration;
  if (!(maxExp >= 0 && maxExp <= MAX_EXPIRATION_LIMIT)) {
    throw new Error(`maximum_expiration must be between 0 and ${MAX_EXPIRATION_LIMIT}`);
  }
  if (maxExp > 0 && !resolved.claims_to_verify.includes("exp")) {
    throw new Error("maximum_expiration > 0 requires claims_to_verify to contain 'exp' (Kong's schema)");
  }
  for (const claim of resolved.claims_to_verify) {
    if (claim !== "exp" && claim !== "nbf") throw new Error(`claims_to_verify: '${claim}' is not exp or nbf`);
  }
  if (resolved.key_claim_name === "") throw new Error("key_claim_name must not be empty");
  return resolved;
}

function decodeJsonSegment(segment: string): Record<string, unknown> | undefined {
  const bytes = decodeBase64Url(segment);
  if (!bytes) return undefined;
  try {
    const parsed: unknown = JSON.parse(new TextDecoder().decode(bytes));
    const isObject = typeof parsed === "object" && parsed !== null && !Array.isArray(parsed);
    return isObject ? (parsed as Record<string, unknown>) : undefined;
  } catch {
    return undefined;
  }
}

type Decoded =
  | {
      ok: true;
      header: Record<string, unknown>;
      claims: Record<string, unknown>;
      signature: Uint8Array<ArrayBuffer>;
      signingInput: string;
    }
  | { ok: false; reason: string };

/** jwt_parser's decode_token: first two dots split, JSON failures first, then alg, then signature. */
function decodeToken(token: string): Decoded {
  const firstDot = token.indexOf(".");
  const secondDot = firstDot < 0 ? -1 : token.indexOf(".", firstDot + 1);
  if (secondDot < 0) return { ok: false, reason: "invalid JSON" };
  const header = decodeJsonSegment(token.slice(0, firstDot));
  const claims = decodeJsonSegment(token.slice(firstDot + 1, secondDot));
  if (!header || !claims) return { ok: false, reason: "invalid JSON" };
  if (typeof header.alg !== "string" || !ALGORITHMS.has(header.alg))
    return { ok: false, reason: "invalid alg" };
  const signature = decodeBase64Url(token.slice(secondDot + 1));
  if (!signature) return { ok: false, reason: "invalid signature" };
  return { ok: true, header, claims, signature, signingInput: token.slice(0, secondDot) };
}

async function hmacVerifies(
  alg: string,
  key: Uint8Array<ArrayBuffer>,
  signature: Uint8Array<ArrayBuffer>,
  data: string,
) {
  const hash = HMAC_HASHES[alg] as string;
  try {
    const cryptoKey = await crypto.subtle.importKey("raw", key, { name: "HMAC", hash }, false, ["verify"]);
    return await crypto.subtle.verify("HMAC", cryptoKey, signature, new TextEncoder().encode(data));
  } catch {
    // WebCrypto refuses a zero-length HMAC key; no such secret can verify anything Kong issued.
    return false;
  }
}

type SignatureCheck = "valid" | "invalid" | "no key" | { raised: string };

/**
 * The handler's key choice and `verify_signature`: the secret for HS*, `rsa_public_key` for the
 * others. Since 3.9 only the secret is base64-decoded under `secret_is_base64`.
 */
async function checkSignature(
  algorithm: string,
  credential: EmulatedCredential,
  secretIsBase64: boolean,
  jwt: { signature: Uint8Array<ArrayBuffer>; signingInput: string },
): Promise<SignatureCheck> {
  if (!HMAC_HASHES[algorithm]) {
    if (credential.rsa_public_key === null) return "no key";
    const outcome = verifyAsymmetric(algorithm, credential.rsa_public_key, jwt.signature, jwt.signingInput);
    return outcome.kind === "raised" ? { raised: outcome.error } : outcome.kind;
  }
  const secret = secretIsBase64
    ? decodeBase64Url(credential.secret)
    : new TextEncoder().encode(credential.secret);
  if (!secret) return "no key";
  return (await hmacVerifies(algorithm, secret, jwt.signature, jwt.signingInput)) ? "valid" : "invalid";
}

/** `verify_registered_claims`: every configured claim, errors collected per claim like Kong's add_error. */
function claimErrors(claims: Record<string, unknown>, toVerify: string[], now: number) {
  const errors: Record<string, string | string[]> = {};
  const add = (claim: string, reason: string) => {
    const existing = errors[claim];
    errors[claim] =
      existing === undefined ? reason : [...(Array.isArray(existing) ? existing : [existing]), reason];
  };
  for (const claim of toVerify) {
    const value = claims[claim];
    if (typeof value !== "number") add(claim, "must be a number");
    else if (claim === "exp" && value <= now) add(claim, "token expired");
    else if (claim === "nbf" && value > now) add(claim, "token not valid yet");
  }
  return Object.keys(errors).length > 0 ? errors : undefined;
}

export async function verifyKongJwt(
  request: { headers?: Record<string, string> | Headers; url?: string },
  config: JwtPluginConfig,
  lookupCredentialByKey: CredentialLookup,
  nowSeconds: number = Math.floor(Date.now() / 1000),
): Promise<VerifyResult> {
  const conf = resolveJwtPluginConfig(config);
  const base = conf.realm === undefined ? "Bearer" : `Bearer realm="${conf.realm}"`;
  const withError = `${base} error="invalid_token"`;
  const fail = (message: string, wwwAuthenticate = withError): VerifyResult => ({
    ok: false,
    status: 401,
    message,
    wwwAuthenticate,
    body: { message },
  });
  const failClaims = (errors: Record<string, string | string[]>): VerifyResult => ({
    ok: false,
    status: 401,
    message: Object.entries(errors)
      .map(([claim, reason]) => `'${claim}' ${[reason].flat().join(", ")}`)
      .join("; "),
    wwwAuthenticate: withError,
    body: errors,
  });

  const retrieved = retrieveToken(request, conf);
  if (retrieved.kind === "none") return fail("Unauthorized", base);
  if (retrieved.kind === "multiple") return fail("Multiple tokens provided");
  if (retrieved.kind === "unrecognizable") return fail("Unrecognizable token");

  const jwt = decodeToken(retrieved.token);
  if (!jwt.ok) return fail(`Bad token; ${jwt.reason}`);

  const name = conf.key_claim_name;
  // Lua's `claims[name] or header[name]`: only a missing (or false) claim falls back to the header.
  let key = jwt.claims[name];
  if (key === undefined || key === false) key = jwt.header[name];
  if (key === undefined || key === false) return fail(`No mandatory '${name}' in claims`);
  if (key === "") return fail(`Invalid '${name}' in claims`);
  // A non-string key makes Kong's DAO error out (HTTP 500); either way Kong refuses the token.
  const found = typeof key === "string" ? lookupCredentialByKey(key) : undefined;
  if (!found) return fail(`No credentials found for given '${name}'`);

  const algorithm = found.credential.algorithm || "HS256";
  if (jwt.header.alg !== algorithm) return fail("Invalid algorithm");

  const signed = await checkSignature(algorithm, found.credential, conf.secret_is_base64, jwt);
  if (signed === "no key") return fail("Invalid key/secret");
  if (signed === "invalid") return fail("Invalid signature");
  if (typeof signed === "object") {
    return {
      ok: false,
      status: 500,
      message: UNEXPECTED_ERROR,
      body: { message: UNEXPECTED_ERROR },
      error: signed.raised,
    };
  }

  const errors = claimErrors(jwt.claims, conf.claims_to_verify, nowSeconds);
  if (errors) return failClaims(errors);

  if (conf.maximum_expiration > 0) {
    const exp = jwt.claims.exp;
    if (typeof exp !== "number" || exp - nowSeconds > conf.maximum_expiration) {
      return failClaims({ exp: "exceeds maximum allowed expiration" });
    }
  }

  return {
    ok: true,
    credential: found.credential,
    consumer: found.consumer,
    claims: jwt.claims,
    header: jwt.header,
  };
}

/** Presents `token` the way clients do (`Authorization: Bearer`) and looks keys up in the emulator. */
export function verifyToken(
  token: string,
  config: JwtPluginConfig,
  emulator: { credentialByKey: CredentialLookup },
  nowSeconds?: number,
): Promise<VerifyResult> {
  return verifyKongJwt(
    { headers: { authorization: `Bearer ${token}` } },
    config,
    (key) => emulator.credentialByKey(key),
    nowSeconds,
  );
}
