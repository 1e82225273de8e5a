import { mkdtempSync } from "node:fs";
import { networkInterfaces, tmpdir } from "node:os";
import { join } from "node:path";

/**
 * Production configuration refuses http and loopback Admin URLs, so the benchmark's Kong emulator
 * listens with a throw-away self-signed certificate on this machine's first non-loopback address.
 */
export function benchTls() {
  const address = Object.values(networkInterfaces())
    .flat()
    .find((entry) => entry && entry.family === "IPv4" && !entry.internal)?.address;
  if (!address) throw new Error("no non-loopback IPv4 address to serve the Kong emulator on");
  const dir = mkdtempSync(join(tmpdir(), "bench-tls-"));
  const cert = join(dir, "cert.pem");
  const key = join(dir, "key.pem");
  const openssl = Bun.spawnSync(
    ["openssl", "req", "-x509", "-newkey", "ec", "-pkeyopt", "ec_paramgen_curve:prime256v1", "-nodes"]
      .concat(["-keyout", key, "-out", cert, "-days", "1", "-subj", "/CN=kong-bench"])
      .concat(["-addext", `subjectAltName=IP:${address}`]),
    { stdout: "ignore", stderr: "pipe" },
  );
  if (openssl.exitCode !== 0) throw new Error(`openssl failed: ${openssl.stderr.toString()}`);
  return { address, certPath: cert, keyPath: key };
}
