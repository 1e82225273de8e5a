/**
 * A throw-away Prometheus (Debian's `prometheus` package) for tests and local checks.
 *
 *   bun scripts/prometheus.ts install                 prometheus and promtool, from apt when missing
 *   bun scripts/prometheus.ts run --target HOST:PORT  scrapes HOST:PORT/metrics every second, with the
 *                                                     alert rules of prometheus/alerts.yml loaded
 *
 * `run` listens on a free loopback port, keeps its configuration and data in a temporary folder, and
 * prints `ready <url> <pid>` once Prometheus answers. SIGTERM, SIGINT or Prometheus exiting stop it:
 * it stops the Prometheus it started, removes the folder, and nothing else.
 */
import { mkdtempSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { freePort } from "../test/support/process.ts";

const ROOT = new URL("../", import.meta.url).pathname;
const READY_WITHIN_MS = 60_000;

function installed(): boolean {
  return Bun.which("prometheus") !== null && Bun.which("promtool") !== null;
}

async function install(): Promise<void> {
  if (!installed()) {
    console.log("prometheus or promtool missing: installing Debian's prometheus package");
    const root = process.getuid?.() === 0;
    const apt = (args: string[]) => Bun.spawnSync([...(root ? [] : ["sudo"]), "apt-get", ...args]);
    const installedNow =
      apt(["update", "-qq"]).success && apt(["install", "-y", "-qq", "prometheus"]).success;
    if (!installedNow || !installed()) {
      console.error("could not install prometheus (apt-get install prometheus, as root)");
      process.exit(1);
    }
  }
  const version = Bun.spawnSync(["prometheus", "--version"]).stdout.toString().split("\n")[0];
  console.log(version);
}

function configuration(target: string): string {
  return `global:
  scrape_interval: 1s
  evaluation_interval: 1s
rule_files:
  - ${join(ROOT, "prometheus/alerts.yml")}
scrape_configs:
  - job_name: kong-auth-service
    metrics_path: /metrics
    static_configs:
      - targets: ["${target}"]
`;
}

async function answers(url: string): Promise<boolean> {
  return fetch(url).then(
    (response) => response.ok,
    () => false,
  );
}

async function run(target: string): Promise<void> {
  await install();
  const dir = mkdtempSync(join(tmpdir(), "kong-auth-prometheus-"));
  writeFileSync(join(dir, "prometheus.yml"), configuration(target));
  const port = await freePort();
  const url = `http://127.0.0.1:${port}`;
  const prometheus = Bun.spawn(
    [
      "prometheus",
      `--config.file=${join(dir, "prometheus.yml")}`,
      `--storage.tsdb.path=${join(dir, "data")}`,
      `--web.listen-address=127.0.0.1:${port}`,
      "--log.level=warn",
    ],
    { stdout: "inherit", stderr: "inherit" },
  );
  let stopping = false;
  const stop = async (status: number) => {
    if (stopping) return;
    stopping = true;
    prometheus.kill("SIGTERM");
    const exited = await Promise.race([
      prometheus.exited.then(() => true),
      Bun.sleep(10_000).then(() => false),
    ]);
    if (!exited) prometheus.kill("SIGKILL");
    await prometheus.exited;
    rmSync(dir, { recursive: true, force: true });
    console.log("stopped");
    process.exit(status);
  };
  process.on("SIGTERM", () => stop(0));
  process.on("SIGINT", () => stop(0));
  prometheus.exited.then((code) => stop(stopping ? 0 : code || 1));

  const deadline = Date.now() + READY_WITHIN_MS;
  while (!(await answers(`${url}/-/ready`))) {
    if (Date.now() > deadline) {
      console.error(`Prometheus did not answer within ${READY_WITHIN_MS} ms`);
      return stop(1);
    }
    await Bun.sleep(100);
  }
  console.log(`ready ${url} ${prometheus.pid}`);
}

const [command, flag, target] = process.argv.slice(2);
if (command === "install") await install();
else if (command === "run" && flag === "--target" && target) await run(target);
else {
  console.error("usage: bun scripts/prometheus.ts install | run --target HOST:PORT");
  process.exit(2);
}
