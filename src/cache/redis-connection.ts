import type { Config } from "../config/index.ts";
import type { Logger } from "../telemetry/logger.ts";
import { FAILED, TIMED_OUT, withinDeadline } from "./deadline.ts";
import type { RedisLibrary } from "./redis-clients.ts";
import { isChannelRefusal, isTopologyFailure } from "./redis-failures.ts";
import { type RedisClient, RedisLink } from "./redis-link.ts";

/**
 * ready: answering; degraded: connected, but commands time out (hung) or were refused for a reason
 * of the topology (a Cluster shard without its master, a Sentinel master stepping down) within the
 * last FAILING_FOR_MS; down: not connected.
 */
export type RedisState = "ready" | "degraded" | "down";

/** How long after a command failed for a reason of the topology the connection is reported degraded. */
export const FAILING_FOR_MS = 2_000;
/** How often a SUBSCRIBE that Redis refused on a live connection is asked again. */
export const SUBSCRIBE_RETRY_MS = 2_000;
const FAILED_BY_TOPOLOGY = Symbol("failed by the topology");

/**
 * One Redis connection (plus a subscriber when asked for), built so Redis can never take the service
 * down: errors are logged once per outage, never thrown, and reconnection goes on in the background
 * until Redis is back. Every command is bounded end to end by REDIS_COMMAND_TIMEOUT_MS: node-redis
 * clears its own timer once a command is written, so a hung server (SIGSTOP, a partition that drops
 * packets) would otherwise hold the caller for as long as it hangs. After a timeout the connection is
 * degraded: callers skip Redis at once, and a probe PINGs until an answer comes within the deadline.
 */
export class RedisConnection {
  private commands: RedisLink | undefined;
  private subscriber: RedisLink | undefined;
  /** Channel → handler, subscribed again on each new subscriber connection. */
  private readonly subscriptions = new Map<string, (message: string) => void>();
  /** The subscriber client on which Redis answered the SUBSCRIBE of every channel, since it was last ready. */
  private subscribedOn: RedisClient | undefined;
  /** A refused subscription was logged, and none has been taken since. */
  private refused = false;
  private subscribeRetry: ReturnType<typeof setTimeout> | undefined;
  private down = false;
  private closed = false;
  /** A command went unanswered within the deadline, and no answer has come in time since. */
  private hung = false;
  private probeTimer: ReturnType<typeof setInterval> | undefined;
  private probeInFlight = false;
  /** When a command last failed for a reason of the topology, while the client was ready; -∞: never. */
  private failedAt = Number.NEGATIVE_INFINITY;

  constructor(
    private readonly config: Config["redis"],
    private readonly logger: Logger,
    private readonly now: () => number = () => performance.now(),
  ) {}

  /**
   * Starts connecting without blocking start-up; the service works without Redis meanwhile. The
   * client library itself is loaded here, so deployments without Redis never pay for it.
   */
  async connect(): Promise<void> {
    const library = await loadLibrary();
    if (this.closed) return;
    this.commands ??= new RedisLink(library, this.config, {
      ready: () => this.connected(),
      error: (error) => this.unavailable(error),
    });
    this.commands.open();
  }

  get status(): RedisState {
    if (!this.commands?.client?.isReady) return "down";
    return this.hung || this.failing() ? "degraded" : "ready";
  }

  /**
   * Whether messages on the channels subscribed to reach this instance now: the subscriber connection
   * is up and Redis took every SUBSCRIBE on it (an ACL user without the channel's permission, Redis 7's
   * default for new users, is refused them). Undefined when nothing was subscribed to.
   */
  get subscribed(): boolean | undefined {
    if (this.subscriptions.size === 0) return undefined;
    const client = this.subscriber?.client;
    return client?.isReady === true && client === this.subscribedOn;
  }

  /**
   * Runs one command within REDIS_COMMAND_TIMEOUT_MS. Answers `fallback` instead when Redis is down
   * or degraded, when the command fails, or when no reply comes in time (the command is then left to
   * settle on its own).
   */
  async run<T, F>(command: (client: RedisClient) => Promise<T>, fallback: F): Promise<T | F> {
    const client = this.commands?.client;
    // Failing commands are still sent: they fail fast, and those to the shards that work succeed.
    if (!client?.isReady || this.hung) return fallback;
    let pending: Promise<T | typeof FAILED_BY_TOPOLOGY>;
    try {
      pending = command(client).catch((error: unknown) => {
        if (isTopologyFailure(error)) return FAILED_BY_TOPOLOGY;
        throw error;
      });
    } catch {
      return fallback;
    }
    const outcome = await this.bounded(pending);
    if (outcome === TIMED_OUT) {
      this.timedOut();
      return fallback;
    }
    if (outcome === FAILED) return fallback;
    if (outcome.value === FAILED_BY_TOPOLOGY) {
      // A lost standalone connection is an outage, reported as such; a Cluster client stays ready
      // while one of its shards is lost.
      if (client.isReady) this.failed();
      return fallback;
    }
    this.succeeded();
    return outcome.value as T;
  }

  /**
   * Subscribes on a second connection (Redis requires one per subscriber), without waiting for it:
   * the subscription is made, and made again, on each connection that completes its handshake.
   */
  async subscribe(channel: string, onMessage: (message: string) => void): Promise<void> {
    const library = await loadLibrary();
    if (this.closed) return;
    this.subscriptions.set(channel, onMessage);
    this.subscriber ??= new RedisLink(library, this.config, {
      ready: (client) => this.resubscribe(client),
      // Outages are logged once, by the command connection. node-redis sends the SUBSCRIBE of a
      // connection that was subscribed again in the next one's handshake: a channel revoked while
      // subscribed (Redis then closes the connection) fails every reconnection until it is granted.
      error: (error) => {
        if (isChannelRefusal(error))
          this.refusedOnce([...this.subscriptions.keys()].join(", "), "at each reconnection", error);
      },
    });
    const ready = this.subscriber.client;
    if (ready?.isReady) this.resubscribe(ready);
    else this.subscriber.open();
  }

  /** Waits for pending replies at most one command timeout: a hung Redis cannot hold shutdown. */
  async close(): Promise<void> {
    this.closed = true;
    this.stopProbing();
    clearTimeout(this.subscribeRetry);
    await Promise.allSettled([this.commands?.close(), this.subscriber?.close()]);
  }

  private bounded<T>(pending: Promise<T>) {
    return withinDeadline(pending, this.config.commandTimeoutMs);
  }

  private failing(): boolean {
    return this.now() - this.failedAt < FAILING_FOR_MS;
  }

  private failed(): void {
    if (!this.failing() && !this.closed)
      this.logger.warn(
        "Redis refuses commands while its topology changes, carrying on without it meanwhile",
        {
          event: { action: "redis-failing" },
        },
      );
    this.failedAt = this.now();
  }

  private succeeded(): void {
    if (this.failedAt === Number.NEGATIVE_INFINITY || this.failing()) return;
    this.failedAt = Number.NEGATIVE_INFINITY;
    this.logger.info("Redis takes commands again", { event: { action: "redis-failing-over" } });
  }

  /**
   * node-redis subscribes again by itself after a reconnect, but only to channels whose SUBSCRIBE was
   * answered; one lost before its answer, or a new client, needs it sent again (a no-op otherwise).
   */
  private resubscribe(client: RedisClient): void {
    this.subscribedOn = undefined;
    const answered = [...this.subscriptions].map(([channel, onMessage]) =>
      client.subscribe(channel, onMessage).then(
        () => true,
        (error: unknown) => {
          // A lost connection is retried on the next one; a refusal on a live one is worth a word, once.
          if (this.isLive(client)) this.refusedOnce(channel, `every ${SUBSCRIBE_RETRY_MS} ms`, error);
          return false;
        },
      ),
    );
    void Promise.all(answered).then((taken) => {
      if (taken.every(Boolean)) {
        this.subscribedOn = client;
        if (this.refused)
          this.logger.info("Redis took the subscription", { event: { action: "redis-subscribed" } });
        this.refused = false;
        return;
      }
      // Refused on a live connection (an ACL user without the channel): asked again, so that a fix of
      // the ACL takes without a restart.
      if (!this.isLive(client) || this.subscribeRetry !== undefined) return;
      this.subscribeRetry = setTimeout(() => {
        this.subscribeRetry = undefined;
        if (this.isLive(client)) this.resubscribe(client);
      }, SUBSCRIBE_RETRY_MS);
      this.subscribeRetry.unref();
    });
  }

  /** Logs a refused SUBSCRIBE, once until one is taken. */
  private refusedOnce(channels: string, again: string, error: unknown): void {
    if (this.refused || this.closed) return;
    this.refused = true;
    this.logger.warn(`Redis refused the subscription to ${channels}, asking again ${again}`, {
      err: error,
      event: { action: "redis-subscription-refused" },
    });
  }

  /** The subscriber's current client, connected, and the connection not closed. */
  private isLive(client: RedisClient): boolean {
    // Stryker disable next-line OptionalChaining: the subscriber exists whenever a subscription is made.
    return client.isReady && client === this.subscriber?.client && !this.closed;
  }

  private timedOut(): void {
    if (this.hung || this.closed) return;
    this.hung = true;
    this.logger.warn(
      `Redis did not answer within ${this.config.commandTimeoutMs} ms, carrying on without it until it does`,
      { event: { action: "redis-degraded" } },
    );
    this.probeTimer = setInterval(() => this.probe(), this.config.commandTimeoutMs);
    this.probeTimer.unref();
  }

  private answered(): void {
    if (!this.hung) return;
    this.hung = false;
    this.stopProbing();
    this.logger.info("Redis answers in time again", { event: { action: "redis-recovered" } });
  }

  /** One PING at a time, so a Redis hung for hours never accumulates more than one pending probe. */
  private probe(): void {
    const client = this.commands?.client;
    if (this.probeInFlight || !client?.isReady) return;
    this.probeInFlight = true;
    const ping = client.ping().catch((error: unknown) => {
      // Refused on a live connection (an ACL without PING, say): Redis answered all the same.
      if (!client.isReady) throw error;
    });
    void this.bounded(ping).then((outcome) => {
      if (outcome !== TIMED_OUT && outcome !== FAILED) this.answered();
    });
    void ping
      .catch(() => undefined)
      .finally(() => {
        this.probeInFlight = false;
      });
  }

  private stopProbing(): void {
    clearInterval(this.probeTimer);
    this.probeTimer = undefined;
  }

  private unavailable(error: unknown): void {
    // Nothing is reported after close: the links stop reporting as they close.
    if (this.down) return;
    this.down = true;
    const reason = error instanceof Error ? error.message : String(error);
    this.logger.warn(`Redis unavailable, serving from memory and Kong: ${reason}`, {
      event: { action: "redis-down" },
    });
  }

  private connected(): void {
    if (this.down) this.logger.info("Redis connection restored", { event: { action: "redis-up" } });
    this.down = false;
    // A completed handshake on a new connection is an answer.
    this.answered();
  }
}

async function loadLibrary(): Promise<RedisLibrary> {
  const { createClient, createSentinel, createCluster } = await import("redis");
  return { createClient, createSentinel, createCluster };
}
