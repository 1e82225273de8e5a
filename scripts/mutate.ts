/**
 * Mutation testing, one Stryker run per folder of src/ (scripts/lib/mutation-targets.ts):
 *
 *   bun run mutate                    every folder
 *   bun run mutate -- jwt resilience  those folders only
 *   options: --force (retest every mutant), --concurrency <n>,
 *            --mutate <files> (only these files of the folder, comma-separated, while iterating)
 *
 * Each folder keeps its own incremental file, reports/mutation/<folder>.json (a full Stryker report,
 * not committed), so a rerun tests only mutants in code that changed since. The command runner
 * cannot tell Stryker which tests changed, so Stryker would reuse a "survived" verdict even after a
 * new test kills it: mutants that were not detected last time are therefore always retried. A
 * test that got weaker is caught by the scheduled workflow, which starts from no incremental file.
 * Exits 1 when a folder scores under the break threshold of stryker.config.mjs or Stryker fails.
 */
import { existsSync, mkdirSync, readFileSync, writeFileSync } from "node:fs";
import { join } from "node:path";
import config from "../stryker.config.mjs";
import { MUTATION_TARGETS } from "./lib/mutation-targets.ts";

const root = new URL("..", import.meta.url).pathname;
// Relative to the root (the cwd of every run), so the printed command can be pasted as it is.
const stryker = "node_modules/@stryker-mutator/core/bin/stryker.js";
const DETECTED = new Set(["Killed", "Timeout"]);
const breakAt = config.thresholds?.break ?? 0;

interface Report {
  files: Record<string, { mutants: { status: string }[] }>;
}

function parseArgs(argv: string[]) {
  const folders: string[] = [];
  const extra: string[] = [];
  for (let i = 0; i < argv.length; i++) {
    const arg = argv[i] as string;
    if (arg === "--force") extra.push(arg);
    else if (arg === "--concurrency") extra.push(arg, String(argv[++i] ?? ""));
    // Stryker keeps the last --mutate given, so this one narrows the folder's.
    else if (arg === "--mutate") extra.push(arg, String(argv[++i] ?? ""));
    else if (arg in MUTATION_TARGETS) folders.push(arg);
    else {
      console.error(`unknown folder or option: ${arg}; folders: ${Object.keys(MUTATION_TARGETS).join(", ")}`);
      process.exit(2);
    }
  }
  return { folders: folders.length > 0 ? folders : Object.keys(MUTATION_TARGETS), extra };
}

/** Keeps only detected mutants, so everything else is tested again (see the header). */
function forgetUndetected(file: string) {
  if (!existsSync(file)) return;
  const report = JSON.parse(readFileSync(file, "utf8")) as Report;
  for (const entry of Object.values(report.files)) {
    entry.mutants = entry.mutants.filter((mutant) => DETECTED.has(mutant.status));
  }
  writeFileSync(file, JSON.stringify(report));
}

function score(file: string) {
  const counts: Record<string, number> = {};
  const report = JSON.parse(readFileSync(file, "utf8")) as Report;
  for (const entry of Object.values(report.files))
    for (const { status } of entry.mutants) counts[status] = (counts[status] ?? 0) + 1;
  const detected = (counts.Killed ?? 0) + (counts.Timeout ?? 0);
  const undetected = (counts.Survived ?? 0) + (counts.NoCoverage ?? 0);
  const total = detected + undetected;
  return { counts, detected, undetected, percent: total === 0 ? 100 : (100 * detected) / total };
}

const { folders, extra } = parseArgs(process.argv.slice(2));
mkdirSync(join(root, "reports/mutation"), { recursive: true });
const rows: string[] = [];
let failed = false;
for (const folder of folders) {
  const target = MUTATION_TARGETS[folder] as (typeof MUTATION_TARGETS)[string];
  const incrementalFile = `reports/mutation/${folder}.json`;
  forgetUndetected(join(root, incrementalFile));
  const command = [
    "bun",
    "--bun",
    stryker,
    "run",
    "--mutate",
    target.mutate.join(","),
    "--commandRunner.command",
    `bun test ${target.tests.join(" ")}`,
    "--incrementalFile",
    incrementalFile,
    ...extra,
  ];
  console.log(
    `\n== ${folder}: ${command.map((part) => (/\s|\*/.test(part) ? `'${part}'` : part)).join(" ")}`,
  );
  const started = performance.now();
  const run = Bun.spawnSync(command, { cwd: root, stdio: ["ignore", "inherit", "inherit"] });
  const seconds = ((performance.now() - started) / 1000).toFixed(0);
  if (!existsSync(join(root, incrementalFile))) {
    failed = true;
    rows.push(`${folder.padEnd(12)} Stryker failed (exit ${run.exitCode}) after ${seconds} s`);
    continue;
  }
  const result = score(join(root, incrementalFile));
  if (run.exitCode !== 0 || result.percent < breakAt) failed = true;
  const statuses = Object.entries(result.counts)
    .map(([status, count]) => `${status} ${count}`)
    .join(", ");
  rows.push(
    `${folder.padEnd(12)} ${result.percent.toFixed(2).padStart(6)} %  (${result.detected} detected / ${
      result.detected + result.undetected
    }; ${statuses})  ${seconds} s`,
  );
}
console.log(`\nMutation score per folder (break at ${breakAt} %):`);
for (const row of rows) console.log(`  ${row}`);
process.exit(failed ? 1 : 0);
