import { generateKeyPairSync } from "node:crypto";

export type KeyKind = "EdDSA" | "ES256" | "RS256";

/** A fresh private JWK of the kind, with its kid, as an operator would put it in the set. */
export function privateJwk(kind: KeyKind, kid: string): Record<string, unknown> {
  const { privateKey } =
    kind === "EdDSA"
      ? generateKeyPairSync("ed25519")
      : kind === "ES256"
        ? generateKeyPairSync("ec", { namedCurve: "P-256" })
        : generateKeyPairSync("rsa", { modulusLength: 2048 });
  return { ...privateKey.export({ format: "jwk" }), kid };
}

export function jwkSet(...keys: Record<string, unknown>[]): string {
  return JSON.stringify({ keys });
}
