import { describe, expect, test } from "bun:test";
import { fraction, parseDuration } from "../../k6/utils/durations.ts";

const root = new URL("../../../", import.meta.url).pathname;
const read = (path: string) => Bun.file(root + path).text();
const pkg = JSON.parse(await read("package.json")) as { scripts: Record<string, string> };
const k6Scripts = Object.entries(pkg.scripts).filter(([name]) => name.startsWith("k6:"));
const runK6 = /^bash scripts\/run-k6\.sh (\S+\.ts) (\S+\.json) (true|false)$/;

async function k6Sources(): Promise<Map<string, string>> {
  const sources = new Map<string, string>();
  for await (const path of new Bun.Glob("test/k6/**/*.ts").scan(root)) sources.set(path, await read(path));
  return sources;
}

/** A suite needs Kong consumers when it reaches the consumer list, directly or through a helper. */
function usesConsumers(path: string, sources: Map<string, string>): boolean {
  return /from "\.\.\/utils\/consumers\.ts"/.test(sources.get(path) ?? "");
}

describe("package k6 scripts", () => {
  test("the specification's script names exist", () => {
    const names = k6Scripts.map(([name]) => name);
    for (const name of [
      "k6:smoke:health",
      "k6:smoke:tokens",
      "k6:load",
      "k6:stress",
      "k6:spike",
      "k6:quick",
      "k6:full",
      "k6:info",
    ]) {
      expect(names).toContain(name);
    }
    expect(pkg.scripts["typecheck:k6"]).toBe("tsc -p test/k6/tsconfig.json --noEmit");
  });

  test("each suite script runs an existing k6 file, provisioning consumers exactly when it uses them", async () => {
    const sources = await k6Sources();
    const suites = k6Scripts.filter(([, command]) => command.includes("run-k6.sh test/"));
    expect(suites.length).toBeGreaterThanOrEqual(8);
    for (const [name, command] of suites) {
      const match = runK6.exec(command);
      if (!match) throw new Error(`${name}: unexpected command ${command}`);
      const [, file, result, provision] = match as unknown as [string, string, string, string];
      expect(sources.has(file)).toBe(true);
      expect(result).toStartWith("test/results/k6/");
      expect({ name, provision: provision === "true" }).toEqual({
        name,
        provision: usesConsumers(file, sources),
      });
    }
  });

  test("every suite file has a script, and the composite scripts name only existing ones", async () => {
    const suiteFiles = [...(await k6Sources()).keys()].filter((path) => !path.includes("/utils/"));
    const commands = k6Scripts.map(([, command]) => command).join("\n");
    for (const file of suiteFiles) expect(commands).toContain(file);
    for (const [, command] of k6Scripts) {
      for (const [, referenced] of command.matchAll(/bun run (\S+)/g))
        expect(pkg.scripts).toHaveProperty([referenced as string]);
    }
  });
});

describe("variables", () => {
  test("every variable the suites and run-k6.sh read is documented in test/k6/README.md, and vice versa", async () => {
    const readme = await read("test/k6/README.md");
    const documented = new Set(
      [...readme.matchAll(/^([A-Z][A-Z0-9_]*)=/gm)].map((match) => match[1] as string),
    );

    const used = new Set<string>();
    for (const source of (await k6Sources()).values()) {
      for (const [, name] of source.matchAll(/(?:text|number|integer|duration)\("([A-Z][A-Z0-9_]*)"/g))
        used.add(name as string);
      for (const [, name] of source.matchAll(/__ENV\["([A-Z][A-Z0-9_]*)"\]/g)) used.add(name as string);
      for (const [, prefix] of source.matchAll(/__ENV\[`([A-Z][A-Z0-9_]*)\$\{/g)) {
        for (let n = 1; n <= 5; n++) used.add(`${prefix}${n}`);
      }
    }
    const shell = await read("scripts/run-k6.sh");
    for (const [, name] of shell.matchAll(/\$\{((?:K6|KONG|TARGET)_[A-Z0-9_]*)[:}]/g))
      used.add(name as string);

    expect(used.size).toBeGreaterThan(30);
    expect([...used].filter((name) => !documented.has(name)).sort()).toEqual([]);
    expect([...documented].filter((name) => !used.has(name)).sort()).toEqual([]);
  });

  test("the documented defaults are the ones the suites use", async () => {
    const readme = await read("test/k6/README.md");
    const config = await read("test/k6/utils/config.ts");
    let checked = 0;
    for (const [, name, fallback] of config.matchAll(
      /(?:text|number|integer|duration)\("([A-Z][A-Z0-9_]*)", "?([^")]+)"?\)/g,
    )) {
      expect(readme).toContain(`\n${name}=${fallback}\n`);
      checked += 1;
    }
    expect(checked).toBeGreaterThanOrEqual(25);
  });
});

describe("durations", () => {
  test("k6 duration strings are read as seconds", () => {
    expect(parseDuration("3m")).toBe(180);
    expect(parseDuration("1m30s")).toBe(90);
    expect(parseDuration("500ms")).toBe(0.5);
    expect(parseDuration("1h")).toBe(3600);
    for (const bad of ["", "5", "5 m", "m", "-1s", "5d", "1m 30s"])
      expect(() => parseDuration(bad)).toThrow();
  });

  test("stage lengths are whole seconds, at least one", () => {
    expect(fraction("5m", 1 / 5)).toBe("60s");
    expect(fraction("3m", 1 / 3)).toBe("60s");
    expect(fraction("2s", 1 / 5)).toBe("1s");
  });
});

describe("type-checking", () => {
  test("the suites type-check against @types/k6 (bun run typecheck:k6)", () => {
    const result = Bun.spawnSync(
      [`${root}node_modules/.bin/tsc`, "-p", "test/k6/tsconfig.json", "--noEmit"],
      {
        cwd: root,
      },
    );
    expect(result.stdout.toString() + result.stderr.toString()).toBe("");
    expect(result.exitCode).toBe(0);
  }, 60_000);
});
