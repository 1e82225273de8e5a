import { type Config, type Section, settingRows } from "./schema.ts";
import { percentDecoded } from "./values.ts";

/**
 * Every secret value the configuration holds, for the log redactor to scrub wherever it appears:
 * the value of each row of the table marked secret (a header list gives each value, whole, and the
 * credentials after an auth scheme such as `Bearer`; a key gives its base64 text as it was set), and
 * the password of any URL setting. Usernames and query strings are left to the redactor's URL rule,
 * which drops them from every URL it sees; as bare words they are too common to scrub everywhere
 * ("default", "gzip").
 */
export function secretValues(config: Readonly<Config>): string[] {
  return valuesOf(config, () => true);
}

/** The OTLP part alone: what the exporters' error messages could carry. */
export function telemetrySecretValues(telemetry: Config["telemetry"]): string[] {
  return valuesOf({ telemetry } as Config, (section) => section === "telemetry");
}

function valuesOf(config: Readonly<Config>, inSection: (section: Section) => boolean): string[] {
  const values: string[] = [];
  for (const { path, setting } of settingRows) {
    if (!inSection(path[0])) continue;
    const value = (config[path[0]] as Record<string, unknown>)[path[1]];
    if (setting.secret) values.push(...secretForms(value));
    else if (typeof value === "string") values.push(...urlPassword(value));
  }
  return values.filter((value) => value.length > 0);
}

/** What a secret setting's value can show up as in a log line. */
function secretForms(value: unknown): string[] {
  if (typeof value === "string") return [value];
  if (value instanceof Uint8Array) return [Buffer.from(value).toString("base64")];
  if (value === null || typeof value !== "object") return [];
  return Object.values(value as Record<string, string>).flatMap((header) => {
    const credentials = /^[A-Za-z][\w.-]*\s+(\S+)$/.exec(header)?.[1];
    return credentials ? [header, credentials] : [header];
  });
}

/**
 * The password of a URL setting as it is sent (percent-decoded, or as written when that fails); none
 * for a value that is no URL or has no password.
 */
function urlPassword(value: string): string[] {
  if (!/^[a-z][a-z0-9+.-]*:\/\//i.test(value)) return [];
  const password = URL.parse(value)?.password;
  return password ? [percentDecoded(password)] : [];
}
