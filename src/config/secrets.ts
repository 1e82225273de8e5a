import type { Config } from "./schema.ts";
import { percentDecoded } from "./values.ts";

/**
 * Every secret value the configuration holds, for the log redactor to scrub wherever it appears.
 * Besides the secret variables themselves: each OTLP header value (whole, and the credentials after
 * an auth scheme such as `Bearer`), and the password of any URL. Usernames and query strings are
 * left to the redactor's URL rule, which drops them from every URL it sees; as bare words they are
 * too common to scrub everywhere ("default", "gzip").
 */
export function secretValues(config: Readonly<Config>): string[] {
  return [
    config.kong.adminToken,
    config.redis.password,
    urlPassword(config.redis.url),
    config.security.gatewaySecret,
    config.security.debugToken,
    ...telemetrySecretValues(config.telemetry),
  ].filter((value): value is string => typeof value === "string" && value.length > 0);
}

/** The OTLP part alone: what the exporters' error messages could carry. */
export function telemetrySecretValues(telemetry: Config["telemetry"]): string[] {
  const headerValues = [
    telemetry.headers,
    telemetry.tracesHeaders,
    telemetry.metricsHeaders,
    telemetry.logsHeaders,
  ]
    .flatMap((headers) => Object.values(headers ?? {}))
    .flatMap((value) => {
      const credentials = /^[A-Za-z][\w.-]*\s+(\S+)$/.exec(value)?.[1];
      return credentials ? [value, credentials] : [value];
    });
  const passwords = [
    telemetry.endpoint,
    telemetry.tracesEndpoint,
    telemetry.metricsEndpoint,
    telemetry.logsEndpoint,
  ]
    .map(urlPassword)
    .filter((password): password is string => password !== undefined);
  return [...headerValues, ...passwords];
}

/**
 * The password of a URL as it is sent (percent-decoded, or as written when that fails); undefined when
 * it has none. The URLs here passed validation, so they parse.
 */
function urlPassword(url: string | undefined): string | undefined {
  if (!url) return undefined;
  const { password } = new URL(url);
  return password ? percentDecoded(password) : undefined;
}
