import { describe, expect, test } from "bun:test";
import { readdirSync } from "node:fs";
import { join } from "node:path";
import { loadYaml, packageScripts, pinnedBunVersion, ROOT, readRepoFile } from "./support/repo.ts";

interface Step {
  name?: string;
  id?: string;
  uses?: string;
  run?: string;
  if?: string;
  with?: Record<string, string | number | boolean>;
}
interface Job {
  name?: string;
  "runs-on"?: string;
  needs?: string | string[];
  if?: string;
  "timeout-minutes"?: number;
  permissions?: Record<string, string>;
  services?: Record<string, { image: string; ports?: string[]; options?: string }>;
  env?: Record<string, string>;
  steps?: Step[];
}
interface Workflow {
  name: string;
  on: Record<
    string,
    | { branches?: string[]; tags?: string[]; inputs?: Record<string, { required?: boolean }> }
    | { cron: string }[]
    | null
  >;
  permissions?: Record<string, string>;
  jobs: Record<string, Job>;
}

const PINNED_ACTION = /^[\w.-]+\/[\w.-]+(\/[\w./-]+)?@(v\d+(\.\d+){0,2}|[0-9a-f]{40})$/;

const files = readdirSync(join(ROOT, ".github/workflows")).filter((file) => /\.ya?ml$/.test(file));
const workflows = Object.fromEntries(
  files.map((file) => [file, loadYaml<Workflow>(`.github/workflows/${file}`)]),
) as Record<string, Workflow>;
const ci = workflows["ci.yml"] as Workflow;
const docker = workflows["docker.yml"] as Workflow;
const mutation = workflows["mutation.yml"] as Workflow;
type Trigger = { branches?: string[]; tags?: string[] } | undefined;
const push = (workflow: Workflow) => workflow.on.push as Trigger;

const needsOf = (job: Job): string[] => (job.needs === undefined ? [] : [job.needs].flat());
const runs = (job: Job | undefined): string[] =>
  (job?.steps ?? []).flatMap((step) => (step.run ? [step.run] : []));
const stepsUsing = (job: Job | undefined, action: string): Step[] =>
  (job?.steps ?? []).filter((step) => step.uses?.split("@")[0] === action);

describe(".github/workflows", () => {
  test("ci.yml, docker.yml and mutation.yml exist and each job runs on a hosted runner, with a timeout", () => {
    expect(files.sort()).toEqual(["ci.yml", "docker.yml", "mutation.yml"]);
    for (const [file, workflow] of Object.entries(workflows)) {
      expect(workflow.name, file).toBeTruthy();
      expect(Object.keys(workflow.jobs).length, file).toBeGreaterThan(0);
      // Read-only by default; a job that writes asks for it itself.
      expect(workflow.permissions, file).toEqual({ contents: "read" });
      for (const [name, job] of Object.entries(workflow.jobs)) {
        expect(job["runs-on"], `${file} ${name}`).toBe("ubuntu-latest");
        expect(job["timeout-minutes"], `${file} ${name}`).toBeGreaterThan(0);
        // GitHub's own ceiling for a hosted job.
        expect(job["timeout-minutes"], `${file} ${name}`).toBeLessThanOrEqual(360);
        expect(job.steps?.length, `${file} ${name}`).toBeGreaterThan(0);
      }
    }
  });

  test("every `needs` names a job of the same workflow, and the job graph has no cycle", () => {
    for (const [file, workflow] of Object.entries(workflows)) {
      const jobs = workflow.jobs;
      for (const [name, job] of Object.entries(jobs)) {
        for (const dependency of needsOf(job))
          expect(Object.keys(jobs), `${file} ${name}`).toContain(dependency);
      }
      const state = new Map<string, "visiting" | "done">();
      const visit = (name: string) => {
        if (state.get(name) === "done") return;
        expect(state.get(name), `${file}: cycle through ${name}`).toBeUndefined();
        state.set(name, "visiting");
        for (const dependency of needsOf(jobs[name] as Job)) visit(dependency);
        state.set(name, "done");
      };
      for (const name of Object.keys(jobs)) visit(name);
    }
  });

  test("every action is pinned to a major version or a commit, never a branch", () => {
    for (const [file, workflow] of Object.entries(workflows)) {
      for (const job of Object.values(workflow.jobs)) {
        for (const step of job.steps ?? []) {
          if (step.uses) expect(step.uses, file).toMatch(PINNED_ACTION);
        }
      }
    }
  });

  test("Bun is the version package.json pins, and dependencies come from the lockfile before any bun run", () => {
    for (const [file, workflow] of Object.entries(workflows)) {
      for (const [name, job] of Object.entries(workflow.jobs)) {
        const steps = job.steps ?? [];
        const firstBun = steps.findIndex((step) => /^bun /.test(step.run ?? ""));
        if (firstBun < 0) continue;
        const setup = steps.findIndex((step) => step.uses?.startsWith("oven-sh/setup-bun@"));
        expect(setup, `${file} ${name}`).toBeGreaterThanOrEqual(0);
        expect(setup, `${file} ${name}`).toBeLessThan(firstBun);
        expect(String(steps[setup]?.with?.["bun-version"])).toBe(pinnedBunVersion());
        expect(steps[firstBun]?.run, `${file} ${name}`).toBe("bun install --frozen-lockfile");
      }
    }
  });

  test("every `bun run` script exists in package.json", () => {
    const scripts = packageScripts();
    for (const workflow of Object.values(workflows)) {
      for (const job of Object.values(workflow.jobs)) {
        for (const command of runs(job)) {
          const script = /^bun run (\S+)/.exec(command)?.[1];
          if (script) expect(scripts[script] !== undefined, script).toBe(true);
        }
      }
    }
  });
});

describe("ci.yml", () => {
  test("runs on pushes to main and on pull requests", () => {
    expect(push(ci)?.branches).toEqual(["main"]);
    expect(Object.keys(ci.on)).toContain("pull_request");
  });

  test("has parallel jobs for lint + typecheck, tests, e2e, k6, OpenAPI drift and the audit, and one gate over them", () => {
    const commands = Object.fromEntries(Object.entries(ci.jobs).map(([name, job]) => [name, runs(job)]));
    expect(commands.lint).toEqual(expect.arrayContaining(["bun run lint", "bun run typecheck"]));
    expect(stepsUsing(ci.jobs.lint, "hadolint/hadolint-action")[0]?.with?.dockerfile).toBe("Dockerfile");
    expect(commands.test).toContain("bun run test");
    expect(commands.e2e).toContain("bun run test:e2e");
    expect(commands.k6).toContain("bun run typecheck:k6");
    expect(commands.openapi).toContain("bun run check:openapi");
    expect(commands.audit).toContain("bun run audit");

    const gate = Object.entries(ci.jobs).filter(([, job]) => needsOf(job).length > 0);
    expect(gate).toHaveLength(1);
    const [gateName, gateJob] = gate[0] as [string, Job];
    expect(gateJob.if).toBe("always()");
    expect(needsOf(gateJob).sort()).toEqual(
      Object.keys(ci.jobs)
        .filter((name) => name !== gateName)
        .sort(),
    );
  });

  test("the test job runs `bun run test` against a Redis service container, as .ci/run does", () => {
    const job = ci.jobs.test as Job;
    const redis = job.services?.redis;
    expect(redis?.image).toMatch(/^redis:/);
    expect(redis?.ports).toEqual(["6379:6379"]);
    expect(redis?.options).toContain("--health-cmd");
    const url = new URL(job.env?.REDIS_URL ?? "");
    expect(url.protocol).toBe("redis:");
    expect(["127.0.0.1", "localhost"]).toContain(url.hostname);
    expect(url.port).toBe("6379");
  });

  test("promtool and Prometheus come from the distribution's package before the alert rules and the tests need them", () => {
    const installsPrometheus = (job: Job | undefined, before: string) => {
      const commands = runs(job);
      const install = commands.findIndex((command) => /apt-get install .*\bprometheus\b/.test(command));
      expect(install, before).toBeGreaterThanOrEqual(0);
      expect(install, before).toBeLessThan(commands.indexOf(before));
    };
    installsPrometheus(ci.jobs.alerts, "bun run check:alerts");
    installsPrometheus(ci.jobs.test, "bun run test");
    expect(readRepoFile(".ci/run")).toContain("bun scripts/prometheus.ts install");
  });

  test("mirrors every command of .ci/run, which stays the source of truth", () => {
    const script = readRepoFile(".ci/run");
    const commands = [...script.matchAll(/\b(bun (?:run [\w:.-]+|install --frozen-lockfile))/g)].map(
      (m) => m[1] as string,
    );
    expect(commands.length).toBeGreaterThan(0);
    const all = Object.values(ci.jobs).flatMap(runs);
    for (const command of new Set(commands)) expect(all, command).toContain(command);
  });
});

describe("docker.yml", () => {
  test("runs on pushes to main and on version tags", () => {
    expect(push(docker)?.branches).toEqual(["main"]);
    expect(push(docker)?.tags).toEqual(["v*"]);
  });

  test("scans the image with Trivy before anything is pushed", () => {
    const scan = docker.jobs.scan as Job;
    const [build] = stepsUsing(scan, "docker/build-push-action");
    expect(build?.with?.load).toBe(true);
    expect(build?.with?.push).toBe(false);
    const trivy = stepsUsing(scan, "aquasecurity/trivy-action");
    expect(trivy.length).toBeGreaterThan(0);
    // Commit-pinned: this action's version tags were once rewritten to malicious commits.
    for (const step of trivy) expect(step.uses).toMatch(/@[0-9a-f]{40}$/);
    const gating = trivy.find((step) => step.with?.["exit-code"] === "1");
    expect(gating?.with?.["image-ref"]).toBe(build?.with?.tags as string);
    expect(String(gating?.with?.severity)).toContain("CRITICAL");
    expect(needsOf(docker.jobs.publish as Job)).toEqual(["scan"]);
  });

  test("pushes a linux/amd64 + linux/arm64 image with an SBOM and provenance", () => {
    const publish = docker.jobs.publish as Job;
    const [push] = stepsUsing(publish, "docker/build-push-action");
    expect(String(push?.with?.platforms).split(",").sort()).toEqual(["linux/amd64", "linux/arm64"]);
    expect(push?.with?.push).toBe(true);
    expect(push?.with?.sbom).toBe(true);
    expect(push?.with?.provenance).toBe(true);
    expect(stepsUsing(publish, "docker/setup-qemu-action")).toHaveLength(1);
    expect(stepsUsing(publish, "docker/login-action")[0]?.with?.registry).toBe("ghcr.io");
    expect(publish.permissions?.packages).toBe("write");
    expect(docker.jobs.scan?.permissions?.packages).toBeUndefined();
  });
});

describe("mutation.yml", () => {
  test("runs on a weekly schedule and on demand, never on pushes or pull requests", () => {
    expect(Object.keys(mutation.on).sort()).toEqual(["schedule", "workflow_dispatch"]);
    const schedule = mutation.on.schedule as { cron: string }[];
    expect(schedule).toHaveLength(1);
    const fields = (schedule[0]?.cron ?? "").split(" ");
    expect(fields).toHaveLength(5);
    // One day of the week: a mutation run costs too much to run daily.
    expect(fields[4]).toMatch(/^[0-6]$/);
  });

  test("runs `bun run mutate` against a Redis service and keeps the reports", () => {
    const [name, job] = Object.entries(mutation.jobs)[0] as [string, Job];
    expect(Object.keys(mutation.jobs)).toEqual([name]);
    const mutate = runs(job).find((command) => command.startsWith("bun run mutate"));
    expect(mutate).toBeDefined();
    // Folders chosen on demand are passed through to scripts/mutate.ts, nothing else.
    expect(mutate).toMatch(/^bun run mutate( -- \$FOLDERS)?$/);
    expect(job.env?.FOLDERS).toMatch(/^\$\{\{ inputs\.folders \}\}$/);
    expect(job.services?.redis?.image).toBe(ci.jobs.test?.services?.redis?.image as string);
    expect(job.env?.REDIS_URL).toBe(ci.jobs.test?.env?.REDIS_URL as string);
    // The cache folder's outage tests start their own redis-server.
    expect(runs(job).some((command) => /apt-get install .*redis-server/.test(command))).toBe(true);
    const [upload] = stepsUsing(job, "actions/upload-artifact");
    expect(upload?.if).toBe("always()");
    expect(upload?.with?.path).toBe("reports/mutation");
  });
});
