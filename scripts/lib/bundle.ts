import { mkdtempSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { buildExecutable } from "../build.ts";

/**
 * Builds the executable the image ships, with the Dockerfile's own build (scripts/build.ts), into a
 * temporary folder, and returns its path: what the benchmarks measure beside `bun src/server.ts`.
 */
export function buildShippedBundle(root: string): Promise<string> {
  return buildExecutable(root, join(mkdtempSync(join(tmpdir(), "bench-bundle-")), "server"));
}

/**
 * How to start `entry` with `bunFlags`: a source or JavaScript file through `bun`, the shipped
 * executable by itself, with the flags in BUN_OPTIONS, which a Bun executable reads at start.
 */
export function serviceCommand(
  entry: string,
  bunFlags: readonly string[] = [],
): { command: string[]; env: Record<string, string> } {
  if (/\.[cm]?[jt]s$/.test(entry)) return { command: ["bun", ...bunFlags, entry], env: {} };
  return { command: [entry], env: bunFlags.length > 0 ? { BUN_OPTIONS: bunFlags.join(" ") } : {} };
}
