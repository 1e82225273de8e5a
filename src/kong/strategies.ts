import type { KongMode } from "./types.ts";

/**
 * What differs between self-hosted Kong and Konnect: where the consumer endpoints live and how the
 * admin token is presented (docs/kong-facts.md#admin-api, docs/kong-facts.md#konnect). Everything else
 * is shared by the adapter.
 */
export interface KongModeStrategy {
  readonly mode: KongMode;
  /** `{id_or_username}` is a single, already-validated path segment. */
  consumerUrl(idOrUsername: string): string;
  credentialsUrl(consumerId: string): string;
  probeUrl(): string;
  readonly headers: Readonly<Record<string, string>>;
  /** Konnect realm consumers have no record under their own id; the control-plane one is found by name. */
  readonly resolvesByUsername: boolean;
}

/**
 * Percent-encodes one path segment. A segment that decodes to "." or ".." would be treated as a dot
 * segment by URL parsers (even when written %2E%2E), so such values are refused outright.
 */
export function pathSegment(value: string): string {
  if (value === "" || value === "." || value === "..") throw new RangeError("not usable as a path segment");
  return encodeURIComponent(value);
}

export function createStrategy(
  mode: KongMode,
  adminUrl: string,
  adminToken: string | undefined,
): KongModeStrategy {
  const base = adminUrl.replace(/\/+$/, "");
  const json = { accept: "application/json" };
  if (mode === "KONNECT") {
    const consumers = `${base}/core-entities/consumers`;
    return {
      mode,
      consumerUrl: (idOrUsername) => `${consumers}/${pathSegment(idOrUsername)}`,
      credentialsUrl: (consumerId) => `${consumers}/${pathSegment(consumerId)}/jwt`,
      probeUrl: () => base,
      // Configuration refuses KONNECT without a token; none is better than a half-formed header.
      headers: adminToken ? { ...json, authorization: `Bearer ${adminToken}` } : json,
      resolvesByUsername: true,
    };
  }
  return {
    mode,
    consumerUrl: (idOrUsername) => `${base}/consumers/${pathSegment(idOrUsername)}`,
    credentialsUrl: (consumerId) => `${base}/consumers/${pathSegment(consumerId)}/jwt`,
    probeUrl: () => `${base}/status`,
    // Open-source Kong ignores the header; Kong Enterprise RBAC requires it.
    headers: adminToken ? { ...json, "kong-admin-token": adminToken } : json,
    resolvesByUsername: false,
  };
}
