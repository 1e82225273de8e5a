import { z } from "zod";
import type { Rule, Setting } from "./setting.ts";
import { api, app, profiling } from "./settings/app.ts";
import { breaker, cache } from "./settings/cache.ts";
import { jwt, kong } from "./settings/kong.ts";
import { redis } from "./settings/redis.ts";
import { security } from "./settings/security.ts";
import { signing } from "./settings/signing.ts";
import { telemetry } from "./settings/telemetry.ts";

/**
 * The table of settings, section by section, in the order docs/configuration.md and .env.example
 * list them; the configuration's schema, its type and the rules' checks are derived from it.
 */
export const settings = {
  app,
  kong,
  jwt,
  signing,
  cache,
  breaker,
  redis,
  telemetry,
  security,
  profiling,
  api,
};

type Table = typeof settings;
export type Section = keyof Table;
type Shape<Rows> = {
  [Key in keyof Rows]: Rows[Key] extends { schema: infer S extends z.ZodType } ? S : never;
};

export interface SettingRow {
  readonly path: readonly [Section, string];
  readonly setting: Setting;
}

/** Every row, in table order. */
export const settingRows: readonly SettingRow[] = Object.entries(settings).flatMap(([section, rows]) =>
  Object.entries(rows).map(([key, setting]) => ({ path: [section as Section, key] as const, setting })),
);

const sectionsSchema = z.object(
  Object.fromEntries(
    Object.entries(settings).map(([section, rows]) => [
      section,
      z.object(Object.fromEntries(Object.entries(rows).map(([key, row]) => [key, row.schema]))),
    ]),
  ) as { [S in Section]: z.ZodObject<Shape<Table[S]>, z.core.$strip> },
);

/**
 * An interface rather than an alias: the rules in the table take a Config, and TypeScript resolves an
 * interface's members only when they are used, after the table's own type is known.
 */
export interface Config extends z.output<typeof sectionsSchema> {}

/**
 * Every row's rules, then in production its production rules, each problem at the row's own path so
 * it is named by the row's variable.
 */
function checkRules(config: Config, ctx: z.RefinementCtx<Config>): void {
  const production = config.app.environment === "production";
  for (const { path, setting } of settingRows) {
    const rules = [...(setting.rules ?? []), ...((production && setting.production) || [])];
    const value = (config[path[0]] as Record<string, unknown>)[path[1]];
    for (const rule of rules as readonly Rule<unknown>[]) {
      const message = rule(value, config);
      // Stryker disable next-line StringLiteral: the issue code is never shown; the operator reads the variable and message.
      if (message !== undefined) ctx.addIssue({ code: "custom", path: [...path], message });
    }
  }
}

// The rules run even when fields failed, so one start-up lists every problem (see Rule).
export const configSchema = sectionsSchema.superRefine(checkRules, { when: () => true });

/** The variable that sets the field at `path`; undefined for a path no variable sets. */
export function envNameFor(path: readonly PropertyKey[]): string | undefined {
  const [section, key] = path;
  return settingRows.find((row) => row.path[0] === section && row.path[1] === key)?.setting.env;
}
