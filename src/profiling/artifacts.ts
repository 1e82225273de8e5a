import { mkdir, readdir, stat, unlink } from "node:fs/promises";
import { join } from "node:path";

export type ArtifactKind = "cpuprofile" | "heapsnapshot";

export interface Artifact {
  readonly name: string;
  readonly kind: ArtifactKind;
  readonly bytes: number;
  readonly createdAt: string;
}

/**
 * The only names this store writes, reads, lists or deletes. Anything else in the directory
 * (a `..`, a slash, a file someone dropped there) is invisible to it: that is what keeps
 * `GET /debug/profiling/reports/{name}` from becoming a file server.
 */
const ARTIFACT_NAME = /^profile-\d{8}T\d{9}Z-[0-9a-f]{6}\.(cpuprofile|heapsnapshot)$/;

/** `profile-20250115T120000123Z-a1b2c3`: sortable by time, unique enough for one process. */
export function newSessionId(at: Date): string {
  const stamp = at.toISOString().replace(/[-:.]/g, "");
  const random = crypto.getRandomValues(new Uint8Array(3));
  return `profile-${stamp}-${Buffer.from(random).toString("hex")}`;
}

export function artifactKindOf(name: string): ArtifactKind | undefined {
  const match = ARTIFACT_NAME.exec(name);
  return match ? (match[1] as ArtifactKind) : undefined;
}

/** Profiling artifacts in one directory, kept under a total size by deleting the oldest first. */
export class ArtifactStore {
  constructor(
    readonly directory: string,
    readonly maxTotalBytes: number,
  ) {}

  /** The path of an artifact this store could have produced, or undefined for any other name. */
  pathOf(name: string): string | undefined {
    return artifactKindOf(name) ? join(this.directory, name) : undefined;
  }

  async write(name: string, data: string | ArrayBuffer): Promise<Artifact> {
    const path = this.pathOf(name);
    if (!path) throw new Error(`not an artifact name: ${name}`);
    await mkdir(this.directory, { recursive: true });
    await Bun.write(path, data);
    return this.describe(name);
  }

  /** Newest first. A missing directory is an empty list, not an error. */
  async list(): Promise<Artifact[]> {
    let names: string[];
    try {
      names = await readdir(this.directory);
    } catch (error) {
      if ((error as NodeJS.ErrnoException).code === "ENOENT") return [];
      throw error;
    }
    const artifacts = await Promise.all(
      names.filter((name) => artifactKindOf(name)).map((name) => this.describe(name).catch(() => undefined)),
    );
    return artifacts
      .filter((artifact): artifact is Artifact => artifact !== undefined)
      .sort((a, b) => (a.name < b.name ? 1 : a.name > b.name ? -1 : 0));
  }

  /** Deletes the oldest artifacts (never those in `keep`) until the total fits the budget. */
  async enforceBudget(keep: ReadonlySet<string>): Promise<string[]> {
    const artifacts = await this.list();
    let total = artifacts.reduce((sum, artifact) => sum + artifact.bytes, 0);
    const deleted: string[] = [];
    for (const artifact of artifacts.toReversed()) {
      if (total <= this.maxTotalBytes) break;
      if (keep.has(artifact.name)) continue;
      if (await this.remove(artifact.name)) {
        total -= artifact.bytes;
        deleted.push(artifact.name);
      }
    }
    return deleted;
  }

  async clear(): Promise<{ deleted: string[]; freedBytes: number }> {
    const deleted: string[] = [];
    let freedBytes = 0;
    for (const artifact of await this.list()) {
      if (await this.remove(artifact.name)) {
        deleted.push(artifact.name);
        freedBytes += artifact.bytes;
      }
    }
    return { deleted, freedBytes };
  }

  private async describe(name: string): Promise<Artifact> {
    const info = await stat(join(this.directory, name));
    return {
      name,
      kind: artifactKindOf(name) as ArtifactKind,
      bytes: info.size,
      createdAt: info.mtime.toISOString(),
    };
  }

  private async remove(name: string): Promise<boolean> {
    try {
      await unlink(join(this.directory, name));
      return true;
    } catch (error) {
      if ((error as NodeJS.ErrnoException).code === "ENOENT") return false;
      throw error;
    }
  }
}
