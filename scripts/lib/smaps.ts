import { realpath } from "node:fs/promises";

/**
 * A process's resident memory by kind of mapping, from /proc/<pid>/smaps: Bun's executable (file
 * pages), other files, the JIT's executable anonymous memory, the stacks, and the rest of the
 * anonymous memory split by mapping size (large reservations are the allocators' heaps). MiB.
 */
export async function residentByKind(pid: number): Promise<Record<string, number>> {
  const [text, executable] = await Promise.all([
    Bun.file(`/proc/${pid}/smaps`).text(),
    realpath(`/proc/${pid}/exe`),
  ]);
  const sums: Record<string, number> = {};
  let kind = "";
  for (const line of text.split("\n")) {
    const header = /^([0-9a-f]+)-([0-9a-f]+) (\S+) \S+ \S+ \d+\s*(.*)$/.exec(line);
    if (header) {
      const [, from, to, perms, path] = header as unknown as [string, string, string, string, string];
      const mib = (Number.parseInt(to, 16) - Number.parseInt(from, 16)) / 1048576;
      if (path === executable) kind = "Bun's executable";
      else if (path.startsWith("/")) kind = "other files";
      else if (path === "[stack]" || path.startsWith("[stack")) kind = "stacks";
      else if (path === "[heap]") kind = "brk heap (malloc)";
      else if (perms.includes("x")) kind = "anonymous, executable (JIT)";
      else if (mib >= 64) kind = "anonymous, mappings ≥ 64 MiB (allocator reservations)";
      else if (mib >= 1) kind = "anonymous, mappings 1–64 MiB";
      else kind = "anonymous, mappings < 1 MiB";
      continue;
    }
    const rss = /^Rss:\s+(\d+) kB/.exec(line);
    if (rss && kind) sums[kind] = (sums[kind] ?? 0) + Number(rss[1]) / 1024;
  }
  return sums;
}
