import { mkdtempSync, readFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";

/**
 * Builds the bundle the image ships, with the Dockerfile's own `bun build` command (its output folder
 * swapped for a temporary one), and returns the path of its server.js: what the benchmark measures
 * beside `bun src/server.ts`.
 */
export function buildShippedBundle(root: string): string {
  const dockerfile = readFileSync(join(root, "Dockerfile"), "utf8");
  const command = /^RUN (bun build [^\n]+)$/m.exec(dockerfile)?.[1];
  if (!command) throw new Error("the Dockerfile has no `RUN bun build` line");
  const args = command.split(/\s+/);
  const outdirAt = args.indexOf("--outdir");
  if (outdirAt < 0) throw new Error("the Dockerfile's `bun build` has no --outdir");
  const outdir = mkdtempSync(join(tmpdir(), "bench-bundle-"));
  args[outdirAt + 1] = outdir;
  args[0] = process.execPath;
  const built = Bun.spawnSync(args, { cwd: root, stdout: "ignore", stderr: "pipe" });
  if (built.exitCode !== 0) throw new Error(`bun build failed: ${built.stderr.toString()}`);
  return join(outdir, "server.js");
}
