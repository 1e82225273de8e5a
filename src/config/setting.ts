import type { z } from "zod";
import type { Config } from "./schema.ts";

/**
 * What is wrong with a setting's value given the whole configuration, said after the variable's
 * name ("must use https in production"), or nothing. A rule also runs when fields failed their own
 * checks, so one start-up lists every problem: such a field holds its value as read (a coerced
 * number may be NaN, which no comparison holds for), and a rule must not trip over it.
 *
 * A rule in the table declares this return type and takes `config` whole, not destructured: either
 * would make TypeScript need Config's members while it still works out the table's type, from which
 * Config is derived.
 */
export type Problem = string | undefined;
export type Rule<T> = (value: T, config: Config) => Problem;

/** One row of the table of settings: everything the service knows about one environment variable. */
export interface Setting<S extends z.ZodType = z.ZodType> {
  readonly env: string;
  /** Reads the variable's string (`undefined` when unset or blank); `.prefault` holds the default. */
  readonly schema: S;
  /** One line for .env.example and docs/configuration.md. */
  readonly description: string;
  /** Secrets are never echoed, not even in validation messages or the start-up summary. */
  readonly secret?: boolean;
  /** A value to show in .env.example where there is no default. */
  readonly example?: string;
  /** Rules across settings, in every environment. */
  readonly rules?: readonly Rule<z.output<S>>[];
  /** Rules that hold with NODE_ENV=production only. */
  readonly production?: readonly Rule<z.output<S>>[];
}

/** Types a row: the rules' values take the type the schema gives. */
export function setting<S extends z.ZodType>(row: Setting<S>): Setting<S> {
  return row;
}
