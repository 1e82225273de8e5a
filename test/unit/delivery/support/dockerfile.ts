/**
 * Just enough of the Dockerfile grammar to check this repository's Dockerfile: line continuations,
 * comments, global ARGs with defaults, stages, `--flag=value` options, exec (JSON) and shell forms.
 */
export interface Instruction {
  readonly keyword: string;
  /** The arguments after the keyword and its flags, continuations joined. */
  readonly args: string;
  readonly flags: Readonly<Record<string, string>>;
  readonly line: number;
}

export interface Stage {
  readonly index: number;
  readonly name: string | undefined;
  /** The base image with global ARG defaults substituted. */
  readonly image: string;
  readonly platform: string | undefined;
  readonly instructions: readonly Instruction[];
}

export interface Dockerfile {
  readonly globalArgs: Readonly<Record<string, string>>;
  readonly stages: readonly Stage[];
}

function logicalLines(text: string): { text: string; line: number }[] {
  const out: { text: string; line: number }[] = [];
  let current = "";
  let start = 0;
  text.split("\n").forEach((raw, index) => {
    const trimmed = raw.trim();
    // Comment lines are dropped, also in the middle of a continued instruction (Docker does the same).
    if (trimmed.startsWith("#") || (trimmed === "" && current === "")) return;
    if (current === "") start = index + 1;
    if (trimmed.endsWith("\\")) {
      current += `${trimmed.slice(0, -1)} `;
      return;
    }
    current += trimmed;
    if (current.trim() !== "") out.push({ text: current.trim(), line: start });
    current = "";
  });
  if (current.trim() !== "") out.push({ text: current.trim(), line: start });
  return out;
}

function splitFlags(rest: string): { flags: Record<string, string>; args: string } {
  const flags: Record<string, string> = {};
  let args = rest;
  for (;;) {
    const match = /^--([a-z-]+)(?:=(\S*))?\s*/.exec(args);
    if (!match?.[1]) break;
    flags[match[1]] = match[2] ?? "true";
    args = args.slice(match[0].length);
  }
  return { flags, args };
}

export function substitute(value: string, variables: Readonly<Record<string, string>>): string {
  return value.replace(
    /\$\{?([A-Za-z_][A-Za-z0-9_]*)\}?/g,
    (whole, name: string) => variables[name] ?? whole,
  );
}

export function parseDockerfile(text: string): Dockerfile {
  const globalArgs: Record<string, string> = {};
  const stages: {
    index: number;
    name: string | undefined;
    image: string;
    platform: string | undefined;
    instructions: Instruction[];
  }[] = [];
  for (const { text: lineText, line } of logicalLines(text)) {
    const match = /^(\S+)\s*(.*)$/.exec(lineText);
    if (!match?.[1]) continue;
    const keyword = match[1].toUpperCase();
    const { flags, args } = splitFlags(match[2] ?? "");
    if (keyword === "FROM") {
      const [image = "", as, name] = args.split(/\s+/);
      stages.push({
        index: stages.length,
        name: as?.toUpperCase() === "AS" ? name : undefined,
        image: substitute(image, globalArgs),
        platform: flags.platform,
        instructions: [],
      });
      continue;
    }
    const stage = stages.at(-1);
    if (!stage) {
      if (keyword === "ARG") {
        const [name = "", value = ""] = args.split("=", 2);
        globalArgs[name] = value;
      }
      continue;
    }
    stage.instructions.push({ keyword, args, flags, line });
  }
  return { globalArgs, stages };
}

/** `["a", "b"]` is the exec form; anything else is the shell form, run by /bin/sh -c. */
export function execForm(args: string): string[] | undefined {
  if (!args.startsWith("[")) return undefined;
  const parsed: unknown = JSON.parse(args);
  return Array.isArray(parsed) && parsed.every((item) => typeof item === "string") ? parsed : undefined;
}

/** COPY/ADD sources and destination (this Dockerfile never quotes paths or uses the JSON form). */
export function copyPaths(instruction: Instruction): { sources: string[]; destination: string } {
  const parts = instruction.args.split(/\s+/).filter(Boolean);
  const destination = parts.pop() ?? "";
  return { sources: parts, destination };
}

/** `ENV A=1 B=2` (unquoted values, as in this Dockerfile). */
export function envPairs(instruction: Instruction): Record<string, string> {
  const out: Record<string, string> = {};
  for (const pair of instruction.args.split(/\s+/).filter(Boolean)) {
    const at = pair.indexOf("=");
    if (at > 0) out[pair.slice(0, at)] = pair.slice(at + 1);
  }
  return out;
}
