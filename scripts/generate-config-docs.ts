/**
 * Writes docs/configuration.md and .env.example from src/config. With --check, writes nothing and
 * exits 1 when the committed files differ from a fresh generation (CI drift check).
 */
import { configurationMarkdown, envExample } from "./lib/config-docs.ts";

const root = new URL("..", import.meta.url).pathname;
const outputs = [
  [`${root}docs/configuration.md`, configurationMarkdown()],
  [`${root}.env.example`, envExample()],
] as const;

const check = process.argv.includes("--check");
let drift = false;
for (const [path, content] of outputs) {
  const file = Bun.file(path);
  const current = (await file.exists()) ? await file.text() : "";
  if (current === content) continue;
  if (check) {
    console.error(`${path} is out of date; run: bun run generate-config-docs`);
    drift = true;
  } else {
    await Bun.write(path, content);
    console.log(`wrote ${path}`);
  }
}
process.exit(drift ? 1 : 0);
