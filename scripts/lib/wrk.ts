/** Runs wrk and reads its summary. wrk is the load generator; Debian ships it (`apt-get install wrk`). */

export interface LoadResult {
  readonly requestsPerSecond: number;
  /** Requests completed in the whole run. */
  readonly requests: number;
  readonly p50Ms: number;
  readonly p99Ms: number;
  readonly non2xx: number;
  readonly socketErrors: number;
}

export interface LoadOptions {
  readonly url: string;
  readonly connections: number;
  readonly threads: number;
  readonly durationSeconds: number;
  readonly headers?: Record<string, string>;
  /** A Lua script for per-request variation (e.g. rotating consumers). */
  readonly script?: string;
}

export async function ensureWrk(): Promise<void> {
  if (Bun.which("wrk")) return;
  console.log("wrk not found; installing it with apt-get");
  const install = Bun.spawnSync(["sh", "-c", "apt-get update -qq && apt-get install -y -qq wrk"], {
    stdout: "ignore",
  });
  if (install.exitCode !== 0 || !Bun.which("wrk")) throw new Error("wrk is required: apt-get install wrk");
}

export async function runWrk(options: LoadOptions): Promise<LoadResult> {
  const args = [
    "wrk",
    `-t${options.threads}`,
    `-c${options.connections}`,
    `-d${options.durationSeconds}s`,
    "--latency",
    ...Object.entries(options.headers ?? {}).flatMap(([name, value]) => ["-H", `${name}: ${value}`]),
    ...(options.script ? ["-s", options.script] : []),
    options.url,
  ];
  const child = Bun.spawn(args, { stdout: "pipe", stderr: "pipe" });
  const [out, err] = await Promise.all([
    new Response(child.stdout).text(),
    new Response(child.stderr).text(),
  ]);
  if ((await child.exited) !== 0) throw new Error(`wrk failed: ${err || out}`);
  return parseWrk(out);
}

export function parseWrk(output: string): LoadResult {
  const number = (pattern: RegExp) => Number(output.match(pattern)?.[1] ?? Number.NaN);
  const latency = (percentile: string) => {
    const match = output.match(new RegExp(`^\\s*${percentile}%\\s+([\\d.]+)(us|ms|s)\\s*$`, "m"));
    if (!match) return Number.NaN;
    const value = Number(match[1]);
    return match[2] === "us" ? value / 1000 : match[2] === "s" ? value * 1000 : value;
  };
  const errors = output.match(/Socket errors: connect (\d+), read (\d+), write (\d+), timeout (\d+)/);
  return {
    requestsPerSecond: number(/Requests\/sec:\s+([\d.]+)/),
    requests: number(/(\d+) requests in /),
    p50Ms: latency("50"),
    p99Ms: latency("99"),
    non2xx: number(/Non-2xx or 3xx responses:\s+(\d+)/) || 0,
    socketErrors: errors ? errors.slice(1).reduce((sum, value) => sum + Number(value), 0) : 0,
  };
}

/** A wrk Lua script that sends each request as the next consumer of the list, round-robin. */
export function rotatingConsumersScript(
  consumers: readonly { id: string; username: string }[],
  extraHeaders: Record<string, string> = {},
): string {
  const rows = consumers.map(
    (consumer) => `{${JSON.stringify(consumer.id)}, ${JSON.stringify(consumer.username)}}`,
  );
  const extra = Object.entries(extraHeaders)
    .map(([name, value]) => `, [${JSON.stringify(name)}] = ${JSON.stringify(value)}`)
    .join("");
  return `local consumers = {${rows.join(",\n")}}
local i = 0
request = function()
  i = i + 1
  local c = consumers[(i % #consumers) + 1]
  return wrk.format("GET", "/tokens", { ["X-Consumer-ID"] = c[1], ["X-Consumer-Username"] = c[2]${extra} })
end
`;
}
