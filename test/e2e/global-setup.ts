/**
 * Before any suite: a target and its consumers.
 * - API_BASE_URL given: that service, and the Kong Admin API at KONG_ADMIN_URL (KONG_ADMIN_TOKEN,
 *   KONG_MODE) where the standard consumers are created when missing.
 * - Otherwise: `bun scripts/e2e-stack.ts` (the service + Kong emulator + control server). The
 *   runner may be Node, and Bun.serve needs Bun, hence a child process.
 * Whatever it finds is handed to the suites through process.env, which the workers inherit.
 */
import { type ChildProcess, spawn } from "node:child_process";
import { createInterface } from "node:readline";
import { ANONYMOUS_CONSUMER, TEST_CONSUMERS } from "../shared/test-consumers.ts";
import { ensureConsumer, kongAdminFromEnv } from "./support/kong-admin.ts";

interface StackInfo {
  baseUrl: string;
  controlUrl: string;
  kongAdminUrl: string;
  kongMode: string;
}

const ROOT = new URL("../../", import.meta.url).pathname;

function startStack(): Promise<{ info: StackInfo; child: ChildProcess }> {
  const child = spawn("bun", ["scripts/e2e-stack.ts"], { cwd: ROOT, stdio: ["pipe", "pipe", "inherit"] });
  return new Promise((resolve, reject) => {
    const timer = setTimeout(() => {
      child.kill("SIGKILL");
      reject(new Error("the e2e stack did not start within 15 s"));
    }, 15_000);
    child.once("error", (error) => {
      clearTimeout(timer);
      reject(new Error(`cannot start bun scripts/e2e-stack.ts (is Bun installed?): ${error.message}`));
    });
    child.once("exit", (code) => {
      clearTimeout(timer);
      reject(new Error(`the e2e stack exited with ${code} before it was ready`));
    });
    if (!child.stdout) return reject(new Error("no stdout from the e2e stack"));
    createInterface({ input: child.stdout }).on("line", (line) => {
      const match = /^E2E_STACK_READY (\{.*\})$/.exec(line);
      if (!match?.[1]) return;
      clearTimeout(timer);
      child.removeAllListeners("exit");
      resolve({ info: JSON.parse(match[1]) as StackInfo, child });
    });
  });
}

export default async function globalSetup(): Promise<() => Promise<void>> {
  let child: ChildProcess | undefined;
  if (process.env.API_BASE_URL) {
    if (!process.env.KONG_ADMIN_URL) {
      throw new Error(
        "API_BASE_URL needs KONG_ADMIN_URL (and KONG_ADMIN_TOKEN, KONG_MODE) to provision consumers",
      );
    }
  } else {
    const stack = await startStack();
    child = stack.child;
    process.env.API_BASE_URL = stack.info.baseUrl;
    process.env.E2E_CONTROL_URL = stack.info.controlUrl;
    process.env.KONG_ADMIN_URL = stack.info.kongAdminUrl;
    process.env.KONG_MODE = stack.info.kongMode;
    delete process.env.KONG_ADMIN_TOKEN;
  }

  const admin = kongAdminFromEnv();
  if (!admin) throw new Error("no Kong Admin API to provision consumers in");
  const provisioned = [];
  for (const consumer of TEST_CONSUMERS) provisioned.push(await ensureConsumer(admin, consumer));
  await ensureConsumer(admin, ANONYMOUS_CONSUMER);
  process.env.E2E_CONSUMERS = JSON.stringify(provisioned);

  return async () => {
    if (!child || child.exitCode !== null) return;
    const exited = new Promise((resolve) => child?.once("exit", resolve));
    child.stdin?.end();
    child.kill("SIGTERM");
    await Promise.race([exited, new Promise((resolve) => setTimeout(resolve, 5_000))]);
    if (child.exitCode === null) child.kill("SIGKILL");
  };
}
