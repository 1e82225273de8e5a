import { afterAll, afterEach, beforeAll, describe, expect, test } from "bun:test";
import { RedisConnection, type RedisState } from "../../../src/cache/redis-connection.ts";
import { testConfig } from "../../support/config.ts";
import { testLogger } from "../../support/logger.ts";
import { REDIS_URL, redisClient, refusedSubscriptions, startOwnRedis } from "../../support/redis.ts";
import { LogCapture } from "../../support/stack.ts";
import { startBlackHole } from "../../support/tcp-black-hole.ts";
import { waitFor, within } from "../../support/wait.ts";
import { afterGiveUps } from "./silent.ts";

const COMMAND_TIMEOUT_MS = 100;
/** Generous against the 100 ms deadline on a shared, slow machine; a hang is unbounded. */
const WITHIN_MS = 2_000;
/** Reconnection goes through node-redis's backoff and a new handshake: slower on a loaded machine. */
const RECONNECT_WITHIN_MS = 15_000;

const count = (text: string, phrase: string) => text.split(phrase).length - 1;

/** The `event.action` of each line logged, in order: what alerting keys on. */
const actions = (logs: LogCapture) =>
  logs.records().flatMap((record) => {
    const action = (record.event as { action?: string } | undefined)?.action;
    return action ? [action] : [];
  });

function connectionTo(url: string, env: Record<string, string> = {}) {
  const logs = new LogCapture();
  const config = testConfig({
    REDIS_URL: url,
    REDIS_COMMAND_TIMEOUT_MS: String(COMMAND_TIMEOUT_MS),
    REDIS_RETRY_DELAY_MS: "50",
    REDIS_CONNECT_TIMEOUT_MS: "500",
    ...env,
  });
  const connection = new RedisConnection(config.redis, testLogger("info", logs));
  const untilStatus = (status: RedisState, timeoutMs = RECONNECT_WITHIN_MS) =>
    waitFor(() => connection.status === status, `the connection to be ${status}`, timeoutMs);
  return { connection, logs, untilStatus };
}

/** The standalone client under the common interface, for a command the service never sends. */
type RawClient = { sendCommand(args: string[]): Promise<unknown> };

/** A command that records whether it was sent. */
function spyCommand() {
  const spy = {
    sent: 0,
    command: (client: { ping(): Promise<unknown> }) => {
      spy.sent++;
      return client.ping();
    },
  };
  return spy;
}

const closeAfter: RedisConnection[] = [];
afterEach(async () => {
  for (const connection of closeAfter.splice(0)) await connection.close();
});

describe("RedisConnection to a Redis that answers", () => {
  test("is down until its handshake completes, then runs commands and answers their replies", async () => {
    const { connection, untilStatus } = connectionTo(REDIS_URL);
    closeAfter.push(connection);
    const spy = spyCommand();
    expect(connection.status).toBe("down");
    expect(await connection.run(spy.command, "fallback")).toBe("fallback");
    expect(spy.sent).toBe(0);

    await connection.connect();
    await untilStatus("ready");
    expect(await connection.run(spy.command, "fallback")).toBe("PONG");
    expect(spy.sent).toBe(1);
  });

  test("a command that fails or throws answers the fallback, and the connection stays ready", async () => {
    const { connection, untilStatus } = connectionTo(REDIS_URL);
    closeAfter.push(connection);
    await connection.connect();
    await untilStatus("ready");
    const refused = await connection.run(
      (client) => (client as unknown as RawClient).sendCommand(["NO-SUCH-COMMAND"]),
      "fallback",
    );
    expect(refused).toBe("fallback");
    const thrown = await connection.run(() => {
      throw new Error("built wrong");
    }, "fallback");
    expect(thrown).toBe("fallback");
    expect(connection.status).toBe("ready");
  });

  test("messages on a subscribed channel reach their handler, also for a channel subscribed once connected", async () => {
    const { connection } = connectionTo(REDIS_URL);
    closeAfter.push(connection);
    const publisher = await redisClient();
    try {
      const heard: string[] = [];
      // Nothing subscribed to: nothing to say about it.
      expect(connection.subscribed).toBeUndefined();
      await connection.subscribe("unit-connection-a", (message) => heard.push(`a:${message}`));
      await waitFor(async () => (await publisher.publish("unit-connection-a", "1")) > 0, "subscription to a");
      await waitFor(() => connection.subscribed === true, "the connection to say it is subscribed");
      await connection.subscribe("unit-connection-b", (message) => heard.push(`b:${message}`));
      await waitFor(async () => (await publisher.publish("unit-connection-b", "2")) > 0, "subscription to b");
      await waitFor(() => heard.includes("b:2"), "the message on b");
      expect(heard).toContain("a:1");
      await waitFor(() => connection.subscribed === true, "both channels to be subscribed");
      await connection.close();
      expect(connection.subscribed).toBe(false);
    } finally {
      await publisher.close();
    }
  });

  test("once closed, it neither connects nor subscribes", async () => {
    const { connection } = connectionTo(REDIS_URL);
    await connection.close();
    await connection.connect();
    await connection.subscribe("unit-connection-closed", () => {});
    const publisher = await redisClient();
    try {
      expect(await publisher.publish("unit-connection-closed", "x")).toBe(0);
    } finally {
      await publisher.close();
    }
    expect(connection.status).toBe("down");
    expect(await connection.run((client) => client.ping(), "fallback")).toBe("fallback");
  });
});

describe("RedisConnection to a Redis that hangs or goes away", () => {
  let redis: Awaited<ReturnType<typeof startOwnRedis>>;
  beforeAll(async () => {
    redis = await startOwnRedis();
  });
  afterAll(async () => {
    await redis.stop();
  });

  test("a command unanswered within the timeout answers the fallback and degrades the connection; commands skip it until a probe is answered in time", async () => {
    const { connection, logs, untilStatus } = connectionTo(redis.url);
    closeAfter.push(connection);
    await connection.connect();
    await untilStatus("ready");
    redis.pause();
    try {
      expect(
        await within(
          WITHIN_MS,
          connection.run((client) => client.ping(), "fallback"),
        ),
      ).toBe("fallback");
      expect(connection.status).toBe("degraded");
      const spy = spyCommand();
      expect(await connection.run(spy.command, "fallback")).toBe("fallback");
      expect(spy.sent).toBe(0);
      expect(count(logs.text, "did not answer within 100 ms")).toBe(1);
    } finally {
      redis.resume();
    }
    await untilStatus("ready");
    expect(count(logs.text, "Redis answers in time again")).toBe(1);
    expect(await connection.run((client) => client.ping(), "fallback")).toBe("PONG");

    // A second hang is a second episode, logged again.
    redis.pause();
    try {
      expect(await connection.run((client) => client.ping(), "fallback")).toBe("fallback");
    } finally {
      redis.resume();
    }
    await untilStatus("ready");
    expect(count(logs.text, "did not answer within")).toBe(2);
    expect(count(logs.text, "Redis answers in time again")).toBe(2);
    expect(actions(logs)).toEqual(["redis-degraded", "redis-recovered", "redis-degraded", "redis-recovered"]);
  });

  test("a lost connection is down, logged once for the whole outage, and restored (and logged) once Redis is back, subscriptions included", async () => {
    const { connection, logs, untilStatus } = connectionTo(redis.url);
    closeAfter.push(connection);
    const heard: string[] = [];
    await connection.connect();
    await connection.subscribe("unit-connection-outage", (message) => heard.push(message));
    await untilStatus("ready");

    await redis.stop();
    await untilStatus("down");
    expect(await connection.run((client) => client.ping(), "fallback")).toBe("fallback");
    await waitFor(() => logs.text.includes("Redis unavailable"), "the outage to be logged");
    await redis.start();
    await untilStatus("ready");
    expect(count(logs.text, "Redis unavailable")).toBe(1);
    expect(count(logs.text, "Redis connection restored")).toBe(1);
    expect(await connection.run((client) => client.ping(), "fallback")).toBe("PONG");

    const publisher = await redisClient(redis.url);
    try {
      await waitFor(
        async () => (await publisher.publish("unit-connection-outage", "again")) > 0,
        "the subscription to be made again",
        RECONNECT_WITHIN_MS,
      );
      await waitFor(() => heard.includes("again"), "the message after the outage");
    } finally {
      await publisher.close();
    }
  });

  test("close returns within a command timeout even while Redis hangs", async () => {
    const { connection, untilStatus } = connectionTo(redis.url);
    await connection.connect();
    await untilStatus("ready");
    redis.pause();
    try {
      expect(await within(WITHIN_MS, connection.close())).toBeUndefined();
    } finally {
      redis.resume();
    }
  });

  test("commands timing out together make one degraded episode, logged once; one timing out after close is not logged", async () => {
    const { connection, logs, untilStatus } = connectionTo(redis.url);
    await connection.connect();
    await untilStatus("ready");
    redis.pause();
    try {
      const together = await Promise.all([1, 2, 3].map(() => connection.run((c) => c.ping(), "fallback")));
      expect(together).toEqual(["fallback", "fallback", "fallback"]);
      expect(count(logs.text, "did not answer within")).toBe(1);
    } finally {
      redis.resume();
    }
    await untilStatus("ready");

    redis.pause();
    try {
      const pending = connection.run((client) => client.ping(), "fallback");
      await connection.close();
      expect(await pending).toBe("fallback");
      expect(count(logs.text, "did not answer within")).toBe(1);
    } finally {
      redis.resume();
    }
  });

  test("each outage is logged once with its reason, and each recovery once", async () => {
    const { connection, logs, untilStatus } = connectionTo(redis.url);
    closeAfter.push(connection);
    await connection.connect();
    await untilStatus("ready");
    for (const outage of [1, 2]) {
      await redis.stop();
      await untilStatus("down");
      await waitFor(() => count(logs.text, "Redis unavailable") === outage, `outage ${outage} to be logged`);
      await redis.start();
      await untilStatus("ready");
      expect(count(logs.text, "Redis connection restored")).toBe(outage);
    }
    expect(count(logs.text, "Redis unavailable")).toBe(2);
    const reasons = logs.records().flatMap((record) => {
      const message = String(record.message ?? record.msg ?? "");
      return message.startsWith("Redis unavailable") ? [message] : [];
    });
    expect(reasons).toHaveLength(2);
    // The error's message, not its class name or an empty reason.
    for (const reason of reasons)
      expect(reason).toMatch(/^Redis unavailable, serving from memory and Kong: [^:]*\w$/);
    expect(actions(logs)).toEqual(["redis-down", "redis-up", "redis-down", "redis-up"]);
  });

  test("a subscription Redis refuses on a live connection (an ACL without the channel) is logged once, asked again until taken, and not subscribed meanwhile", async () => {
    const admin = await redisClient(redis.url);
    try {
      await admin.sendCommand([
        "ACL",
        "SETUSER",
        "limited",
        "on",
        ">limited-pw",
        "~*",
        "resetchannels",
        "&allowed-*",
        "+@all",
      ]);
    } finally {
      await admin.close();
    }
    const { connection, logs } = connectionTo(`redis://limited:limited-pw@127.0.0.1:${redis.port}`);
    closeAfter.push(connection);
    await connection.subscribe("allowed-channel", () => {});
    await connection.subscribe("forbidden-channel", () => {});
    await waitFor(
      () =>
        logs.text.includes("Redis refused the subscription to forbidden-channel, asking again every 2000 ms"),
      "the refusal to be logged",
    );
    expect(logs.text).not.toContain("Redis refused the subscription to allowed-channel");
    const refusal = logs.records().find((record) => String(record.message).startsWith("Redis refused"));
    expect((refusal?.error as { message?: string } | undefined)?.message).toContain("NOPERM");
    expect(connection.subscribed).toBe(false);
    // Asked again (Redis's ACL log counts each refusal), logged once.
    const acl = await redisClient(redis.url);
    try {
      await waitFor(
        async () => (await refusedSubscriptions(acl, "forbidden-channel")) >= 2,
        "the SUBSCRIBE to be asked again",
        10_000,
      );
      expect(connection.subscribed).toBe(false);
      expect(count(logs.text, "Redis refused the subscription")).toBe(1);
      // The operator grants the channel: taken at the next attempt, without a new connection.
      await acl.sendCommand(["ACL", "SETUSER", "limited", "&forbidden-*"]);
      await waitFor(() => connection.subscribed === true, "the subscription to be taken", 10_000);
      expect(actions(logs).filter((action) => action.startsWith("redis-subscri"))).toEqual([
        "redis-subscription-refused",
        "redis-subscribed",
      ]);
      expect(logs.text).toContain("Redis took the subscription");
      // A refusal after one was taken is said again.
      await connection.subscribe("other-channel", () => {});
      await waitFor(
        () => logs.text.includes("Redis refused the subscription to other-channel"),
        "the new refusal to be logged",
      );
      expect(connection.subscribed).toBe(false);
    } finally {
      await acl.close();
    }
  }, 30_000);

  test("a channel permission revoked while subscribed (Redis closes the connection): not subscribed, logged once, and subscribed again once granted", async () => {
    const admin = await redisClient(redis.url);
    try {
      await admin.sendCommand([
        "ACL",
        "SETUSER",
        "revoked",
        "on",
        ">revoked-pw",
        "~*",
        "+@all",
        "allchannels",
      ]);
      const { connection, logs } = connectionTo(`redis://revoked:revoked-pw@127.0.0.1:${redis.port}`);
      closeAfter.push(connection);
      await connection.connect();
      const heard: string[] = [];
      await connection.subscribe("unit-revoked", (message) => heard.push(message));
      await connection.subscribe("unit-revoked-too", () => {});
      await waitFor(() => connection.subscribed === true, "the first subscription");
      // Redis 7 disconnects a client subscribed to a channel its user may no longer read.
      await admin.sendCommand(["ACL", "SETUSER", "revoked", "resetchannels"]);
      await waitFor(() => connection.subscribed === false, "the subscription to be lost");
      // The reconnection's handshake sends one SUBSCRIBE of every channel: the line names them all.
      await waitFor(
        () =>
          logs.text.includes(
            "Redis refused the subscription to unit-revoked, unit-revoked-too, asking again at each reconnection",
          ),
        "the refusal to be logged",
        RECONNECT_WITHIN_MS,
      );
      await waitFor(
        async () => (await refusedSubscriptions(admin, "unit-revoked")) >= 2,
        "the SUBSCRIBE to be asked again",
        RECONNECT_WITHIN_MS,
      );
      expect(connection.subscribed).toBe(false);
      expect(count(logs.text, "Redis refused the subscription")).toBe(1);
      // Commands go on meanwhile: only the subscriber is refused.
      expect(connection.status).toBe("ready");
      await admin.sendCommand(["ACL", "SETUSER", "revoked", "allchannels"]);
      await waitFor(
        () => connection.subscribed === true,
        "the subscription to be taken again",
        RECONNECT_WITHIN_MS,
      );
      await waitFor(
        async () => (await admin.publish("unit-revoked", "after")) > 0 && heard.includes("after"),
        "a message published after the grant",
      );
      expect(logs.text).toContain("Redis took the subscription");
      expect(count(logs.text, "Redis refused the subscription")).toBe(1);
    } finally {
      await admin.close();
    }
  }, 40_000);

  test("a subscription lost with its connection is made again on the next one, without a warning", async () => {
    const hole = await startBlackHole({ hostname: "127.0.0.1", port: redis.port });
    const publisher = await redisClient(redis.url);
    const { connection, logs } = connectionTo(hole.url);
    closeAfter.push(connection);
    try {
      await connection.subscribe("unit-lost-first", () => {});
      await waitFor(
        async () => (await publisher.publish("unit-lost-first", "x")) > 0,
        "the first subscription",
      );
      hole.hang();
      const heard: string[] = [];
      await connection.subscribe("unit-lost-second", (message) => heard.push(message));
      await waitFor(() => hole.swallowed > 0, "the second SUBSCRIBE to be sent into the void");
      // Unanswered: not subscribed, though the connection looks up.
      expect(connection.subscribed).toBe(false);
      hole.drop();
      hole.release();
      await waitFor(
        async () => (await publisher.publish("unit-lost-second", "after")) > 0,
        "the second subscription on the next connection",
        RECONNECT_WITHIN_MS,
      );
      await waitFor(() => heard.includes("after"), "the message on the second channel");
      await waitFor(() => connection.subscribed === true, "the connection to say it is subscribed again");
      expect(logs.text).not.toContain("Redis refused the subscription");
      // Nothing was refused, so nothing is said to be taken either.
      expect(logs.text).not.toContain("Redis took the subscription");
    } finally {
      await publisher.close();
      hole.stop();
    }
  });

  test("a Redis that accepts the connection and never completes the handshake is down: logged once, commands answer the fallback, close returns at once", async () => {
    const listener = Bun.listen({ hostname: "127.0.0.1", port: 0, socket: { data() {} } });
    const logs = new LogCapture();
    const config = testConfig({
      REDIS_URL: `redis://127.0.0.1:${listener.port}`,
      REDIS_CONNECT_TIMEOUT_MS: "100",
      // Long enough that the link is seen between two attempts, with no client at all.
      REDIS_RETRY_DELAY_MS: "2000",
    });
    const connection = new RedisConnection(config.redis, testLogger("info", logs));
    try {
      await connection.connect();
      await waitFor(() => logs.text.includes("Redis unavailable"), "the outage to be logged");
      expect(connection.status).toBe("down");
      expect(await connection.run((client) => client.ping(), "fallback")).toBe("fallback");
      expect(await within(WITHIN_MS, connection.close())).toBeUndefined();
    } finally {
      listener.stop(true);
    }
  });

  test("while Redis hangs, one probe at a time, and one that goes unanswered or fails is no recovery", async () => {
    const hole = await startBlackHole({ hostname: "127.0.0.1", port: redis.port });
    const { connection, logs, untilStatus } = connectionTo(hole.url);
    closeAfter.push(connection);
    try {
      await connection.connect();
      await untilStatus("ready");
      hole.hang();
      expect(await connection.run((client) => client.get("unit-probe"), "fallback")).toBe("fallback");
      await waitFor(() => hole.sentCount("PING") === 1, "the first probe");
      // Five probe intervals (100 ms each) at least: the first probe is still unanswered.
      await afterGiveUps(1, { REDIS_CONNECT_TIMEOUT_MS: "500" });
      expect(hole.sentCount("PING")).toBe(1);
      expect(connection.status).toBe("degraded");

      // The unanswered probe fails with its connection, which cannot be made again while the hole hangs.
      hole.drop();
      await waitFor(() => logs.text.includes("Redis unavailable"), "the loss to be logged");
      await afterGiveUps(1, { REDIS_CONNECT_TIMEOUT_MS: "100" });
      expect(logs.text).not.toContain("Redis answers in time again");
    } finally {
      hole.stop();
    }
  });

  test("once Redis answers in time again, probing stops", async () => {
    // Not hung: a proxy that counts what the connection sends to the Redis it forwards to.
    const proxy = await startBlackHole({ hostname: "127.0.0.1", port: redis.port });
    const { connection, untilStatus } = connectionTo(proxy.url);
    closeAfter.push(connection);
    try {
      await connection.connect();
      await untilStatus("ready");
      redis.pause();
      try {
        expect(await connection.run((client) => client.get("unit-probe"), "fallback")).toBe("fallback");
      } finally {
        redis.resume();
      }
      await untilStatus("ready");
      const probes = proxy.sentCount("PING");
      expect(probes).toBeGreaterThan(0);
      await afterGiveUps(1, { REDIS_CONNECT_TIMEOUT_MS: "500" });
      expect(proxy.sentCount("PING")).toBe(probes);
    } finally {
      proxy.stop();
    }
  });

  test("an ACL that refuses PING does not keep the connection degraded: a refusal is Redis answering in time", async () => {
    const admin = await redisClient(redis.url);
    try {
      await admin.sendCommand([
        "ACL",
        "SETUSER",
        "no-ping",
        "on",
        ">no-ping-pw",
        "~*",
        "&*",
        "+@all",
        "-ping",
      ]);
    } finally {
      await admin.close();
    }
    const { connection, logs, untilStatus } = connectionTo(
      `redis://no-ping:no-ping-pw@127.0.0.1:${redis.port}`,
    );
    closeAfter.push(connection);
    await connection.connect();
    await untilStatus("ready");
    redis.pause();
    try {
      expect(await connection.run((client) => client.get("unit-no-ping"), "fallback")).toBe("fallback");
    } finally {
      redis.resume();
    }
    await untilStatus("ready", 4_000);
    expect(count(logs.text, "Redis answers in time again")).toBe(1);
  });

  test("a probe that fails within the deadline because its connection is lost is no recovery", async () => {
    const hole = await startBlackHole({ hostname: "127.0.0.1", port: redis.port });
    // A long deadline, so the probe's connection is lost well within it.
    const { connection, logs, untilStatus } = connectionTo(hole.url, { REDIS_COMMAND_TIMEOUT_MS: "1000" });
    closeAfter.push(connection);
    try {
      await connection.connect();
      await untilStatus("ready");
      hole.hang();
      expect(await connection.run((client) => client.get("unit-probe-lost"), "fallback")).toBe("fallback");
      await waitFor(() => hole.sentCount("PING") === 1, "the first probe");
      hole.drop();
      await waitFor(() => logs.text.includes("Redis unavailable"), "the loss to be logged");
      await afterGiveUps(1, { REDIS_CONNECT_TIMEOUT_MS: "100" });
      expect(logs.text).not.toContain("Redis answers in time again");
    } finally {
      hole.stop();
    }
  }, 15_000);
});
