import { existsSync, readdirSync, readFileSync, statSync } from "node:fs";
import { join, relative, resolve } from "node:path";
import { parse, parseAllDocuments } from "yaml";
import { envBindings } from "../../../../src/config/env.ts";

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

/**
 * Variables the service is about to read (being added to src/config/env.ts by its owners). Once a name
 * is in envBindings this list no longer matters for it; remove it from here when that happens.
 */
export const PLANNED_ENV_VARS = [
  "TRUSTED_GATEWAY_SECRET",
  "TRUSTED_GATEWAY_HEADER",
  "TRUSTED_PROXY_CIDRS",
  "ALLOW_UNVERIFIED_GATEWAY",
  "TELEMETRY_MODE",
  "OTEL_SERVICE_NAME",
  "OTEL_SERVICE_VERSION",
  "OTEL_EXPORTER_OTLP_ENDPOINT",
  "OTEL_EXPORTER_OTLP_TRACES_ENDPOINT",
  "OTEL_EXPORTER_OTLP_METRICS_ENDPOINT",
  "OTEL_EXPORTER_OTLP_LOGS_ENDPOINT",
  "OTEL_EXPORTER_OTLP_TIMEOUT",
  "RATE_LIMIT_WINDOW_MS",
  "RATE_LIMIT_MAX_REQUESTS",
  "KONG_CONNECTION_POOL_SIZE",
  "DEBUG_TOKEN",
  "PROFILING_ENABLED",
] as const;

/** Names an environment given to the service may use: what it reads today plus what is planned. */
export const KNOWN_ENV_VARS: ReadonlySet<string> = new Set([
  ...envBindings.map((binding) => binding.name),
  ...PLANNED_ENV_VARS,
]);

/** The default of a variable in envBindings, read from the service's own defaults; undefined if none. */
export function serviceDefault(name: string, defaults: object): unknown {
  const binding = envBindings.find((candidate) => candidate.name === name);
  if (!binding) return undefined;
  const [section, key] = binding.path;
  return (defaults as Record<string, Record<string, unknown> | undefined>)[section]?.[key];
}

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
