import { describe, expect, test } from "bun:test";
import { testConfig } from "../../support/config.ts";
import {
  copyPaths,
  envPairs,
  execForm,
  type Instruction,
  parseDockerfile,
  type Stage,
} from "./support/dockerfile.ts";
import { inBuildContext, parseDockerignore } from "./support/dockerignore.ts";
import {
  filesUnder,
  isRepoDirectory,
  pinnedBunVersion,
  readRepoFile,
  repoPathExists,
} from "./support/repo.ts";

const dockerfile = parseDockerfile(readRepoFile("Dockerfile"));
const ignoreRules = parseDockerignore(readRepoFile(".dockerignore"));
const runtime = dockerfile.stages.at(-1) as Stage;
const build = dockerfile.stages.find((stage) => stage.name === "build") as Stage;

const all = (stage: Stage, keyword: string): Instruction[] =>
  stage.instructions.filter((instruction) => instruction.keyword === keyword);
const last = (stage: Stage, keyword: string): Instruction | undefined => all(stage, keyword).at(-1);

describe("Dockerfile", () => {
  test("every stage starts from the official Bun Alpine image of the pinned Bun version", () => {
    expect(dockerfile.stages.length).toBeGreaterThanOrEqual(2);
    for (const stage of dockerfile.stages) {
      expect(stage.image).toBe(`oven/bun:${pinnedBunVersion()}-alpine`);
    }
  });

  test("the build stage installs production dependencies only, from the lockfile, and builds src/server.ts", () => {
    const runs = all(build, "RUN").map((run) => run.args);
    expect(runs).toContain("bun install --production --frozen-lockfile --ignore-scripts");
    // scripts/build.ts, which test/unit/delivery/bundle.test.ts runs and the benchmarks measure.
    expect(runs).toContain("bun scripts/build.ts dist/server");
    // The image is built only when the executable starts and stops cleanly on its own.
    expect(runs).toContain("bun scripts/bundle-smoke.ts dist/server");
    expect(runs.indexOf("bun scripts/build.ts dist/server")).toBeLessThan(
      runs.indexOf("bun scripts/bundle-smoke.ts dist/server"),
    );
  });

  test("the runtime stage carries the executable and no node_modules", () => {
    const copies = all(runtime, "COPY");
    expect(copies.map((copy) => copy.flags.from)).toEqual(["build"]);
    expect(copyPaths(copies[0] as Instruction).sources).toEqual(["/app/dist/"]);
    expect(runtime.instructions.some((instruction) => instruction.args.includes("node_modules"))).toBe(false);
    expect(runtime.instructions.some((instruction) => /bun install/.test(instruction.args))).toBe(false);
  });

  test("it runs as uid 1001, not root, with dumb-init as PID 1 in front of the executable", () => {
    expect(last(runtime, "USER")?.args).toBe("1001:1001");
    const setup = all(runtime, "RUN")
      .map((run) => run.args)
      .join(" && ");
    expect(setup).toContain("apk add --no-cache dumb-init");
    expect(setup).toContain("adduser -S -D -H -u 1001 -G app");
    expect(setup).toContain("addgroup -S -g 1001 app");

    const entrypoint = execForm(last(runtime, "ENTRYPOINT")?.args ?? "");
    expect(entrypoint).toEqual(["/usr/bin/dumb-init", "--"]);
    const cmd = execForm(last(runtime, "CMD")?.args ?? "");
    // scripts/build.ts writes dist/server, which the runtime stage copies to /app.
    expect(cmd).toEqual(["/app/server"]);
    expect(last(runtime, "WORKDIR")?.args).toBe("/app");
  });

  test("production environment, port 3000 exposed, health check on /health/live", () => {
    const env = Object.assign({}, ...all(runtime, "ENV").map(envPairs)) as Record<string, string>;
    expect(env.NODE_ENV).toBe("production");
    expect(env.PORT).toBe(String(testConfig().app.port));
    expect(last(runtime, "EXPOSE")?.args).toBe("3000");

    const healthcheck = last(runtime, "HEALTHCHECK") as Instruction;
    expect(healthcheck.args).toMatch(
      /^CMD wget -q -O \/dev\/null "http:\/\/127\.0\.0\.1:\$\{PORT\}\/health\/live"/,
    );
    expect(healthcheck.flags.interval).toBeDefined();
    expect(healthcheck.flags.timeout).toBeDefined();
  });

  test("the build stage runs on each target platform: Bun compiles for the platform it runs on", () => {
    expect(build.platform).toBeUndefined();
    expect(runtime.platform).toBeUndefined();
  });

  test("every COPY source exists in the repository or in an earlier stage, and reaches the build context", () => {
    for (const stage of dockerfile.stages) {
      for (const copy of all(stage, "COPY")) {
        const { sources } = copyPaths(copy);
        expect(sources.length).toBeGreaterThan(0);
        const from = copy.flags.from;
        if (from !== undefined) {
          const earlier = dockerfile.stages.find((candidate) => candidate.name === from);
          expect(earlier, `COPY --from=${from} (line ${copy.line})`).toBeDefined();
          expect((earlier as Stage).index).toBeLessThan(stage.index);
          continue;
        }
        for (const source of sources) {
          expect(repoPathExists(source), `${source} (line ${copy.line})`).toBe(true);
          const files = isRepoDirectory(source) ? filesUnder(source) : [source];
          expect(files.length).toBeGreaterThan(0);
          for (const file of files) expect(inBuildContext(ignoreRules, file), file).toBe(true);
        }
      }
    }
  });

  test("the runtime stage copies the folder the build stage writes the executable into", () => {
    const buildRun = all(build, "RUN").find((run) =>
      run.args.startsWith("bun scripts/build.ts"),
    ) as Instruction;
    const outfile = /^bun scripts\/build\.ts (\S+)\/server$/.exec(buildRun.args)?.[1];
    expect(last(build, "WORKDIR")?.args).toBe("/app");
    expect(copyPaths(all(runtime, "COPY")[0] as Instruction).sources[0]).toBe(`/app/${outfile}/`);
  });
});

describe(".dockerignore", () => {
  test("keeps secrets, dependencies, tests and history out of the build context", () => {
    for (const path of [
      ".env",
      "node_modules/zod/package.json",
      "test/unit/x.test.ts",
      ".git/config",
      "dist/server",
      "k8s/deployment.yaml",
      "scripts/local.ts",
    ]) {
      expect(inBuildContext(ignoreRules, path), path).toBe(false);
    }
  });

  test("lets through exactly what the build needs", () => {
    for (const path of [
      "package.json",
      "bun.lock",
      "tsconfig.json",
      "src/server.ts",
      "src/config/schema.ts",
      "scripts/build.ts",
      "scripts/bundle-smoke.ts",
    ]) {
      expect(inBuildContext(ignoreRules, path), path).toBe(true);
    }
  });

  test("the matcher follows Docker's rules: parents match, later patterns win, ** crosses folders", () => {
    const rules = parseDockerignore("**/*.md\n!docs/keep.md\nbuild/\n");
    expect(inBuildContext(rules, "README.md")).toBe(false);
    expect(inBuildContext(rules, "docs/a/b.md")).toBe(false);
    expect(inBuildContext(rules, "docs/keep.md")).toBe(true);
    expect(inBuildContext(rules, "build/out/x.js")).toBe(false);
    expect(inBuildContext(rules, "src/build.ts")).toBe(true);
  });
});
