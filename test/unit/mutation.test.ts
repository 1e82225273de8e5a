import { describe, expect, test } from "bun:test";
import { existsSync, statSync } from "node:fs";
import { join } from "node:path";
import { MUTATION_TARGETS, REQUIRED_TARGETS } from "../../scripts/lib/mutation-targets.ts";
import config from "../../stryker.config.mjs";
import { filesUnder, ROOT, readRepoFile } from "./delivery/support/repo.ts";

const EQUIVALENTS = "test/mutation/equivalent-mutants.md";
const DISABLE = /\/\/\s*Stryker disable (?:next-line |all )?([\w,]+)(?::\s*(.*))?$/;

/** Every `// Stryker disable` comment in mutated code: file, mutators, reason. */
function disableComments() {
  const found: { file: string; mutator: string; reason: string }[] = [];
  for (const file of [...filesUnder("src"), ...filesUnder("scripts")].filter((f) => f.endsWith(".ts"))) {
    for (const line of readRepoFile(file).split("\n")) {
      const match = DISABLE.exec(line.trim());
      if (!match) continue;
      for (const mutator of (match[1] as string).split(","))
        found.push({ file, mutator, reason: (match[2] ?? "").trim() });
    }
  }
  return found;
}

/** The rows of the equivalent-mutants table: file, mutator, reason. */
function listedEquivalents() {
  return readRepoFile(EQUIVALENTS)
    .split("\n")
    .filter((line) => /^\|\s*`/.test(line))
    .map((line) => {
      const [file = "", mutator = "", reason = ""] = line
        .split("|")
        .slice(1, -1)
        .map((cell) => cell.trim());
      return { file: file.replaceAll("`", ""), mutator, reason };
    });
}

describe("mutation testing setup", () => {
  test("Stryker is pinned to an exact 10.x version and `bun run mutate` runs the per-folder script", () => {
    const pkg = JSON.parse(readRepoFile("package.json"));
    expect(pkg.devDependencies["@stryker-mutator/core"]).toMatch(/^10\.\d+\.\d+$/);
    expect(pkg.scripts.mutate).toBe("bun scripts/mutate.ts");
  });

  test("the config uses bun test through the command runner, incrementally, breaking under 90 %", () => {
    expect(config.testRunner).toBe("command");
    expect(config.commandRunner?.command).toMatch(/^bun test\b/);
    expect(config.incremental).toBe(true);
    expect(config.incrementalFile).toMatch(/^reports\//);
    expect(config.thresholds?.break).toBe(90);
    // Two shared cores: more concurrent runners only slow each other down.
    expect(config.concurrency).toBeLessThanOrEqual(2);
    expect(readRepoFile(".gitignore").split("\n")).toEqual(
      expect.arrayContaining(["reports/", ".stryker-tmp/"]),
    );
    // The file the config names for equivalent mutants exists.
    expect(readRepoFile("stryker.config.mjs")).toContain(EQUIVALENTS);
  });

  test("every folder the score is promised over has a target; every target mutates files and runs tests", () => {
    for (const folder of REQUIRED_TARGETS) {
      expect(MUTATION_TARGETS[folder]?.mutate, folder).toContain(`src/${folder}/**/*.ts`);
    }
    for (const [folder, target] of Object.entries(MUTATION_TARGETS)) {
      for (const pattern of target.mutate) {
        const files = [...new Bun.Glob(pattern).scanSync({ cwd: ROOT })];
        expect(files.length, `${folder}: ${pattern}`).toBeGreaterThan(0);
      }
      expect(target.tests.length, folder).toBeGreaterThan(0);
      for (const path of target.tests) {
        expect(existsSync(join(ROOT, path)), `${folder}: ${path}`).toBe(true);
        if (statSync(join(ROOT, path)).isFile()) expect(path, folder).toMatch(/\.test\.ts$/);
        else
          expect(
            filesUnder(path).some((file) => file.endsWith(".test.ts")),
            path,
          ).toBe(true);
      }
    }
  });

  test("every disabled mutant has a reason and is listed in the equivalent-mutants file, and only those", () => {
    const comments = disableComments();
    const listed = listedEquivalents();
    for (const comment of comments) {
      expect(comment.reason.length, `${comment.file} ${comment.mutator}: no reason`).toBeGreaterThan(10);
      // One file may disable one mutator in two places, for two reasons: each has its row.
      const rows = listed.filter((entry) => entry.file === comment.file && entry.mutator === comment.mutator);
      expect(
        rows.find((row) => row.reason === comment.reason)?.reason ?? rows[0]?.reason,
        `${comment.file} ${comment.mutator} is not in ${EQUIVALENTS}`,
      ).toBe(comment.reason);
    }
    for (const entry of listed) {
      const used = comments.filter((c) => c.file === entry.file && c.mutator === entry.mutator);
      expect(used.length, `${EQUIVALENTS}: ${entry.file} ${entry.mutator} has no disable comment`).toBe(
        listed.filter((other) => other.file === entry.file && other.mutator === entry.mutator).length,
      );
    }
  });
});
