/**
 * `bun scripts/build.ts <outfile>`: the executable the image ships (the Dockerfile's build stage runs
 * this), a standalone Bun executable of src/server.ts with its code as bytecode, built in two passes:
 *
 * 1. `bun build --compile` with ESM code splitting, so the code console mode never runs (the
 *    OpenTelemetry SDK and exporters, the Redis client, yaml) sits in chunks loaded at their first
 *    `import()`, not at start;
 * 2. the first build is started through scripts/bundle-smoke.ts with BUN_BYTECODE_ORDER_OUT set, and
 *    built again with `--bytecode-order`, which lays out the bytecode in the order that start-up ran it.
 *
 * From spawn to the first 200 of /health/ready this is 0.6–0.7× the time of the CommonJS bundle it
 * replaces (docs/testing.md, "Start-up and memory"). Bun writes the executable for the platform it
 * runs on, so the image builds it on each target platform.
 */
import { mkdtempSync, readFileSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join, resolve } from "node:path";
import { smokeTestBundle } from "./bundle-smoke.ts";

/** The `bun build` arguments, without the output file and the order file. */
const BUILD_ARGUMENTS = [
  "src/server.ts",
  "--compile",
  "--splitting",
  "--format=esm",
  "--target=bun",
  "--minify",
  // Function and class names in stack traces and error names.
  "--keep-names",
  "--bytecode",
  // Configuration comes from the environment alone: a .env or bunfig.toml in the working directory
  // (a mounted volume, a stray file) must not change what the executable runs with.
  "--no-compile-autoload-dotenv",
  "--no-compile-autoload-bunfig",
  // process.env.NODE_ENV stays a read at run time, as from source: by default Bun writes
  // "development" into the output, and winston's debug helper then loads its development build and
  // prints DEBUG=* output into the JSON log stream.
  "--define",
  "process.env.NODE_ENV=process.env.NODE_ENV",
] as const;

function bunBuild(root: string, outfile: string, orderFile?: string): void {
  const args = [...BUILD_ARGUMENTS, "--outfile", outfile];
  if (orderFile) args.push(`--bytecode-order=${orderFile}`);
  const built = Bun.spawnSync([process.execPath, "build", ...args], {
    cwd: root,
    stdout: "pipe",
    stderr: "pipe",
  });
  if (built.exitCode !== 0) throw new Error(`bun build failed: ${built.stderr.toString() || built.exitCode}`);
}

/** Builds the executable at `outfile` (both passes); throws when a pass or the ordering run fails. */
export async function buildExecutable(root: string, outfile: string): Promise<string> {
  const path = resolve(root, outfile);
  bunBuild(root, path);
  const work = mkdtempSync(join(tmpdir(), "build-order-"));
  try {
    const orderFile = join(work, "order.txt");
    const run = await smokeTestBundle(path, { BUN_BYTECODE_ORDER_OUT: orderFile });
    if (run.live !== 200 || run.ready !== 200 || run.exitCode !== 0) {
      throw new Error(`the first build did not start and stop cleanly:\n${run.output}`);
    }
    // An order file lists function hashes after a version line; an empty one would order nothing.
    if (readFileSync(orderFile, "utf8").split("\n").length < 2)
      throw new Error("the ordering run wrote no order");
    bunBuild(root, path, orderFile);
  } finally {
    rmSync(work, { recursive: true, force: true });
  }
  return path;
}

if (import.meta.main) {
  const outfile = process.argv[2];
  if (!outfile) {
    console.error("usage: bun scripts/build.ts <outfile>");
    process.exit(2);
  }
  console.log(await buildExecutable(process.cwd(), outfile));
}
