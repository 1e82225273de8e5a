import { describe, expect, test } from "bun:test";
import { configurationMarkdown, envExample } from "../../scripts/lib/config-docs.ts";
import { envBindings } from "../../src/config/env.ts";

const root = new URL("../../", import.meta.url).pathname;
const read = (path: string) => Bun.file(root + path).text();

describe("generated files match the code", () => {
  test("docs/configuration.md is what bun run generate-config-docs writes", async () => {
    expect(await read("docs/configuration.md")).toBe(configurationMarkdown());
  });

  test(".env.example lists every variable once, with its default", async () => {
    const example = await read(".env.example");
    expect(example).toBe(envExample());
    for (const { name } of envBindings) expect(example.match(new RegExp(`^${name}=`, "gm"))).toHaveLength(1);
    expect(example).toContain("JWT_EXPIRATION_MINUTES=15");
  });

  test("no code outside src/config reads process.env", async () => {
    const glob = new Bun.Glob("src/**/*.ts");
    const offenders: string[] = [];
    for await (const path of glob.scan(root)) {
      if (path.startsWith("src/config/")) continue;
      const text = await read(path);
      if (/process\.env\b/.test(text.replace(/loadConfig\(\)/g, ""))) offenders.push(path);
    }
    expect(offenders).toEqual([]);
  });
});

describe("lint configuration", () => {
  test(".biomeignore and biome.json ignore the same paths", async () => {
    const ignored = (await read(".biomeignore"))
      .split("\n")
      .map((line) => line.trim())
      .filter((line) => line && !line.startsWith("#"));
    const biome = JSON.parse(await read("biome.json")) as { files: { includes: string[] } };
    const excluded = biome.files.includes
      .filter((pattern) => pattern.startsWith("!"))
      .map((pattern) => pattern.replace(/^!+/, "").replace(/^\*\*\//, ""));
    expect(excluded.sort()).toEqual(ignored.sort());
  });
});
