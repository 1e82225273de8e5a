/**
 * Writes docs/openapi.json and docs/openapi.yaml from the service's own route table and zod schemas
 * (the document GET / serves). `--json` or `--yaml` writes one; `--check` writes nothing and exits 1
 * when a committed file differs from a fresh generation. `--dir <path>` reads and writes there instead
 * of docs/ (the drift check's own tests). `--verbose` also names the files left as they were and lists
 * every documented operation with its answers.
 *
 * The documented configuration mounts everything that can exist: debug and profiling endpoints,
 * the gateway secret, the debug and admin tokens (placeholders; the document never contains their
 * values), the admin routes, and the JWKS of service-key mode (with a key made for the run).
 */
import { generateKeyPairSync } from "node:crypto";
import { resolve } from "node:path";
import { stringify } from "yaml";
import { createApp } from "../src/app.ts";
import { loadConfig } from "../src/config/index.ts";

const config = loadConfig({
  // Stryker disable next-line StringLiteral: development is also the default; stated because it must not be production.
  NODE_ENV: "development",
  KONG_ADMIN_URL: "http://kong-admin:8001",
  KONG_JWT_AUTHORITY: "https://sts.example.com/",
  KONG_JWT_AUDIENCE: "https://api.example.com/",
  PROFILING_ENABLED: "true",
  TRUSTED_GATEWAY_SECRET: "documentation-placeholder-not-a-secret-0000",
  DEBUG_TOKEN: "documentation-placeholder-token",
  ADMIN_TOKEN: "documentation-placeholder-admin-token-0000",
  SIGNING_MODE: "service-keys",
  SERVICE_KEYS_JWKS: JSON.stringify({
    keys: [{ ...generateKeyPairSync("ed25519").privateKey.export({ format: "jwk" }), kid: "documentation" }],
  }),
});
const app = createApp(config);
// Stryker disable next-line MethodExpression: flags are found by value; the runtime and script paths are never one.
const args = process.argv.slice(2);
const dirIndex = args.indexOf("--dir");
const dir =
  dirIndex >= 0 ? resolve(args[dirIndex + 1] as string) : new URL("../docs", import.meta.url).pathname;
const outputs = {
  json: [`${dir}/openapi.json`, `${JSON.stringify(app.document, null, 2)}\n`],
  yaml: [`${dir}/openapi.yaml`, stringify(app.document)],
} as const;

const check = args.includes("--check");
const verbose = args.includes("--verbose");
const selected = (["json", "yaml"] as const).filter((format) => args.includes(`--${format}`));
let drift = false;
for (const format of selected.length > 0 ? selected : (["json", "yaml"] as const)) {
  const [path, content] = outputs[format];
  const file = Bun.file(path);
  const current = (await file.exists()) ? await file.text() : undefined;
  if (current === content) {
    if (verbose) console.log(`unchanged ${path}`);
    continue;
  }
  if (check) {
    console.error(`${path} differs from the running service's document; run: bun run generate-docs`);
    drift = true;
  } else {
    await Bun.write(path, content);
    console.log(`wrote ${path}`);
  }
}
if (verbose) {
  for (const [path, operations] of Object.entries(app.document.paths ?? {})) {
    for (const [method, operation] of Object.entries(operations as Record<string, { responses?: object }>)) {
      console.log(
        `${method.toUpperCase().padEnd(7)} ${path}  ${Object.keys(operation.responses ?? {}).join(" ")}`,
      );
    }
  }
}
await app.close(0);
process.exit(drift ? 1 : 0);
