import { afterEach, describe, expect, test } from "bun:test";
import { type Stack, startStack } from "../support/stack.ts";

let stack: Stack | undefined;
afterEach(async () => {
  await stack?.stop();
  stack = undefined;
});

async function redisShown(env: Record<string, string>) {
  stack = await startStack({ env: { REDIS_ENABLED: "true", REDIS_CONNECT_TIMEOUT_MS: "100", ...env } });
  const body = (await (await stack.fetch("/health")).json()) as {
    dependencies: { redis: { url: string; mode: string } };
  };
  return body.dependencies.redis;
}

async function redisUrlShown(url: string): Promise<string> {
  const shown = await redisShown({ REDIS_URL: url });
  expect(shown.mode).toBe("standalone");
  return shown.url;
}

describe("/health names Redis by scheme, host and port", () => {
  test("a redis:// URL is shown as redis://host:port, without user, password or query", async () => {
    const shown = await redisUrlShown("redis://operator:hunter2-secret@127.0.0.1:1/?protocol=3");
    expect(shown).toBe("redis://127.0.0.1:1");
    expect(shown).not.toContain("hunter2-secret");
  });

  test("a rediss:// URL is shown as rediss://host:port", async () => {
    expect(await redisUrlShown("rediss://:hunter2-secret@cache.internal:6380")).toBe(
      "rediss://cache.internal:6380",
    );
  });
});

describe("/health names a Sentinel setup or a Cluster by its addresses", () => {
  test("sentinel: sentinel://<sentinels>/<master name>, an IPv6 sentinel in brackets, no password", async () => {
    const shown = await redisShown({
      REDIS_MODE: "sentinel",
      REDIS_SENTINELS: "127.0.0.1:1,[::1]:2",
      REDIS_SENTINEL_MASTER_NAME: "main",
      REDIS_SENTINEL_PASSWORD: "hunter2-secret",
      REDIS_PASSWORD: "hunter3-secret",
    });
    expect(shown).toMatchObject({ mode: "sentinel", url: "sentinel://127.0.0.1:1,[::1]:2/main" });
    expect(JSON.stringify(shown)).not.toContain("secret");
  });

  test("cluster: cluster://<seed nodes>", async () => {
    const shown = await redisShown({ REDIS_MODE: "cluster", REDIS_CLUSTER_NODES: "127.0.0.1:1,127.0.0.1:2" });
    expect(shown).toMatchObject({ mode: "cluster", url: "cluster://127.0.0.1:1,127.0.0.1:2" });
  });
});
