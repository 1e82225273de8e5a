import { type Artifact, ArtifactStore, newSessionId } from "./artifacts.ts";
import { type CpuSampler, InspectorCpuSampler } from "./cpu-sampler.ts";

export const DEFAULT_MAX_SESSION_MS = 5 * 60_000;
export const DEFAULT_MAX_TOTAL_BYTES = 200 * 1024 * 1024;
/** Bun's own default for `--cpu-prof-interval`: fine enough for a request path, cheap enough to leave on. */
export const DEFAULT_SAMPLING_INTERVAL_MICROS = 1000;

export interface ProfilerOptions {
  /** NODE_ENV of the process; "production" is refused outright. */
  readonly environment: string;
  readonly outputDir: string;
  /** Longest a session runs before it stops itself. */
  readonly maxSessionMs?: number;
  /** Budget for all artifacts in the output directory; the oldest are deleted beyond it. */
  readonly maxTotalBytes?: number;
  readonly samplingIntervalMicros?: number;
  readonly sampler?: CpuSampler;
  /** A V8-format heap snapshot of this process. */
  readonly heapSnapshot?: () => ArrayBuffer | string;
  readonly now?: () => number;
}

export interface StartOptions {
  /** Also write a heap snapshot when the session stops. */
  readonly heapSnapshot?: boolean;
  /** Stop by itself after this long; at most the profiler's maxSessionMs (the default). */
  readonly maxDurationMs?: number;
}

export interface RunningSession {
  readonly id: string;
  readonly startedAt: string;
  readonly stopsAt: string;
  readonly elapsedMs: number;
  readonly heapSnapshot: boolean;
}

export type StopReason = "request" | "time limit" | "shutdown";

export interface FinishedSession {
  readonly id: string;
  readonly startedAt: string;
  readonly stoppedAt: string;
  readonly durationMs: number;
  readonly stoppedBy: StopReason;
  readonly samples: number;
  readonly artifacts: Artifact[];
  /** Older artifacts deleted to keep the directory within its budget. */
  readonly evicted: string[];
}

export type StartResult =
  | { readonly ok: true; readonly session: RunningSession }
  | { readonly ok: false; readonly reason: "busy"; readonly session: RunningSession | null };

export type StopResult =
  | { readonly ok: true; readonly session: FinishedSession }
  | { readonly ok: false; readonly reason: "idle" | "busy" };

export class ProfilingRefusedError extends Error {
  constructor() {
    super("Profiling is refused in production: it exposes the process's code and memory.");
    this.name = "ProfilingRefusedError";
  }
}

interface Active {
  readonly id: string;
  readonly startedAtMs: number;
  readonly maxDurationMs: number;
  heapSnapshot: boolean;
  readonly timer: ReturnType<typeof setTimeout>;
}

type State =
  | { readonly kind: "idle" }
  | { readonly kind: "starting" }
  | { readonly kind: "running"; readonly active: Active }
  | { readonly kind: "stopping"; readonly active: Active; readonly done: Promise<StopResult> };

/**
 * Developer profiling of the running process: one session at a time records a Chrome-format CPU
 * profile and, on request, a V8 heap snapshot, both files that Chrome DevTools opens. Sessions
 * stop themselves after a bounded time and the artifacts stay within a bounded total size.
 */
export class Profiler {
  readonly outputDir: string;
  readonly maxSessionMs: number;
  readonly maxTotalBytes: number;
  readonly samplingIntervalMicros: number;

  private readonly store: ArtifactStore;
  private readonly sampler: CpuSampler;
  private readonly snapshot: () => ArrayBuffer | string;
  private readonly now: () => number;
  private state: State = { kind: "idle" };
  private lastSession: FinishedSession | null = null;
  private lastError: string | null = null;

  constructor(options: ProfilerOptions) {
    if (options.environment === "production") throw new ProfilingRefusedError();
    this.outputDir = options.outputDir;
    this.maxSessionMs = options.maxSessionMs ?? DEFAULT_MAX_SESSION_MS;
    this.maxTotalBytes = options.maxTotalBytes ?? DEFAULT_MAX_TOTAL_BYTES;
    this.samplingIntervalMicros = options.samplingIntervalMicros ?? DEFAULT_SAMPLING_INTERVAL_MICROS;
    if (!(this.maxSessionMs > 0) || !(this.maxTotalBytes > 0) || !(this.samplingIntervalMicros > 0)) {
      throw new RangeError("profiling limits must be positive");
    }
    this.store = new ArtifactStore(this.outputDir, this.maxTotalBytes);
    this.sampler = options.sampler ?? new InspectorCpuSampler();
    this.snapshot = options.heapSnapshot ?? (() => Bun.generateHeapSnapshot("v8", "arraybuffer"));
    this.now = options.now ?? Date.now;
  }

  get running(): boolean {
    return this.state.kind !== "idle";
  }

  async start(options: StartOptions = {}): Promise<StartResult> {
    const maxDurationMs = options.maxDurationMs ?? this.maxSessionMs;
    if (!Number.isInteger(maxDurationMs) || maxDurationMs < 1 || maxDurationMs > this.maxSessionMs) {
      throw new RangeError(`maxDurationMs must be an integer between 1 and ${this.maxSessionMs}`);
    }
    if (this.state.kind !== "idle") return { ok: false, reason: "busy", session: this.runningSession() };

    this.state = { kind: "starting" };
    const startedAtMs = this.now();
    try {
      await this.sampler.start(this.samplingIntervalMicros);
    } catch (error) {
      this.state = { kind: "idle" };
      throw error;
    }
    const timer = setTimeout(() => {
      this.finish("time limit").catch((error: unknown) => {
        this.lastError = error instanceof Error ? error.message : String(error);
      });
    }, maxDurationMs);
    // A forgotten session must not keep a stopping process alive.
    timer.unref();
    const active: Active = {
      id: newSessionId(new Date(startedAtMs)),
      startedAtMs,
      maxDurationMs,
      heapSnapshot: options.heapSnapshot ?? false,
      timer,
    };
    this.state = { kind: "running", active };
    this.lastError = null;
    return { ok: true, session: this.describe(active) };
  }

  /** Stops the session; `heapSnapshot` asks for a snapshot even if the start did not. */
  stop(options: { heapSnapshot?: boolean } = {}): Promise<StopResult> {
    if (this.state.kind === "running" && options.heapSnapshot) this.state.active.heapSnapshot = true;
    return this.finish("request");
  }

  /** Stops a running session (its artifacts are still written); for graceful shutdown. */
  async close(): Promise<void> {
    if (this.state.kind === "running") await this.finish("shutdown");
    else if (this.state.kind === "stopping") await this.state.done;
  }

  async status() {
    const artifacts = await this.store.list();
    return {
      running: this.running,
      session: this.runningSession(),
      lastSession: this.lastSession,
      lastError: this.lastError,
      outputDir: this.outputDir,
      limits: {
        maxSessionMs: this.maxSessionMs,
        maxTotalBytes: this.maxTotalBytes,
        samplingIntervalMicros: this.samplingIntervalMicros,
      },
      artifacts: {
        count: artifacts.length,
        totalBytes: artifacts.reduce((sum, artifact) => sum + artifact.bytes, 0),
      },
    };
  }

  reports(): Promise<Artifact[]> {
    return this.store.list();
  }

  /** An artifact this profiler wrote, or undefined for any other name (including paths). */
  async read(name: string): Promise<{ artifact: Artifact; file: Bun.BunFile } | undefined> {
    const path = this.store.pathOf(name);
    if (!path) return undefined;
    const artifact = (await this.store.list()).find((candidate) => candidate.name === name);
    return artifact ? { artifact, file: Bun.file(path) } : undefined;
  }

  /** Deletes every artifact; a running session is left running. */
  cleanup(): Promise<{ deleted: string[]; freedBytes: number }> {
    return this.store.clear();
  }

  private finish(reason: StopReason): Promise<StopResult> {
    const state = this.state;
    if (state.kind === "idle") return Promise.resolve({ ok: false, reason: "idle" });
    if (state.kind !== "running") return Promise.resolve({ ok: false, reason: "busy" });
    clearTimeout(state.active.timer);
    const done = this.writeSession(state.active, reason).finally(() => {
      this.state = { kind: "idle" };
    });
    this.state = { kind: "stopping", active: state.active, done };
    return done;
  }

  private async writeSession(active: Active, reason: StopReason): Promise<StopResult> {
    const profile = await this.sampler.stop();
    const stoppedAtMs = this.now();
    const artifacts = [await this.store.write(`${active.id}.cpuprofile`, JSON.stringify(profile))];
    if (active.heapSnapshot) {
      artifacts.push(await this.store.write(`${active.id}.heapsnapshot`, this.snapshot()));
    }
    const evicted = await this.store.enforceBudget(new Set(artifacts.map((artifact) => artifact.name)));
    const session: FinishedSession = {
      id: active.id,
      startedAt: new Date(active.startedAtMs).toISOString(),
      stoppedAt: new Date(stoppedAtMs).toISOString(),
      durationMs: stoppedAtMs - active.startedAtMs,
      stoppedBy: reason,
      samples: profile.samples?.length ?? 0,
      artifacts,
      evicted,
    };
    this.lastSession = session;
    return { ok: true, session };
  }

  private runningSession(): RunningSession | null {
    return this.state.kind === "running" || this.state.kind === "stopping"
      ? this.describe(this.state.active)
      : null;
  }

  private describe(active: Active): RunningSession {
    return {
      id: active.id,
      startedAt: new Date(active.startedAtMs).toISOString(),
      stopsAt: new Date(active.startedAtMs + active.maxDurationMs).toISOString(),
      elapsedMs: this.now() - active.startedAtMs,
      heapSnapshot: active.heapSnapshot,
    };
  }
}
