import { afterEach, describe, expect, test } from "bun:test";
import { FAILING_FOR_MS, RedisConnection } from "../../../src/cache/redis-connection.ts";
import { manualClock } from "../../support/clock.ts";
import { testConfig } from "../../support/config.ts";
import { testLogger } from "../../support/logger.ts";
import { REDIS_URL } from "../../support/redis.ts";
import { LogCapture } from "../../support/stack.ts";
import { waitFor } from "../../support/wait.ts";

/**
 * A command refused because the topology is changing (a Cluster shard without its master, a master
 * stepping down) says Redis is degraded for FAILING_FOR_MS: /health shows the failover, while the
 * commands that work (other shards) go on being sent.
 */
const actions = (logs: LogCapture) =>
  logs.records().flatMap((record) => {
    const action = (record.event as { action?: string } | undefined)?.action;
    return action ? [action] : [];
  });

const closeAfter: RedisConnection[] = [];
afterEach(async () => {
  for (const connection of closeAfter.splice(0)) await connection.close();
});

async function connected() {
  const logs = new LogCapture();
  const clock = manualClock(1_000_000);
  const connection = new RedisConnection(
    testConfig({ REDIS_URL }).redis,
    testLogger("info", logs),
    clock.now,
  );
  closeAfter.push(connection);
  await connection.connect();
  await waitFor(() => connection.status === "ready", "the connection to be ready", 10_000);
  return { connection, logs, clock };
}

const refused = (message: string) => () => Promise.reject(new Error(message));

describe("RedisConnection while the topology changes", () => {
  test("a CLUSTERDOWN degrades it, logged once; commands are still sent meanwhile; ready again past FAILING_FOR_MS", async () => {
    const { connection, logs, clock } = await connected();
    expect(await connection.run(refused("CLUSTERDOWN The cluster is down"), "fallback")).toBe("fallback");
    expect(connection.status).toBe("degraded");
    expect(actions(logs)).toEqual(["redis-failing"]);
    expect(logs.text).toContain(
      "Redis refuses commands while its topology changes, carrying on without it meanwhile",
    );
    expect(await connection.run(refused("TRYAGAIN later"), "fallback")).toBe("fallback");
    // Another shard answers: sent, answered, and the episode is not over yet.
    expect(await connection.run((client) => client.ping(), "fallback")).toBe("PONG");
    expect(connection.status).toBe("degraded");

    clock.advance(FAILING_FOR_MS - 1);
    expect(connection.status).toBe("degraded");
    clock.advance(1);
    expect(connection.status).toBe("ready");
    expect(await connection.run((client) => client.ping(), "fallback")).toBe("PONG");
    expect(await connection.run((client) => client.ping(), "fallback")).toBe("PONG");
    expect(actions(logs)).toEqual(["redis-failing", "redis-failing-over"]);
    expect(logs.text).toContain("Redis takes commands again");
  });

  test("the window counts from the last failure", async () => {
    const { connection, clock } = await connected();
    await connection.run(refused("Socket closed unexpectedly"), undefined);
    clock.advance(FAILING_FOR_MS - 10);
    await connection.run(refused("READONLY You can't write against a read only replica."), undefined);
    clock.advance(20);
    expect(connection.status).toBe("degraded");
  });

  test("Redis refusing a command for what it is (ERR, NOPERM) leaves it ready, logging nothing", async () => {
    const { connection, logs } = await connected();
    expect(await connection.run(refused("ERR unknown command"), "fallback")).toBe("fallback");
    expect(await connection.run(refused("NOPERM no permissions"), "fallback")).toBe("fallback");
    expect(connection.status).toBe("ready");
    expect(actions(logs)).toEqual([]);
  });

  test("a command lost with its (standalone) connection is an outage, not a topology change", async () => {
    const { connection, logs } = await connected();
    const lost = await connection.run((client) => {
      client.destroy();
      return Promise.reject(new Error("The client is closed"));
    }, "fallback");
    expect(lost).toBe("fallback");
    expect(connection.status).toBe("down");
    expect(actions(logs)).not.toContain("redis-failing");
  });

  test("a success with no episode logs nothing", async () => {
    const { connection, logs } = await connected();
    expect(await connection.run((client) => client.ping(), "fallback")).toBe("PONG");
    expect(actions(logs)).toEqual([]);
  });

  test("a failure after close is not logged", async () => {
    const { connection, logs } = await connected();
    const pending = connection.run(
      () => new Promise((_, reject) => setTimeout(() => reject(new Error("The client is closed")), 20)),
      "fallback",
    );
    await connection.close();
    expect(await pending).toBe("fallback");
    expect(actions(logs)).toEqual([]);
  });
});
