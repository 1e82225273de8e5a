import { describe, expect, test } from "bun:test";
import { mkdtempSync, rmSync, symlinkSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { waitFor } from "../support/wait.ts";

/**
 * scripts/lib/redis-topology.ts, which the Sentinel and Cluster tests and the soak start their Redis
 * with: a start that fails part-way must leave nothing running, or the next start on the same ports
 * meets a stray server and waits out its whole timeout (seen when redis-sentinel was not installed).
 */
const MODULE = join(import.meta.dir, "../../scripts/lib/redis-topology.ts");
const PORT = 6480;

/** The redis-server processes listening on the topology's two data ports. */
async function strays(): Promise<string> {
  const listing = Bun.spawn(["pgrep", "-af", `redis-server 127.0.0.1:(${PORT}|${PORT + 1})$`], {
    stdout: "pipe",
  });
  return (await new Response(listing.stdout).text()).trim();
}

describe("starting a Redis topology", () => {
  test("that fails part-way (no redis-sentinel on the PATH) leaves no server of it running, every time", async () => {
    const bin = mkdtempSync(join(tmpdir(), "topology-bin-"));
    const dir = mkdtempSync(join(tmpdir(), "topology-leak-"));
    for (const tool of ["redis-server", "redis-cli"]) symlinkSync(Bun.which(tool) as string, join(bin, tool));
    const start = `import { startTopology } from ${JSON.stringify(MODULE)};
await startTopology("sentinel", { dir: ${JSON.stringify(dir)}, port: ${PORT}, sentinelPort: ${PORT + 20000}, timeoutMs: 5000 })
  .then(() => process.exit(0), (error) => { console.error(error.message); process.exit(3); });`;
    try {
      expect(await strays()).toBe("");
      // The servers daemonize and write their pid files a moment later: a stop that came before the
      // file missed the server. The race went one way about once in three starts; ten give it room.
      for (let attempt = 0; attempt < 10; attempt++) {
        const child = Bun.spawn([process.execPath, "-e", start], { env: { PATH: bin }, stderr: "pipe" });
        expect(await child.exited).toBe(3);
        expect(await new Response(child.stderr).text()).toContain("redis-sentinel");
        await waitFor(async () => (await strays()) === "", "the failed start's servers to be gone", 5_000);
      }
    } finally {
      Bun.spawnSync(["pkill", "-f", `redis-server 127.0.0.1:(${PORT}|${PORT + 1})$`]);
      rmSync(bin, { recursive: true, force: true });
      rmSync(dir, { recursive: true, force: true });
    }
  }, 60_000);
});
