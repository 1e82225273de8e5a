/**
 * Writes docs/openapi.json and docs/openapi.yaml from the service's own route table and zod schemas
 * (the document GET / serves). `--json` or `--yaml` writes one; `--check` writes nothing and exits 1
 * when a committed file differs from a fresh generation.
 *
 * The documented configuration mounts everything that can exist: debug and profiling endpoints,
 * the gateway secret and the debug token (placeholders; the document never contains their values).
 */
import { stringify } from "yaml";
import { createApp } from "../src/app.ts";
import { loadConfig } from "../src/config/index.ts";

const config = loadConfig({
  NODE_ENV: "development",
  LOG_LEVEL: "error",
  KONG_ADMIN_URL: "http://kong-admin:8001",
  KONG_JWT_AUTHORITY: "https://sts.example.com/",
  KONG_JWT_AUDIENCE: "https://api.example.com/",
  PROFILING_ENABLED: "true",
  TRUSTED_GATEWAY_SECRET: "documentation-placeholder-not-a-secret-0000",
  DEBUG_TOKEN: "documentation-placeholder-token",
});
const app = createApp(config);
const root = new URL("..", import.meta.url).pathname;
const outputs = {
  json: [`${root}docs/openapi.json`, `${JSON.stringify(app.document, null, 2)}\n`],
  yaml: [`${root}docs/openapi.yaml`, stringify(app.document)],
} as const;

const args = process.argv.slice(2);
const check = args.includes("--check");
const selected = (["json", "yaml"] as const).filter((format) => args.includes(`--${format}`));
let drift = false;
for (const format of selected.length > 0 ? selected : (["json", "yaml"] as const)) {
  const [path, content] = outputs[format];
  const file = Bun.file(path);
  const current = (await file.exists()) ? await file.text() : "";
  if (current === content) continue;
  if (check) {
    console.error(`${path} differs from the running service's document; run: bun run generate-docs`);
    drift = true;
  } else {
    await Bun.write(path, content);
    console.log(`wrote ${path}`);
  }
}
await app.close(0);
process.exit(drift ? 1 : 0);
