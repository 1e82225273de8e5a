import { afterEach, describe, expect, test } from "bun:test";
import { createClient, createCluster, createSentinel } from "redis";
import { type RedisClient, RedisLink } from "../../../src/cache/redis-link.ts";
import { testConfig } from "../../support/config.ts";
import { REDIS_URL, redisClient, startOwnRedis } from "../../support/redis.ts";
import { startBlackHole } from "../../support/tcp-black-hole.ts";
import { waitFor, within } from "../../support/wait.ts";
import { afterGiveUps, silentListener } from "./silent.ts";

/** Generous on a shared, slow machine; a hang is unbounded. */
const WITHIN_MS = 2_000;
/** Attempts go through a backoff and a handshake: slower on a loaded machine. */
const RECONNECT_WITHIN_MS = 15_000;

type Options = NonNullable<Parameters<typeof createClient>[0]>;

function linkTo(url: string, env: Record<string, string> = {}) {
  const config = testConfig({
    REDIS_URL: url,
    REDIS_CONNECT_TIMEOUT_MS: "100",
    REDIS_RETRY_DELAY_MS: "50",
    REDIS_MAX_RETRIES: "3",
    REDIS_COMMAND_TIMEOUT_MS: "200",
    ...env,
  });
  const errors: unknown[] = [];
  const ready: RedisClient[] = [];
  /** What each client was built with, as node-redis received it. */
  const built: Options[] = [];
  const create = ((options: Options) => {
    built.push(options);
    return createClient(options);
  }) as typeof createClient;
  const link = new RedisLink({ createClient: create, createSentinel, createCluster }, config.redis, {
    ready: (client) => ready.push(client),
    error: (error) => errors.push(error),
  });
  links.push(link);
  return { link, errors, ready, built, config };
}

const links: RedisLink[] = [];
afterEach(async () => {
  for (const link of links.splice(0)) await link.close();
});

describe("RedisLink", () => {
  test(
    "a Cluster client whose seed nodes do not answer gives up its discovery: it is reported and a new client built, again",
    async () => {
      const { link, errors, ready } = linkTo("redis://unused", {
        REDIS_MODE: "cluster",
        REDIS_CLUSTER_NODES: "127.0.0.1:1",
        // Far longer than the test: only the failed discovery can make the link build a new client.
        REDIS_CONNECT_TIMEOUT_MS: "30000",
      });
      const discoveries = () => errors.filter((e) => String(e).includes("root nodes are unavailable")).length;
      link.open();
      await waitFor(() => discoveries() >= 2, "a second discovery, by a new client", RECONNECT_WITHIN_MS);
      expect(ready).toEqual([]);
    },
    RECONNECT_WITHIN_MS + 1_000,
  );

  test("a handshake unanswered within REDIS_CONNECT_TIMEOUT_MS is given up, reported, and tried again on a new socket; the old one is closed", async () => {
    const silent = silentListener();
    try {
      // A command timeout far longer than the test: closing a client still connecting must not wait for it.
      const { link, errors, built } = linkTo(silent.url, { REDIS_COMMAND_TIMEOUT_MS: "30000" });
      link.open();
      await waitFor(
        () => errors.length >= 3,
        "the handshake to be given up three times",
        RECONNECT_WITHIN_MS,
      );
      expect(silent.sockets.opened).toBeGreaterThanOrEqual(3);
      // Three attempts failed (REDIS_MAX_RETRIES): the next wait is the steady one, about 5 s.
      const strategy = built.at(-1)?.socket?.reconnectStrategy as (retries: number, cause: Error) => number;
      expect(strategy(0, new Error("lost"))).toBeGreaterThanOrEqual(3_750);
      await waitFor(() => silent.sockets.open <= 1, "given-up sockets to be closed");
      const messages = errors.map((error) => (error as Error).message);
      expect(messages).toContain("connection not ready within 100 ms (connect or handshake unanswered)");
      expect(link.client?.isReady ?? false).toBe(false);
      expect(await within(WITHIN_MS, link.close())).toBeUndefined();
      await waitFor(() => silent.sockets.open === 0, "the last socket to be closed");
    } finally {
      silent.stop();
    }
  });

  test("a server that answers the handshake late, past a given-up attempt, is moved onto: ready is reported with the client that takes commands", async () => {
    const redis = await startOwnRedis();
    const hole = await startBlackHole({ hostname: "127.0.0.1", port: redis.port }, { hung: true });
    try {
      const { link, ready, errors } = linkTo(hole.url);
      link.open();
      await waitFor(() => errors.length > 0, "the first attempt to be given up", RECONNECT_WITHIN_MS);
      hole.release();
      await waitFor(() => ready.length > 0, "the link to be ready", RECONNECT_WITHIN_MS);
      expect(ready[0]).toBe(link.client as RedisClient);
      expect(await link.client?.ping()).toBe("PONG");
    } finally {
      hole.stop();
      await redis.stop();
    }
  });

  test("a lost connection is reported and made again by itself once Redis is back", async () => {
    const redis = await startOwnRedis();
    try {
      const { link, ready, errors } = linkTo(redis.url);
      link.open();
      await waitFor(() => ready.length === 1, "the link to be ready");
      await redis.stop();
      await waitFor(() => errors.length > 0, "the loss to be reported");
      await redis.start();
      await waitFor(() => ready.length >= 2, "the link to be ready again", RECONNECT_WITHIN_MS);
      expect(await link.client?.ping()).toBe("PONG");
    } finally {
      await redis.stop();
    }
  });

  test("reconnects quickly at first, doubling from REDIS_RETRY_DELAY_MS with jitter, then about every 5 s for as long as it takes, and never once closed", async () => {
    const { link, built } = linkTo(REDIS_URL, { REDIS_RETRY_DELAY_MS: "100", REDIS_MAX_RETRIES: "3" });
    link.open();
    const strategy = built[0]?.socket?.reconnectStrategy as (retries: number, cause: Error) => number | false;
    const delays = Array.from({ length: 6 }, (_, retries) => strategy(retries, new Error("lost")));
    const bounds = [
      [75, 125],
      [150, 250],
      [300, 500],
      [3_750, 5_000],
      [3_750, 5_000],
      [3_750, 5_000],
    ];
    const verdicts = delays.map((delay, attempt) => {
      const [low = 0, high = 0] = bounds[attempt] ?? [];
      return delay !== false && delay >= low && delay <= high
        ? "in bounds"
        : `${delay} outside ${low}-${high}`;
    });
    expect(verdicts).toEqual(bounds.map(() => "in bounds"));
    // A long backoff never exceeds the steady cadence, however far the doubling would go.
    const slow = linkTo(REDIS_URL, { REDIS_RETRY_DELAY_MS: "5000", REDIS_MAX_RETRIES: "3" });
    slow.link.open();
    const slowStrategy = slow.built[0]?.socket?.reconnectStrategy as (
      retries: number,
      cause: Error,
    ) => number;
    expect(slowStrategy(2, new Error("lost"))).toBeLessThanOrEqual(5_000);

    await link.close();
    expect(strategy(0, new Error("lost"))).toBe(false);
  });

  test("commands fail at once while disconnected instead of queueing, and go to the configured database", async () => {
    const { link, ready, config } = linkTo(REDIS_URL, { REDIS_DB: "3" });
    link.open();
    const connecting = link.client;
    await expect(within(WITHIN_MS, connecting?.ping() ?? Promise.resolve("none"))).rejects.toThrow();
    await waitFor(() => ready.length === 1, "the link to be ready");
    const key = `unit-link-db-${crypto.randomUUID()}`;
    await link.client?.set(key, "here", { expiration: { type: "PX", value: 10_000 } });
    const other = createClient({ url: config.redis.url, database: 3 });
    await other.connect();
    try {
      expect(await other.get(key)).toBe("here");
    } finally {
      await other.del(key);
      await other.close();
    }
  });

  test("close waits for replies already asked for, and returns within a command timeout when Redis hangs", async () => {
    const redis = await startOwnRedis();
    try {
      const { link, ready } = linkTo(redis.url);
      link.open();
      await waitFor(() => ready.length === 1, "the link to be ready");
      const pending = link.client?.ping();
      await link.close();
      expect(await pending).toBe("PONG");

      const hung = linkTo(redis.url);
      hung.link.open();
      await waitFor(() => hung.ready.length === 1, "the second link to be ready");
      redis.pause();
      const unanswered = hung.link.client?.ping().catch(() => "dropped");
      expect(await within(WITHIN_MS, hung.link.close())).toBeUndefined();
      expect(await within(WITHIN_MS, unanswered ?? Promise.resolve("no client"))).toBe("dropped");
      expect(hung.link.client?.isOpen).toBe(false);
    } finally {
      redis.resume();
      await redis.stop();
    }
  });

  test("a reconnection whose handshake goes unanswered is given up too, and once Redis answers the link is up with the quick backoff again", async () => {
    const redis = await startOwnRedis();
    const hole = await startBlackHole({ hostname: "127.0.0.1", port: redis.port });
    try {
      const { link, ready, errors, built } = linkTo(hole.url);
      link.open();
      await waitFor(() => ready.length === 1, "the link to be ready");
      hole.hang();
      hole.drop();
      await waitFor(
        () => errors.some((error) => (error as Error).message.includes("handshake unanswered")),
        "the reconnection's handshake to be given up",
        RECONNECT_WITHIN_MS,
      );
      hole.release();
      await waitFor(() => ready.length === 2, "the link to be ready again", RECONNECT_WITHIN_MS);
      expect(await link.client?.ping()).toBe("PONG");
      // Failed attempts are forgotten once a connection is up: the next outage starts with quick retries.
      const strategy = built.at(-1)?.socket?.reconnectStrategy as (retries: number, cause: Error) => number;
      expect(strategy(0, new Error("lost"))).toBeLessThanOrEqual(50 * 1.25);
    } finally {
      hole.stop();
      await redis.stop();
    }
  });

  test("while a replacement waits out its backoff, opening again does not connect a second time", async () => {
    const silent = silentListener();
    try {
      const { link, errors } = linkTo(silent.url, { REDIS_RETRY_DELAY_MS: "2000" });
      link.open();
      await waitFor(() => errors.length === 1, "the first attempt to be given up");
      link.open();
      expect(link.client).toBeUndefined();
      expect(silent.sockets.opened).toBe(1);
    } finally {
      silent.stop();
    }
  });

  test("once closed, it never connects again", async () => {
    const { link } = linkTo(REDIS_URL);
    await link.close();
    link.open();
    expect(link.client).toBeUndefined();
  });

  test("with REDIS_PASSWORD set, the handshake authenticates and the link is up", async () => {
    const redis = await startOwnRedis();
    try {
      const admin = await redisClient(redis.url);
      await admin.configSet("requirepass", "link-password");
      await admin.close();
      const { link, ready } = linkTo(redis.url, { REDIS_PASSWORD: "link-password" });
      link.open();
      await waitFor(() => ready.length === 1, "the link to be ready");
      expect(await link.client?.ping()).toBe("PONG");
    } finally {
      await redis.stop();
    }
  });

  test("closing while the handshake is unanswered drops the connection at once: there is nothing to drain", async () => {
    const silent = silentListener();
    try {
      const { link } = linkTo(silent.url, {
        REDIS_COMMAND_TIMEOUT_MS: "30000",
        REDIS_CONNECT_TIMEOUT_MS: "30000",
      });
      link.open();
      await waitFor(() => silent.sockets.opened === 1, "the connection to be accepted");
      expect(await within(WITHIN_MS, link.close())).toBeUndefined();
      await waitFor(() => silent.sockets.open === 0, "the socket to be closed");
    } finally {
      silent.stop();
    }
  });

  test("a link that is up stays up: the handshake's watchdog is off once the handshake is done", async () => {
    const { link, ready, errors } = linkTo(REDIS_URL);
    link.open();
    await waitFor(() => ready.length === 1, "the link to be ready");
    // A watchdog armed before the link was ready would have fired before this one does.
    await afterGiveUps(1, { REDIS_CONNECT_TIMEOUT_MS: "100" });
    expect(errors).toEqual([]);
    expect(await link.client?.ping()).toBe("PONG");
  });

  test("once closed, nothing that was pending reconnects: neither a handshake's watchdog nor a replacement waiting out its backoff", async () => {
    const connecting = silentListener();
    const backingOff = silentListener();
    try {
      const first = linkTo(connecting.url);
      first.link.open();
      await waitFor(() => connecting.sockets.opened === 1, "the first link to connect");
      await first.link.close();

      const second = linkTo(backingOff.url);
      second.link.open();
      await waitFor(() => second.errors.length === 1, "the second link's first give-up");
      await second.link.close();

      // Longer than the 100 ms watchdog plus the longest 62 ms backoff of the links closed above.
      await afterGiveUps(2, { REDIS_CONNECT_TIMEOUT_MS: "100", REDIS_RETRY_DELAY_MS: "200" });
      expect(connecting.sockets.opened).toBe(1);
      expect(first.errors).toEqual([]);
      expect(backingOff.sockets.opened).toBe(1);
    } finally {
      connecting.stop();
      backingOff.stop();
    }
  });

  test("waiting out the backoff after a lost connection is not an unanswered handshake: the link does not give up on its own", async () => {
    const redis = await startOwnRedis();
    try {
      // A backoff (3.75-6.25 s) far longer than the 100 ms a handshake is given, and than the reference
      // link needs to give up even on a loaded machine (with 500 ms, a loaded run once reached the
      // reconnection itself, whose connect the watchdog then rightly gave up).
      const { link, ready, errors } = linkTo(redis.url, { REDIS_RETRY_DELAY_MS: "5000" });
      link.open();
      await waitFor(() => ready.length === 1, "the link to be ready");
      await redis.stop();
      await waitFor(() => errors.length > 0, "the loss to be reported");
      await afterGiveUps(1, { REDIS_CONNECT_TIMEOUT_MS: "100" });
      const messages = errors.map((error) => (error as Error).message);
      expect(messages.filter((message) => message.includes("handshake unanswered"))).toEqual([]);
    } finally {
      await redis.stop();
    }
  });
});
