import type { z } from "zod";
import { type Config, configSchema, envNameFor, type Section, settingRows, settings } from "./schema.ts";

export type { Config } from "./schema.ts";

/** Raised when the environment does not describe a valid configuration; lists every problem. */
export class ConfigError extends Error {
  constructor(readonly problems: readonly string[]) {
    super(`Invalid configuration:\n${problems.map((problem) => `  - ${problem}`).join("\n")}`);
    this.name = "ConfigError";
  }
}

type Env = Record<string, string | undefined>;
/** Every section is there, so the rules can read any field, set or not. */
type RawConfig = Record<Section, Record<string, unknown>>;

/** The raw, unvalidated object: every non-empty variable at its row's place; the schema fills in defaults. */
function readEnvironment(env: Env): RawConfig {
  const raw = Object.fromEntries(Object.keys(settings).map((section) => [section, {}])) as RawConfig;
  for (const { path, setting } of settingRows) {
    const value = env[setting.env];
    if (value === undefined || value.trim() === "") continue;
    raw[path[0]][path[1]] = value;
  }
  return raw;
}

/** Load, validate, freeze. Throws ConfigError naming each variable at fault. */
export function loadConfig(env: Env = process.env): Readonly<Config> {
  const raw = readEnvironment(env);
  // Parsed once per process: zod's JIT would compile each object's fast path with `new Function`
  // first, which costs more than the one interpreted parse (11 ms against 5.5, docs/testing.md).
  // Stryker disable next-line ObjectLiteral,BooleanLiteral: the same checks run interpreted or compiled; only the time to the first parse differs.
  const result = configSchema.safeParse(raw, { jitless: true });
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
