/**
 * The build context Docker sends for a given .dockerignore: patterns are matched in order against a
 * path and each of its parent folders, `!` re-includes, and the last matching pattern wins.
 */
interface Rule {
  readonly pattern: RegExp;
  readonly include: boolean;
}

function globToRegExp(glob: string): RegExp {
  let source = "";
  for (let i = 0; i < glob.length; i++) {
    const char = glob[i] as string;
    if (char === "*" && glob[i + 1] === "*") {
      source += ".*";
      i++;
      if (glob[i + 1] === "/") i++;
    } else if (char === "*") source += "[^/]*";
    else if (char === "?") source += "[^/]";
    else source += char.replace(/[.+^${}()|[\]\\]/g, "\\$&");
  }
  return new RegExp(`^${source}$`);
}

export function parseDockerignore(text: string): Rule[] {
  return text
    .split("\n")
    .map((line) => line.trim())
    .filter((line) => line !== "" && !line.startsWith("#"))
    .map((line) => {
      const include = line.startsWith("!");
      const cleaned = (include ? line.slice(1) : line).trim().replace(/^\/+/, "").replace(/\/+$/, "");
      return { pattern: globToRegExp(cleaned), include };
    });
}

/** True when `path` (repository-relative, POSIX) reaches the builder. */
export function inBuildContext(rules: readonly Rule[], path: string): boolean {
  const parts = path.split("/");
  const candidates = parts.map((_, i) => parts.slice(0, i + 1).join("/"));
  let included = true;
  for (const rule of rules) {
    if (candidates.some((candidate) => rule.pattern.test(candidate))) included = rule.include;
  }
  return included;
}
