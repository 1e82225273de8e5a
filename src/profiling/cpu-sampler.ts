import { type Profiler as Cdp, Session } from "node:inspector/promises";

/** Chrome DevTools' `.cpuprofile`: what the Performance panel's "Load profile" opens. */
export type CpuProfile = Cdp.Profile;

/** Samples the JavaScript stacks of this process. */
export interface CpuSampler {
  start(intervalMicros: number): Promise<void>;
  stop(): Promise<CpuProfile>;
}

/**
 * Bun's `node:inspector` speaks the Chrome DevTools Protocol's Profiler domain in-process:
 * `Profiler.stop` answers a complete Chrome-format profile, so nothing needs converting.
 * (Bun's `--inspect` port speaks WebKit's protocol instead; see docs/profiling.md.)
 * The profiler is process-wide: a second session's `Profiler.start` would take it over, which
 * is why only one Profiler may exist per process.
 */
export class InspectorCpuSampler implements CpuSampler {
  private session: Session | undefined;

  async start(intervalMicros: number): Promise<void> {
    if (this.session) throw new Error("the CPU sampler is already running");
    const session = new Session();
    session.connect();
    try {
      await session.post("Profiler.enable");
      await session.post("Profiler.setSamplingInterval", { interval: intervalMicros });
      await session.post("Profiler.start");
    } catch (error) {
      session.disconnect();
      throw error;
    }
    this.session = session;
  }

  async stop(): Promise<CpuProfile> {
    const session = this.session;
    if (!session) throw new Error("the CPU sampler is not running");
    this.session = undefined;
    try {
      const { profile } = await session.post("Profiler.stop");
      await session.post("Profiler.disable");
      return profile;
    } finally {
      session.disconnect();
    }
  }
}
