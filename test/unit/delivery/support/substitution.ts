import { parseYaml } from "./repo.ts";

/**
 * Compose's interpolation of `${VAR}`, `${VAR:-default}`, `${VAR-default}`, `${VAR:?message}` and
 * `$$`, applied to every string of a parsed file (the shell environment is `env`).
 */
export function interpolateCompose<T>(value: T, env: Readonly<Record<string, string>> = {}): T {
  const expand = (text: string) =>
    text.replace(
      /\$\$|\$\{([A-Za-z_][A-Za-z0-9_]*)(?:(:?)([-?])((?:[^}])*))?\}/g,
      (whole, name?: string, colon?: string, operator?: string, operand?: string) => {
        if (whole === "$$") return "$";
        const current = env[name as string];
        const unset = current === undefined || (colon === ":" && current === "");
        if (!unset) return current as string;
        if (operator === "-") return operand ?? "";
        if (operator === "?") throw new Error(`${name}: ${operand || "required"}`);
        return "";
      },
    );
  const walk = (node: unknown): unknown => {
    if (typeof node === "string") return expand(node);
    if (Array.isArray(node)) return node.map(walk);
    if (node && typeof node === "object") {
      return Object.fromEntries(Object.entries(node).map(([key, child]) => [key, walk(child)]));
    }
    return node;
  };
  return walk(value) as T;
}

const DECK_ENV_REFERENCE = /\$\{\{\s*env\s+"([^"]+)"\s*\}\}/g;

/** The DECK_* variables a decK file references, in order of first use. */
export function deckEnvReferences(text: string): string[] {
  return [...new Set([...text.matchAll(DECK_ENV_REFERENCE)].map((match) => match[1] as string))];
}

/**
 * What `deck file render --populate-env-vars` does to the environment references of a file: each is
 * replaced by its value, a missing variable is an error, and decK only reads variables named DECK_*.
 */
export function renderDeckFile<T>(text: string, env: Readonly<Record<string, string>>): T {
  const rendered = text.replace(DECK_ENV_REFERENCE, (_whole, name: string) => {
    if (!name.startsWith("DECK_")) throw new Error(`decK reads only DECK_* variables, not ${name}`);
    const value = env[name];
    if (value === undefined) throw new Error(`${name} is not set`);
    return value;
  });
  if (rendered.includes("${{")) throw new Error("a decK template expression other than env is left");
  return parseYaml<T>(rendered);
}
