/**
 * The size rules of the house (docs/architecture.md): no file in src/ over MAX_FILE_LINES lines, no
 * function over MAX_FUNCTION_LINES. Prints every breach and exits 1 when there is one.
 *
 *   bun scripts/check-size.ts            # check src/
 *   bun scripts/check-size.ts --list 40  # also list every function longer than 40 lines
 */
import { readdirSync, readFileSync } from "node:fs";
import { join, relative } from "node:path";
import ts from "typescript";

export const MAX_FILE_LINES = 300;
export const MAX_FUNCTION_LINES = 60;

export interface SizeReport {
  readonly files: ReadonlyArray<{ file: string; lines: number }>;
  readonly functions: ReadonlyArray<{ file: string; name: string; line: number; lines: number }>;
}

function sourceFiles(dir: string): string[] {
  return readdirSync(dir, { withFileTypes: true }).flatMap((entry) => {
    const path = join(dir, entry.name);
    if (entry.isDirectory()) return sourceFiles(path);
    return entry.name.endsWith(".ts") ? [path] : [];
  });
}

function nameOf(node: ts.Node, source: ts.SourceFile): string {
  const named = node as ts.Node & { name?: ts.Node };
  if (named.name) return named.name.getText(source);
  const parent = node.parent;
  if (parent && ts.isVariableDeclaration(parent)) return parent.name.getText(source);
  if (parent && ts.isPropertyAssignment(parent)) return parent.name.getText(source);
  return "(anonymous)";
}

function isFunction(node: ts.Node): boolean {
  return (
    ts.isFunctionDeclaration(node) ||
    ts.isFunctionExpression(node) ||
    ts.isArrowFunction(node) ||
    ts.isMethodDeclaration(node) ||
    ts.isConstructorDeclaration(node) ||
    ts.isGetAccessorDeclaration(node) ||
    ts.isSetAccessorDeclaration(node)
  );
}

/**
 * A file's lines, without the `// @ts-nocheck` line Stryker adds to every file it copies into its
 * sandbox (a file at the limit would otherwise fail the size test inside a mutation run).
 */
export function countLines(text: string): number {
  const lines = text.split("\n");
  if (text.endsWith("\n")) lines.pop();
  return lines.filter((line) => line !== "// @ts-nocheck").length;
}

/** Every file and function of `root`'s src/ with its length in lines. */
export function measure(root: string, over = 0): SizeReport {
  const files: Array<{ file: string; lines: number }> = [];
  const functions: Array<{ file: string; name: string; line: number; lines: number }> = [];
  for (const path of sourceFiles(join(root, "src"))) {
    const text = readFileSync(path, "utf8");
    const file = relative(root, path);
    files.push({ file, lines: countLines(text) });
    const source = ts.createSourceFile(path, text, ts.ScriptTarget.Latest, true);
    const visit = (node: ts.Node): void => {
      if (isFunction(node)) {
        const start = source.getLineAndCharacterOfPosition(node.getStart(source)).line;
        const end = source.getLineAndCharacterOfPosition(node.getEnd()).line;
        if (end - start + 1 > over) {
          functions.push({ file, name: nameOf(node, source), line: start + 1, lines: end - start + 1 });
        }
      }
      ts.forEachChild(node, visit);
    };
    visit(source);
  }
  return { files, functions };
}

if (import.meta.main) {
  const listAt = process.argv.indexOf("--list");
  const over = listAt > 0 ? Number(process.argv[listAt + 1]) : MAX_FUNCTION_LINES;
  const root = join(import.meta.dir, "..");
  const report = measure(root, Math.min(over, MAX_FUNCTION_LINES));
  const total = report.files.reduce((sum, file) => sum + file.lines, 0);
  let breaches = 0;
  for (const file of report.files.filter((entry) => entry.lines > MAX_FILE_LINES)) {
    breaches++;
    console.log(`file     ${file.file}: ${file.lines} lines (max ${MAX_FILE_LINES})`);
  }
  for (const fn of [...report.functions].sort((a, b) => b.lines - a.lines)) {
    const breach = fn.lines > MAX_FUNCTION_LINES;
    if (breach) breaches++;
    if (breach || fn.lines > over) {
      console.log(`${breach ? "function" : "long    "} ${fn.file}:${fn.line} ${fn.name}: ${fn.lines} lines`);
    }
  }
  console.log(`src/: ${report.files.length} files, ${total} lines; ${breaches} over the limits`);
  process.exit(breaches > 0 ? 1 : 0);
}
