import { existsSync, readdirSync, readFileSync, statSync } from "node:fs";
import { join, relative, resolve } from "node:path";
import { parse, parseAllDocuments } from "yaml";
import { settingRows } from "../../../../src/config/schema.ts";

/** The repository root: the delivery artifacts are read from where an operator would take them. */
export const ROOT = resolve(import.meta.dir, "../../../..");

export function readRepoFile(path: string): string {
  return readFileSync(join(ROOT, path), "utf8");
}

export function repoPathExists(path: string): boolean {
  return existsSync(join(ROOT, path));
}

export function isRepoDirectory(path: string): boolean {
  return statSync(join(ROOT, path)).isDirectory();
}

/** Every file under a repository folder, as repository-relative POSIX paths. */
export function filesUnder(path: string): string[] {
  const out: string[] = [];
  const walk = (dir: string) => {
    for (const entry of readdirSync(dir, { withFileTypes: true })) {
      const full = join(dir, entry.name);
      if (entry.isDirectory()) walk(full);
      else out.push(relative(ROOT, full).split("\\").join("/"));
    }
  };
  walk(join(ROOT, path));
  return out;
}

/** One YAML document; anchors and aliases resolved, as Compose and kubectl resolve them. */
export function parseYaml<T>(text: string): T {
  return parse(text) as T;
}

export function loadYaml<T>(path: string): T {
  return parseYaml<T>(readRepoFile(path));
}

export function loadYamlDocuments<T>(path: string): T[] {
  const documents = parseAllDocuments(readRepoFile(path));
  if (!Array.isArray(documents)) throw new Error(`${path}: no YAML documents`);
  return documents.map((document) => {
    if (document.errors.length > 0) throw new Error(`${path}: ${document.errors[0]?.message}`);
    return document.toJS() as T;
  });
}

/** Names an environment given to the service may use: exactly the variables of the table of settings. */
export const KNOWN_ENV_VARS: ReadonlySet<string> = new Set(settingRows.map((row) => row.setting.env));

/** The Bun version every artifact must use: the one package.json pins. */
export function pinnedBunVersion(): string {
  const pkg = JSON.parse(readRepoFile("package.json")) as { packageManager?: string };
  const match = /^bun@(\d+\.\d+\.\d+)$/.exec(pkg.packageManager ?? "");
  if (!match?.[1]) throw new Error(`package.json packageManager is not bun@x.y.z: ${pkg.packageManager}`);
  return match[1];
}

export function packageScripts(): Record<string, string> {
  return (JSON.parse(readRepoFile("package.json")) as { scripts?: Record<string, string> }).scripts ?? {};
}
