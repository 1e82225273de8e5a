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
type Section = keyof typeof defaults;
/** Every section is there: the defaults have them all, and every variable's path starts with one. */
type RawConfig = Record<Section, Record<string, unknown>>;

/** Step 3: the raw, unvalidated object: defaults overlaid with every non-empty mapped variable. */
function readEnvironment(env: Env): RawConfig {
  const raw = structuredClone(defaults) as RawConfig;
  for (const { name, path } of envBindings) {
    const value = env[name];
    if (value === undefined || value.trim() === "") continue;
    const [section, key] = path as [Section, string];
    raw[section][key] = value;
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

/** Every issue is about one field, and every field is set by one variable (test/unit/config). */
function describeIssues(issues: readonly z.core.$ZodIssue[], raw: RawConfig): string[] {
  return issues.map((issue) => {
    const [section, key] = issue.path as [Section, string];
    const missing = issue.code === "invalid_type" && raw[section][key] === undefined;
    const message = missing ? "is required" : issue.message;
    return `${envNameFor(issue.path)}: ${message}`;
  });
}

function deepFreeze<T>(value: T): Readonly<T> {
  // Primitives count as frozen. Typed arrays cannot be frozen; the only one here (the encryption key)
  // is never handed out for writing.
  if (!ArrayBuffer.isView(value) && !Object.isFrozen(value)) {
    for (const child of Object.values(value as object)) deepFreeze(child);
    Object.freeze(value);
  }
  return value;
}
