import type { CredentialLookup } from "../../support/kong-emulator.ts";
import { type JwtPluginConfig, type VerifyResult, verifyKongJwt } from "../../support/kong-jwt-verifier.ts";
import { credentialsOf, type KongCredential } from "./kong-admin.ts";
import { kongAdmin } from "./target.ts";

/**
 * How Kong's jwt plugin is configured in front of the protected services: the key claim the
 * service writes (KONG_JWT_KEY_CLAIM_NAME, `key` by default) and both time claims checked.
 */
export const JWT_PLUGIN: JwtPluginConfig = {
  key_claim_name: process.env.KONG_JWT_KEY_CLAIM_NAME || "key",
  claims_to_verify: ["exp", "nbf"],
};

/**
 * Kong's jwt plugin as the oracle (test/support/kong-jwt-verifier.ts), with the credentials read
 * from the Admin API of the Kong the service talks to: "would Kong accept this token?".
 */
export async function verifyAsKong(token: string, consumerId: string): Promise<VerifyResult> {
  const credentials: KongCredential[] = await credentialsOf(kongAdmin(), consumerId);
  const lookup: CredentialLookup = (key) => {
    const credential = credentials.find((candidate) => candidate.key === key);
    if (!credential) return undefined;
    return {
      credential,
      consumer: { id: consumerId, username: null, custom_id: null, created_at: 0, tags: null },
    };
  };
  return verifyKongJwt({ headers: { authorization: `Bearer ${token}` } }, JWT_PLUGIN, lookup);
}

export function claimsOf(token: string): Record<string, unknown> {
  const payload = token.split(".")[1] ?? "";
  return JSON.parse(Buffer.from(payload, "base64url").toString("utf8")) as Record<string, unknown>;
}
