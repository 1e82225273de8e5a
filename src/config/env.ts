/**
 * Step 2 of configuration: the explicit map from environment variable to configuration path.
 * One row per variable; nothing else in the code reads `process.env`.
 */
export interface EnvBinding {
  readonly name: string;
  readonly path: readonly [string, string];
  /** Secrets are never echoed, not even in validation messages or the start-up summary. */
  readonly secret?: boolean;
}

export const envBindings: readonly EnvBinding[] = [
  { name: "PORT", path: ["app", "port"] },
  { name: "HOST", path: ["app", "host"] },
  { name: "NODE_ENV", path: ["app", "environment"] },
  { name: "LOG_LEVEL", path: ["app", "logLevel"] },
  { name: "SHUTDOWN_TIMEOUT_MS", path: ["app", "shutdownTimeoutMs"] },

  { name: "KONG_MODE", path: ["kong", "mode"] },
  { name: "KONG_ADMIN_URL", path: ["kong", "adminUrl"] },
  { name: "KONG_ADMIN_TOKEN", path: ["kong", "adminToken"], secret: true },
  { name: "KONG_CONNECTION_TIMEOUT", path: ["kong", "connectionTimeoutMs"] },

  { name: "KONG_JWT_AUTHORITY", path: ["jwt", "authority"] },
  { name: "KONG_JWT_AUDIENCE", path: ["jwt", "audience"] },
  { name: "KONG_JWT_ISSUER", path: ["jwt", "issuers"] },
  { name: "KONG_JWT_KEY_CLAIM_NAME", path: ["jwt", "keyClaimName"] },
  { name: "JWT_EXPIRATION_MINUTES", path: ["jwt", "expirationMinutes"] },
  { name: "KONG_JWT_SECRET_IS_BASE64", path: ["jwt", "secretIsBase64"] },
  { name: "JWT_UNIQUE_NAME_DOMAIN", path: ["jwt", "uniqueNameDomain"] },

  { name: "CACHE_TTL_SECONDS", path: ["cache", "ttlSeconds"] },
  { name: "CACHE_MAX_SIZE", path: ["cache", "maxSize"] },

  { name: "API_CORS", path: ["api", "cors"] },
  { name: "API_TITLE", path: ["api", "title"] },
  { name: "API_DESCRIPTION", path: ["api", "description"] },
  { name: "API_VERSION", path: ["api", "version"] },
  { name: "API_CONTACT_NAME", path: ["api", "contactName"] },
  { name: "API_CONTACT_EMAIL", path: ["api", "contactEmail"] },
  { name: "API_LICENSE_NAME", path: ["api", "licenseName"] },
  { name: "API_LICENSE_IDENTIFIER", path: ["api", "licenseIdentifier"] },
];

export function envNameFor(path: readonly PropertyKey[]): string | undefined {
  const [section, key] = path;
  return envBindings.find((binding) => binding.path[0] === section && binding.path[1] === key)?.name;
}
