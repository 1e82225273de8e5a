import type { z } from "zod";
import { defaults } from "./defaults.ts";
import { envBindings, envNameFor } from "./env.ts";
import { type Config, configSchema } from "./schema.ts";

export type { Config } from "./schema.ts";

/** Raised when the environment does not describe a valid configuration; lists every problem. */
export class ConfigError extends Error {
  constructor(readonly problems: readonly string[]) {
    super(`Invalid configuration:\n${problems.map((problem) => `  - ${problem}`).join("\n")}`);
    this.name = "ConfigError";
  }
}

type Env = Record<string, string | undefined>;

/** Step 3: the raw, unvalidated object: defaults overlaid with every non-empty mapped variable. */
export function readEnvironment(env: Env): Record<string, Record<string, unknown>> {
  const raw: Record<string, Record<string, unknown>> = structuredClone(defaults) as never;
  for (const { name, path } of envBindings) {
    const value = env[name];
    if (value === undefined || value.trim() === "") continue;
    const [section, key] = path;
    raw[section] ??= {};
    (raw[section] as Record<string, unknown>)[key] = value;
  }
  return raw;
}

/** Steps 3 and 4: load, validate, freeze. Throws ConfigError naming each variable at fault. */
export function loadConfig(env: Env = process.env): Readonly<Config> {
  const raw = readEnvironment(env);
  const result = configSchema.safeParse(raw);
  if (!result.success) throw new ConfigError(describeIssues(result.error.issues, raw));
  return deepFreeze(result.data);
}

function describeIssues(
  issues: readonly z.core.$ZodIssue[],
  raw: Record<string, Record<string, unknown>>,
): string[] {
  return issues.map((issue) => {
    const [section, key] = issue.path as [string, string];
    const name = envNameFor(issue.path) ?? issue.path.join(".");
    const missing = issue.code === "invalid_type" && raw[section]?.[key] === undefined;
    const message = missing ? "is required" : issue.message;
    return `${name}: ${message}`;
  });
}

function deepFreeze<T>(value: T): Readonly<T> {
  // Typed arrays cannot be frozen; the only one here (the encryption key) is never handed out for writing.
  if (value && typeof value === "object" && !ArrayBuffer.isView(value) && !Object.isFrozen(value)) {
    for (const child of Object.values(value)) deepFreeze(child);
    Object.freeze(value);
  }
  return value;
}
