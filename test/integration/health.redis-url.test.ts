import { afterEach, describe, expect, test } from "bun:test";
import { type Stack, startStack } from "../support/stack.ts";

let stack: Stack | undefined;
afterEach(async () => {
  await stack?.stop();
  stack = undefined;
});

async function redisUrlShown(url: string): Promise<string> {
  stack = await startStack({
    env: { REDIS_ENABLED: "true", REDIS_URL: url, REDIS_CONNECT_TIMEOUT_MS: "100" },
  });
  const body = (await (await stack.fetch("/health")).json()) as { dependencies: { redis: { url: string } } };
  return body.dependencies.redis.url;
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
