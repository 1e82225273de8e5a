import { describe, expect, test } from "bun:test";
import { countLines, MAX_FILE_LINES, MAX_FUNCTION_LINES, measure } from "../../scripts/check-size.ts";
import { configurationMarkdown, envExample } from "../../scripts/lib/config-docs.ts";
import { settingRows } from "../../src/config/schema.ts";

const root = new URL("../../", import.meta.url).pathname;
const read = (path: string) => Bun.file(root + path).text();

describe("generated files match the code", () => {
  test("docs/configuration.md is what bun run generate-config-docs writes", async () => {
    expect(await read("docs/configuration.md")).toBe(configurationMarkdown());
  });

  test(".env.example lists every variable once, with its default", async () => {
    const example = await read(".env.example");
    expect(example).toBe(envExample());
    for (const { setting } of settingRows) {
      expect(example.match(new RegExp(`^${setting.env}=`, "gm"))).toHaveLength(1);
    }
    expect(example).toContain("JWT_EXPIRATION_MINUTES=15");
  });

  test("every variable a rule holds for is named where docs/configuration.md lists the rules", () => {
    const rules = configurationMarkdown().split("## Rules in production")[1] ?? "";
    const production = rules.split("## Rules in staging")[0] ?? "";
    for (const { setting } of settingRows) {
      // Named in code format, alone or with a value (`HIGH_AVAILABILITY=true`).
      const named = new RegExp(`\`${setting.env}[\`=]`);
      if (setting.production) expect(production, setting.env).toMatch(named);
      if (setting.rules) expect(rules, setting.env).toMatch(named);
    }
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

/** Every mention of the Kong facts in these files must be a citation `docs/kong-facts.md#<anchor>`. */
const CITING = new Bun.Glob("{src,test,scripts}/**/*.{ts,js,mjs,sh,md}");
/** This file names the document to check it, without citing it. */
const SELF = "test/unit/tooling.test.ts";

describe("docs/kong-facts.md, the Kong facts the code cites", () => {
  const anchorsOf = (doc: string) =>
    [...doc.matchAll(/<a id="([a-z0-9-]+)"><\/a>/g)].map((match) => match[1]);

  test("every citation in src/, test/ and scripts/ names a section the document has", async () => {
    const anchors = new Set(anchorsOf(await read("docs/kong-facts.md")));
    const broken: string[] = [];
    let citations = 0;
    for await (const path of CITING.scan(root)) {
      if (path === SELF) continue;
      // Any mention, so an old one ("kong-facts §3", a path outside the repository) fails too.
      for (const [mention] of (await read(path)).matchAll(/[\w./-]*kong-facts[\w.#§–-]*/g)) {
        const anchor = /^docs\/kong-facts\.md#([a-z0-9-]+)$/.exec(mention.replace(/\.+$/, ""))?.[1];
        if (anchor !== undefined && anchors.has(anchor)) citations++;
        else broken.push(`${path}: ${mention}`);
      }
    }
    expect(broken).toEqual([]);
    expect(citations).toBeGreaterThan(0);
  });

  test("its anchors are unique, and its own links lead to them", async () => {
    const doc = await read("docs/kong-facts.md");
    const anchors = anchorsOf(doc);
    expect(anchors.length).toBe(new Set(anchors).size);
    const links = [...doc.matchAll(/\]\(#([^)]+)\)/g)].map((match) => match[1]);
    expect(links.filter((link) => !anchors.includes(link))).toEqual([]);
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

describe("sizes in src/ (bun scripts/check-size.ts)", () => {
  const root = new URL("../..", import.meta.url).pathname;
  const report = measure(root);

  test(`no file over ${MAX_FILE_LINES} lines`, () => {
    expect(report.files.filter((file) => file.lines > MAX_FILE_LINES)).toEqual([]);
  });

  test(`no function over ${MAX_FUNCTION_LINES} lines`, () => {
    expect(report.functions.filter((fn) => fn.lines > MAX_FUNCTION_LINES)).toEqual([]);
  });

  test("a file's lines: the last newline ends a line, and Stryker's // @ts-nocheck is not counted", () => {
    expect(countLines("a\nb\n")).toBe(2);
    expect(countLines("a\nb")).toBe(2);
    expect(countLines("// @ts-nocheck\na\n\nb\n")).toBe(3);
    expect(countLines("a\n// @ts-nocheck\nb\n")).toBe(2);
  });

  test("the measure sees every function, nested ones included", () => {
    const long = measure(root, 0).functions;
    expect(long.some((fn) => fn.file === "src/handlers/health.ts" && fn.name === "canFallBack")).toBe(true);
    expect(long.every((fn) => fn.lines >= 1)).toBe(true);
  });
});
