import type { EmulatedConsumer } from "./kong-emulator.ts";
import { redisHealth } from "./redis.ts";
import type { TwoInstances } from "./redis-topology.ts";
import type { Stack } from "./stack.ts";
import { waitFor } from "./wait.ts";

/**
 * Token requests kept up on two instances while a test fails Redis over: each instance asks for a
 * few known consumers again and again, and new consumers keep arriving, each asked for by both
 * instances at once (so both race to provision it). /health is watched on both, and every change of
 * what it says of Redis recorded with its time. Pauses between requests keep the load modest on a
 * shared 2-core machine; they pace the load, they time nothing.
 */
export interface HealthChange {
  readonly instance: number;
  readonly status: string | undefined;
  readonly atMs: number;
}

export function startLoad({ emulator, instances }: TwoInstances) {
  const started = performance.now();
  const hot = Array.from({ length: 4 }, (_, i) => {
    const consumer = emulator.addConsumer({ username: `hot-${i}` });
    emulator.addCredential(consumer.id);
    return consumer;
  });
  const failures: string[] = [];
  const provisioned: EmulatedConsumer[] = [];
  const health: HealthChange[] = [];
  let requests = 0;
  let slowestMs = 0;
  let running = true;

  async function ask(instance: Stack, consumer: EmulatedConsumer): Promise<void> {
    const sent = performance.now();
    try {
      const response = await instance.tokens(consumer);
      if (response.status !== 200)
        failures.push(`${consumer.username}: ${response.status} ${await response.text()}`);
    } catch (error) {
      failures.push(`${consumer.username}: ${error instanceof Error ? error.message : String(error)}`);
    }
    requests++;
    slowestMs = Math.max(slowestMs, performance.now() - sent);
  }

  async function askHot(instance: Stack): Promise<void> {
    for (let i = 0; running; i++) {
      await ask(instance, hot[i % hot.length] as EmulatedConsumer);
      await Bun.sleep(5);
    }
  }

  async function provision(): Promise<void> {
    for (let i = 0; running; i++) {
      const consumer = emulator.addConsumer({ username: `new-${i}` });
      await Promise.all(instances.map((instance) => ask(instance, consumer)));
      provisioned.push(consumer);
      await Bun.sleep(10);
    }
  }

  async function watchHealth(index: number): Promise<void> {
    let last: string | undefined = "none";
    while (running) {
      const status = await redisHealth(instances[index] as Stack);
      if (status !== last)
        health.push({ instance: index, status, atMs: Math.round(performance.now() - started) });
      last = status;
      await Bun.sleep(25);
    }
  }

  const workers = [...instances.map(askHot), provision(), ...instances.map((_, i) => watchHealth(i))];
  return {
    hot,
    failures,
    provisioned,
    health,
    get requests() {
      return requests;
    },
    get slowestMs() {
      return slowestMs;
    },
    sinceStartMs: () => Math.round(performance.now() - started),
    /** Resolves once `count` more consumers have been provisioned by both instances. */
    async provisionMore(count: number): Promise<void> {
      const target = provisioned.length + count;
      await waitFor(() => provisioned.length >= target, `${count} more consumers provisioned`, 30_000);
    },
    /** Resolves once /health of every instance has said `status` of Redis after `sinceMs`. */
    async untilHealth(status: string, sinceMs: number): Promise<number> {
      const seen = () =>
        instances.every((_, i) =>
          health.some((c) => c.instance === i && c.status === status && c.atMs >= sinceMs),
        );
      await waitFor(seen, `/health of both instances to say Redis is ${status}`, 30_000);
      return Math.max(...health.filter((c) => c.status === status && c.atMs >= sinceMs).map((c) => c.atMs));
    },
    async stop(): Promise<void> {
      running = false;
      await Promise.all(workers);
    },
  };
}

export type Load = ReturnType<typeof startLoad>;
