// @ts-check
/**
 * StrykerJS over src/. Run it through `bun run mutate [folder…]` (scripts/mutate.ts): the script picks,
 * per folder, the files to mutate and the test files that matter, and passes them here as
 * `--mutate` and `--commandRunner.command`. The defaults below (every folder, the whole `bun test`)
 * are what a bare `bun --bun node_modules/@stryker-mutator/core/bin/stryker.js run` would do: correct,
 * but slow, since the command runner runs the whole command for every mutant.
 *
 * Equivalent mutants are disabled where they are, with `// Stryker disable next-line <mutator>: why`,
 * and every such comment is listed in test/mutation/equivalent-mutants.md (test/unit/mutation.test.ts
 * keeps the two in step).
 *
 * @type {import("@stryker-mutator/api/core").PartialStrykerOptions}
 */
export default {
  testRunner: "command",
  commandRunner: { command: "bun test" },
  mutate: ["src/**/*.ts"],
  // Incremental: a rerun tests only mutants in code that changed (scripts/mutate.ts also retries the
  // survivors of the last run, since the command runner cannot tell Stryker which tests changed).
  incremental: true,
  incrementalFile: "reports/mutation/all.json",
  thresholds: { high: 95, low: 90, break: 90 },
  // Two cores shared with other work: more runners only make each one slower.
  concurrency: 2,
  // Generous: a mutant that hangs is caught by bun test's own 5 s per-test timeout first.
  timeoutMS: 10_000,
  reporters: ["clear-text", "progress-append-only"],
  clearTextReporter: { allowEmojis: false, logTests: false, reportScoreTable: true },
  tempDirName: ".stryker-tmp",
  cleanTempDir: "always",
  // Leading "/": relative to the root only (a bare "profiling" would also drop src/profiling).
  ignorePatterns: ["/test/results", "/profiling", "/playwright-report", "/coverage", "/dist"],
};
