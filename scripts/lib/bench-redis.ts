import { freePort } from "../../test/support/process.ts";

/**
 * A throw-away Redis for the benchmark's HA run: TLS and a password, because production
 * configuration refuses plain redis://. Uses the same self-signed certificate as the Kong emulator.
 */
export async function startBenchRedis(tls: { address: string; certPath: string; keyPath: string }) {
  const port = await freePort();
  const password = crypto.randomUUID();
  const child = Bun.spawn(
    ["redis-server", "--port", "0", "--tls-port", String(port), "--bind", tls.address]
      .concat([
        "--tls-cert-file",
        tls.certPath,
        "--tls-key-file",
        tls.keyPath,
        "--tls-ca-cert-file",
        tls.certPath,
      ])
      .concat(["--tls-auth-clients", "no", "--requirepass", password, "--save", "", "--appendonly", "no"]),
    { stdout: "ignore", stderr: "inherit" },
  );
  await Bun.sleep(200);
  if (child.exitCode !== null)
    throw new Error("redis-server (TLS) did not start; is redis-server installed?");
  return {
    url: `rediss://${tls.address}:${port}`,
    password,
    async stop() {
      child.kill();
      await child.exited;
    },
  };
}
