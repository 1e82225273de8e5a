import { describe, expect, test } from "bun:test";
import { defaults } from "../../../src/config/defaults.ts";
import { envBindings, envNameFor } from "../../../src/config/env.ts";
import { configSchema } from "../../../src/config/schema.ts";

/**
 * Every setting comes from one environment variable (docs/configuration.md says so), so every
 * problem the start-up error lists can be led by the variable to change.
 */
describe("settings and their variables", () => {
  const fields = Object.entries(configSchema.shape).flatMap(([section, schema]) =>
    Object.keys((schema as { shape: object }).shape).map((key) => `${section}.${key}`),
  );

  test("every field of the configuration is set by exactly one variable, and every variable sets a field", () => {
    const bound = envBindings.map((binding) => binding.path.join("."));
    expect([...bound].sort()).toEqual([...fields].sort());
    expect(new Set(envBindings.map((binding) => binding.name)).size).toBe(envBindings.length);
  });

  test("the defaults have every section, and no field the schema does not know", () => {
    const defaulted = Object.entries(defaults).flatMap(([section, values]) =>
      Object.keys(values).map((key) => `${section}.${key}`),
    );
    expect(Object.keys(defaults).sort()).toEqual(Object.keys(configSchema.shape).sort());
    expect(defaulted.filter((field) => !fields.includes(field))).toEqual([]);
  });

  test("a field is named by its variable; a path no variable sets has no name", () => {
    expect(envNameFor(["redis", "url"])).toBe("REDIS_URL");
    expect(envNameFor(["api", "cors", 0])).toBe("API_CORS");
    expect(envNameFor(["redis", "hostname"])).toBeUndefined();
  });
});
