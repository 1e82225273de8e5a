import { z } from "zod";
import { activeKey, readServiceKeys } from "../../jwt/service-keys.ts";
import type { Config } from "../schema.ts";
import { type Problem, setting } from "../setting.ts";
import { int } from "../values.ts";

/** What tokens are signed with: each consumer's HMAC secret in Kong, or the service's own key pair. */

const serviceKeys = (config: Config) => config.signing.mode === "service-keys";

/**
 * The set's problem, reported at the row it came from. Only checked in service-key mode, so a set can
 * be mounted ahead of switching the mode.
 */
function keySetProblem(config: Config): Problem {
  const parsed = readServiceKeys(config.signing.jwks, config.signing.jwksFile);
  return parsed && "problem" in parsed ? parsed.problem : undefined;
}

export const signing = {
  mode: setting({
    env: "SIGNING_MODE",
    schema: z.enum(["consumer-secrets", "service-keys"]).prefault("consumer-secrets"),
    description:
      "consumer-secrets (an HMAC secret per consumer, held by Kong) or service-keys (the service's private keys; Kong holds public keys only)",
  }),
  jwks: setting({
    env: "SERVICE_KEYS_JWKS",
    schema: z.string().optional(),
    secret: true,
    description:
      "The private JWK set for SIGNING_MODE=service-keys, inline: Ed25519 (OKP, EdDSA) recommended, EC P-256 (ES256) or RSA ≥ 2048 bits (RS256), each key with a kid",
    rules: [
      (jwks, config): Problem => {
        if (jwks !== undefined && config.signing.jwksFile !== undefined) {
          return "and SERVICE_KEYS_JWKS_FILE are both set; set one";
        }
        if (jwks === undefined) {
          return serviceKeys(config) && config.signing.jwksFile === undefined
            ? "or SERVICE_KEYS_JWKS_FILE is required with SIGNING_MODE=service-keys"
            : undefined;
        }
        return serviceKeys(config) ? keySetProblem(config) : undefined;
      },
    ],
  }),
  jwksFile: setting({
    env: "SERVICE_KEYS_JWKS_FILE",
    schema: z.string().optional(),
    description: "Path of a file holding the private JWK set instead of SERVICE_KEYS_JWKS (a mounted secret)",
    example: "/var/run/secrets/auth-service/jwks.json",
    rules: [
      // Without a file either, the set's problem is the one SERVICE_KEYS_JWKS reports: none here.
      (_file, config): Problem =>
        config.signing.jwks === undefined && serviceKeys(config) ? keySetProblem(config) : undefined,
    ],
  }),
  activeKid: setting({
    env: "SERVICE_KEYS_ACTIVE_KID",
    schema: z.string().optional(),
    description: "kid of the key new tokens are signed with; may be left out when the set holds one key",
    rules: [
      (kid, config): Problem => {
        if (!serviceKeys(config)) return undefined;
        const parsed = readServiceKeys(config.signing.jwks, config.signing.jwksFile);
        if (!parsed || "problem" in parsed) return undefined;
        const active = activeKey(parsed.keys, kid);
        return typeof active === "string" ? active : undefined;
      },
    ],
  }),
  workers: setting({
    env: "SIGNING_WORKERS",
    schema: int(0, 64).optional(),
    description:
      "Threads that make service-key signatures off the request thread (an RS256 one costs about 450 µs); 0 signs on it. Default: the cores the container may use (its CPU quota counted), at most 4. Unused with consumer-secrets: an HMAC costs less than handing it over",
  }),
};
