import { defineConfig } from "@playwright/test";

/**
 * API end-to-end suites (no browser): `bun run test:e2e`. Without API_BASE_URL the global setup
 * starts the service in front of the Kong emulator; with it, the suites run against that service
 * and the Kong Admin API in KONG_ADMIN_URL, minus the `emulated/` suites, which need to make the
 * emulator fail and count its calls.
 */
const remote = Boolean(process.env.API_BASE_URL);

export default defineConfig({
  testDir: "test/e2e",
  // `bun test` runs every *.test.ts and *.spec.ts; Playwright's files are *.e2e.ts so it never does.
  testMatch: "**/*.e2e.ts",
  testIgnore: remote ? ["**/emulated/**"] : [],
  globalSetup: "./test/e2e/global-setup.ts",
  outputDir: "test/results/playwright",
  reporter: [["list"]],
  // One service and one emulator are shared: suites that take Kong down must not overlap others.
  workers: 1,
  fullyParallel: false,
  forbidOnly: Boolean(process.env.CI),
  retries: 0,
  timeout: 20_000,
  use: { extraHTTPHeaders: { accept: "application/json" } },
});
