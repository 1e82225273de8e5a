/**
 * `bun run test:clean`: deletes what test runs leave behind (all git-ignored): k6 and Playwright
 * results, Playwright's HTML report, coverage, and the reports of scripts/test-under-load.sh. The
 * mutation reports (reports/mutation/) are kept: they make the next mutation run incremental.
 * `--root <dir>` cleans another checkout (the script's own test).
 */
import { existsSync } from "node:fs";
import { rm } from "node:fs/promises";
import { join, resolve } from "node:path";

const TEST_RESULT_DIRS = ["test/results", "playwright-report", "coverage", "reports/test-under-load"];

const args = process.argv.slice(2);
const rootIndex = args.indexOf("--root");
const root = rootIndex >= 0 ? resolve(args[rootIndex + 1] ?? ".") : new URL("..", import.meta.url).pathname;

for (const dir of TEST_RESULT_DIRS) {
  const path = join(root, dir);
  const existed = existsSync(path);
  await rm(path, { recursive: true, force: true });
  console.log(`${existed ? "removed" : "absent "} ${dir}`);
}
