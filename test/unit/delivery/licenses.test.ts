import { afterAll, beforeAll, describe, expect, test } from "bun:test";
import { mkdirSync, mkdtempSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";

/**
 * `bun run check:licenses` (scripts/check-licenses.sh, in .ci/run and CI) against a project of its
 * own: the allow-list passes permissive licences, refuses a copyleft one by name, and leaves out the
 * private, UNLICENSED project itself.
 */
const ROOT = new URL("../../../", import.meta.url).pathname;
let dir: string;

function project(name: string, dependencies: Record<string, string>): string {
  const root = join(dir, name);
  mkdirSync(root, { recursive: true });
  const manifest = {
    name,
    version: "1.0.0",
    private: true,
    license: "UNLICENSED",
    dependencies: {} as Record<string, string>,
  };
  for (const [dependency, license] of Object.entries(dependencies)) {
    manifest.dependencies[dependency] = "1.0.0";
    mkdirSync(join(root, "node_modules", dependency), { recursive: true });
    writeFileSync(
      join(root, "node_modules", dependency, "package.json"),
      JSON.stringify({ name: dependency, version: "1.0.0", license }),
    );
  }
  writeFileSync(join(root, "package.json"), JSON.stringify(manifest));
  return root;
}

function check(start: string) {
  const run = Bun.spawnSync(["bash", "scripts/check-licenses.sh", "--start", start], {
    cwd: ROOT,
    stdout: "pipe",
    stderr: "pipe",
  });
  return { exitCode: run.exitCode, output: run.stdout.toString() + run.stderr.toString() };
}

beforeAll(() => {
  dir = mkdtempSync(join(tmpdir(), "licenses-"));
});
afterAll(() => rmSync(dir, { recursive: true, force: true }));

describe("the dependency licence check", () => {
  test("passes permissive licences, SPDX expressions of them, and the private UNLICENSED project", () => {
    const run = check(
      project("permissive", {
        a: "MIT",
        b: "Apache-2.0",
        c: "BlueOak-1.0.0",
        d: "MIT OR Apache-2.0",
        e: "0BSD",
      }),
    );
    expect(run.output).toContain("MIT: 1");
    expect(run.output).not.toContain("UNLICENSED");
    expect(run.exitCode).toBe(0);
  });

  test.each(["GPL-3.0-only", "AGPL-3.0-or-later", "SSPL-1.0", "UNKNOWN"])(
    "refuses %s, naming the package",
    (license) => {
      const run = check(project(`refuses-${license}`, { fine: "MIT", copyleft: license }));
      expect(run.exitCode).toBe(1);
      expect(run.output).toContain(
        `Package "copyleft@1.0.0" is licensed under "${license}" which is not permitted`,
      );
    },
  );
});
