import { z } from "zod";
import { type Problem, setting } from "../setting.ts";
import { bool, int, isCidr, list } from "../values.ts";
import {
  COMPOSE_DEMO_GATEWAY_SECRET,
  isLowVariety,
  tooWideCidrs,
  WIDEST_IPV4_PREFIX,
  WIDEST_IPV6_PREFIX,
} from "../weak-values.ts";

/** Who may ask for tokens, how often, and who may reach the admin and debug endpoints. */

const cidr = z
  .string()
  .refine(isCidr, { message: "must be comma-separated CIDRs such as 10.0.0.0/8 or fd00::/8" });

export const security = {
  gatewaySecret: setting({
    env: "TRUSTED_GATEWAY_SECRET",
    schema: z.string().min(32, "must be at least 32 characters").optional(),
    secret: true,
    description: "Shared secret Kong adds to /tokens requests (request-transformer); at least 32 characters",
    rules: [
      // Staging faces traffic as production does; only a developer's machine and tests may go without.
      (secret, config): Problem =>
        (config.app.environment === "production" || config.app.environment === "staging") &&
        !secret &&
        !config.security.trustedProxyCidrs &&
        config.security.allowUnverifiedGateway !== true
          ? `${config.app.environment} needs a trust boundary with Kong: set TRUSTED_GATEWAY_SECRET (and Kong's ` +
            "request-transformer to send it) or TRUSTED_PROXY_CIDRS (Kong's addresses), or " +
            "ALLOW_UNVERIFIED_GATEWAY=true if the network already lets only Kong reach this service"
          : undefined,
    ],
    production: [
      (secret): Problem => {
        if (secret === COMPOSE_DEMO_GATEWAY_SECRET) {
          return "is the docker-compose demo value, public with the repository; generate one: openssl rand -base64 32";
        }
        return typeof secret === "string" && isLowVariety(secret)
          ? "is easy to guess (few distinct characters or a repeated pattern); generate one: openssl rand -base64 32"
          : undefined;
      },
    ],
  }),
  gatewayHeader: setting({
    env: "TRUSTED_GATEWAY_HEADER",
    schema: z
      .string()
      .regex(/^[A-Za-z0-9-]{1,64}$/, "must be an HTTP header name")
      .prefault("X-Gateway-Secret"),
    description: "Header carrying TRUSTED_GATEWAY_SECRET",
  }),
  trustedProxyCidrs: setting({
    env: "TRUSTED_PROXY_CIDRS",
    schema: list(cidr, "must name at least one CIDR").optional(),
    description: "Comma-separated CIDRs; /tokens answers only peers inside them (Kong's addresses)",
    production: [
      (cidrs): Problem => {
        // Only well-formed entries are measured: a malformed one is reported already, and would throw here.
        const wide = Array.isArray(cidrs) ? tooWideCidrs(cidrs.filter(isCidr)) : [];
        return wide.length > 0
          ? `${wide.join(", ")} ${wide.length > 1 ? "admit" : "admits"} far more than Kong; list Kong's ` +
              `addresses, no range wider than /${WIDEST_IPV4_PREFIX} (IPv4) or /${WIDEST_IPV6_PREFIX} (IPv6)`
          : undefined;
      },
    ],
  }),
  allowUnverifiedGateway: setting({
    env: "ALLOW_UNVERIFIED_GATEWAY",
    schema: bool.prefault(false),
    description: "In production, accept neither check because the network already isolates the service",
  }),
  rateLimitWindowMs: setting({
    env: "RATE_LIMIT_WINDOW_MS",
    schema: int(1_000, 3_600_000).prefault(60_000),
    description: "Length of the per-consumer rate-limit window on /tokens",
  }),
  rateLimitMaxRequests: setting({
    env: "RATE_LIMIT_MAX_REQUESTS",
    schema: int(1, 1_000_000).prefault(1000),
    description: "Token requests one consumer may make per window",
  }),
  rateLimitSyncMs: setting({
    env: "RATE_LIMIT_SYNC_MS",
    schema: int(10, 10_000).prefault(100),
    description: "How often instances share their counts through Redis (like Kong's sync_rate)",
  }),
  rateLimitMaxConsumers: setting({
    env: "RATE_LIMIT_MAX_CONSUMERS",
    schema: int(1_000, 10_000_000).prefault(100_000),
    description: "Most consumers the rate limiter counts at once; beyond it the oldest windows are forgotten",
  }),
  adminToken: setting({
    env: "ADMIN_TOKEN",
    schema: z.string().min(32, "must be at least 32 characters").optional(),
    secret: true,
    description:
      "Bearer token of the /admin routes (invalidate, rotate); without it they do not exist. Never route /admin through Kong's public route",
    production: [
      (token): Problem =>
        typeof token === "string" && isLowVariety(token)
          ? "is easy to guess (few distinct characters or a repeated pattern); generate one: openssl rand -base64 32"
          : undefined,
    ],
  }),
  debugToken: setting({
    env: "DEBUG_TOKEN",
    schema: z.string().min(16, "must be at least 16 characters").optional(),
    secret: true,
    description:
      "Debug and profiling endpoints require it in X-Debug-Token; in staging they exist only when it is set, never in production",
    rules: [
      (token, config): Problem =>
        config.app.environment === "staging" && config.profiling.enabled === true && !token
          ? "is required with PROFILING_ENABLED=true outside development and test: a heap snapshot holds every " +
            "secret the service has in memory"
          : undefined,
    ],
  }),
};
