import { createClient } from "redis";
import { freePort } from "./process.ts";
import type { Stack } from "./stack.ts";
import { waitFor } from "./wait.ts";

/** The Redis the suite talks to (.ci/run makes sure one answers there). */
export const REDIS_URL = process.env.REDIS_URL ?? "redis://127.0.0.1:6379";

/** A key prefix of its own per test, so tests sharing one Redis never see each other's keys. */
export function uniquePrefix(label: string): string {
  return `test-${label}-${crypto.randomUUID().slice(0, 8)}`;
}

export async function redisClient(url = REDIS_URL) {
  const client = createClient({ url, socket: { reconnectStrategy: false } });
  client.on("error", () => {});
  await client.connect();
  return client;
}

export async function keysWithPrefix(prefix: string, url = REDIS_URL): Promise<string[]> {
  const client = await redisClient(url);
  try {
    return await client.keys(`${prefix}:*`);
  } finally {
    await client.close();
  }
}

export async function deletePrefix(prefix: string, url = REDIS_URL): Promise<void> {
  const client = await redisClient(url);
  try {
    const keys = await client.keys(`${prefix}:*`);
    if (keys.length > 0) await client.del(keys);
  } finally {
    await client.close();
  }
}

/** What the service's /health says of Redis: healthy, degraded, unhealthy, or undefined without Redis. */
export async function redisHealth(stack: Stack): Promise<string | undefined> {
  const body = (await (await stack.fetch("/health")).json()) as {
    dependencies: { redis?: { status: string } };
  };
  return body.dependencies.redis?.status;
}

/** How many times Redis refused `channel` to an ACL user, from its ACL log (RESP3: one map per entry). */
export async function refusedSubscriptions(
  client: Awaited<ReturnType<typeof redisClient>>,
  channel: string,
): Promise<number> {
  const entries = (await client.sendCommand(["ACL", "LOG"])) as unknown as Record<string, unknown>[];
  return entries
    .filter((entry) => entry.reason === "channel" && entry.object === channel)
    .reduce((sum, entry) => sum + Number(entry.count), 0);
}

/** A redis-server of the test's own, on a free port, that the test may kill and restart. */
export async function startOwnRedis() {
  const port = await freePort();
  const url = `redis://127.0.0.1:${port}`;
  let child: Bun.Subprocess | undefined;

  async function start() {
    child = Bun.spawn(
      ["redis-server", "--port", String(port), "--bind", "127.0.0.1", "--save", "", "--appendonly", "no"],
      {
        stdout: "ignore",
        stderr: "ignore",
      },
    );
    const answers = () =>
      redisClient(url).then(
        async (client) => {
          await client.close();
          return true;
        },
        () => false,
      );
    await waitFor(answers, `redis-server on ${port} to start`);
  }

  async function stop() {
    child?.kill("SIGCONT");
    child?.kill("SIGKILL");
    await child?.exited;
    child = undefined;
  }

  /** Hangs the server (SIGSTOP): connections stay open, nothing is answered. */
  function pause() {
    child?.kill("SIGSTOP");
  }

  function resume() {
    child?.kill("SIGCONT");
  }

  await start();
  return { url, port, start, stop, pause, resume };
}
