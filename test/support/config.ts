import { type Config, ConfigError, loadConfig } from "../../src/config/index.ts";

/** The smallest environment that validates; tests override what they are about. */
export const baseEnv = {
  NODE_ENV: "test",
  LOG_LEVEL: "error",
  KONG_MODE: "API_GATEWAY",
  KONG_ADMIN_URL: "http://127.0.0.1:8001",
  KONG_JWT_AUTHORITY: "https://sts.example.com/",
  KONG_JWT_AUDIENCE: "http://api.example.com/",
} as const;

export function testConfig(env: Record<string, string | undefined> = {}): Readonly<Config> {
  return loadConfig({ ...baseEnv, ...env });
}

/** What loading `env` reports, one line per problem (as start-up prints them); none when it loads. */
export function problemsOf(env: Record<string, string | undefined>): string[] {
  try {
    loadConfig(env);
  } catch (error) {
    if (error instanceof ConfigError) return [...error.problems];
    throw error;
  }
  return [];
}
