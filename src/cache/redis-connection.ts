import type { createClient } from "redis";
import type { Config } from "../config/index.ts";
import type { Logger } from "../telemetry/logger.ts";

/** Slowest reconnection cadence once the quick attempts are used up; reconnecting never stops. */
const MAX_RECONNECT_DELAY_MS = 5_000;

/**
 * Commands fail fast while disconnected instead of queueing, each has a timeout, and reconnection
 * backs off quickly to a steady cadence but never gives up.
 */
function createRedisClient(create: typeof createClient, config: Config["redis"], isClosed: () => boolean) {
  const { url, password, db, connectTimeoutMs, commandTimeoutMs, retryDelayMs, maxRetries } = config;
  return create({
    url,
    ...(password ? { password } : {}),
    database: db,
    disableOfflineQueue: true,
    commandOptions: { timeout: commandTimeoutMs },
    socket: {
      connectTimeout: connectTimeoutMs,
      reconnectStrategy: (retries) => {
        if (isClosed()) return false;
        const base = retries < maxRetries ? retryDelayMs * 2 ** retries : MAX_RECONNECT_DELAY_MS;
        return Math.min(MAX_RECONNECT_DELAY_MS, Math.round(base * (0.75 + Math.random() * 0.5)));
      },
    },
  });
}

export type RedisClient = ReturnType<typeof createRedisClient>;

/** ready: answering; degraded: connected but commands time out (hung); down: not connected. */
export type RedisState = "ready" | "degraded" | "down";

const TIMED_OUT = Symbol("timed out");
const FAILED = Symbol("failed");

/**
 * One Redis connection (plus a subscriber when asked for), built so Redis can never take the service
 * down: errors are logged once per outage, never thrown, and reconnection goes on in the background
 * until Redis is back. Every command is bounded end to end by REDIS_COMMAND_TIMEOUT_MS: node-redis
 * clears its own timer once a command is written, so a hung server (SIGSTOP, a partition that drops
 * packets) would otherwise hold the caller for as long as it hangs. After a timeout the connection is
 * degraded: callers skip Redis at once, and a probe PINGs until an answer comes within the deadline.
 */
export class RedisConnection {
  private commands: RedisClient | undefined;
  private subscriber: RedisClient | undefined;
  private create: typeof createClient | undefined;
  private down = false;
  private closed = false;
  private consecutiveTimeouts = 0;
  private probeTimer: ReturnType<typeof setInterval> | undefined;
  private probeInFlight = false;

  constructor(
    private readonly config: Config["redis"],
    private readonly logger: Logger,
  ) {}

  /**
   * Starts connecting without blocking start-up; the service works without Redis meanwhile. The
   * client library itself is loaded here, so deployments without Redis never pay for it.
   */
  async connect(): Promise<void> {
    this.create ??= (await import("redis")).createClient;
    this.commands ??= this.build("commands");
    this.commands.connect().catch(() => {
      // The 'error' listener has logged it; reconnectStrategy keeps trying.
    });
  }

  get status(): RedisState {
    if (!this.commands?.isReady) return "down";
    return this.consecutiveTimeouts > 0 ? "degraded" : "ready";
  }

  /**
   * Runs one command within REDIS_COMMAND_TIMEOUT_MS. Answers `fallback` instead when Redis is down
   * or degraded, when the command fails, or when no reply comes in time (the command is then left to
   * settle on its own).
   */
  async run<T, F>(command: (client: RedisClient) => Promise<T>, fallback: F): Promise<T | F> {
    const client = this.commands;
    if (!client || this.status !== "ready") return fallback;
    let pending: Promise<T>;
    try {
      pending = command(client);
    } catch {
      return fallback;
    }
    const outcome = await this.bounded(pending);
    if (outcome === TIMED_OUT) {
      this.timedOut();
      return fallback;
    }
    if (outcome === FAILED) return fallback;
    this.answered();
    return outcome.value;
  }

  /** Subscribes on a second connection (Redis requires one per subscriber). */
  async subscribe(channel: string, onMessage: (message: string) => void): Promise<void> {
    this.create ??= (await import("redis")).createClient;
    this.subscriber ??= this.build("subscriber");
    const subscriber = this.subscriber;
    subscriber.connect().catch(() => {});
    await subscriber.subscribe(channel, onMessage);
  }

  /** Waits for pending replies at most one command timeout, then drops them: a hung Redis cannot hold shutdown. */
  async close(): Promise<void> {
    this.closed = true;
    this.stopProbing();
    await Promise.allSettled(
      [this.commands, this.subscriber].map(async (client) => {
        if (!client?.isOpen) return;
        if ((await this.bounded(client.close())) === TIMED_OUT) client.destroy();
      }),
    );
  }

  private async bounded<T>(pending: Promise<T>): Promise<{ value: T } | typeof TIMED_OUT | typeof FAILED> {
    let timer: ReturnType<typeof setTimeout> | undefined;
    const deadline = new Promise<typeof TIMED_OUT>((resolve) => {
      timer = setTimeout(() => resolve(TIMED_OUT), this.config.commandTimeoutMs);
    });
    try {
      return await Promise.race([
        pending.then(
          (value) => ({ value }),
          (): typeof FAILED => FAILED,
        ),
        deadline,
      ]);
    } finally {
      clearTimeout(timer);
    }
  }

  private timedOut(): void {
    if (this.consecutiveTimeouts++ > 0 || this.closed) return;
    this.logger.warn(
      `Redis did not answer within ${this.config.commandTimeoutMs} ms, carrying on without it until it does`,
      { event: { action: "redis-degraded" } },
    );
    this.probeTimer = setInterval(() => this.probe(), this.config.commandTimeoutMs);
    this.probeTimer.unref?.();
  }

  private answered(): void {
    if (this.consecutiveTimeouts === 0) return;
    this.consecutiveTimeouts = 0;
    this.stopProbing();
    this.logger.info("Redis answers in time again", { event: { action: "redis-recovered" } });
  }

  /** One PING at a time, so a Redis hung for hours never accumulates more than one pending probe. */
  private probe(): void {
    const client = this.commands;
    if (this.probeInFlight || !client?.isReady) return;
    this.probeInFlight = true;
    const ping = client.ping();
    void this.bounded(ping).then((outcome) => {
      if (outcome === TIMED_OUT) this.consecutiveTimeouts++;
      else if (outcome !== FAILED) this.answered();
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

  private build(role: string): RedisClient {
    if (!this.create) throw new Error("redis not loaded");
    const client = createRedisClient(this.create, this.config, () => this.closed);
    client.on("error", (error: unknown) => {
      if (role !== "commands" || this.down || this.closed) return;
      this.down = true;
      const reason = error instanceof Error ? error.message : "unknown error";
      this.logger.warn(`Redis unavailable, serving from memory and Kong: ${reason}`, {
        event: { action: "redis-down" },
      });
    });
    client.on("ready", () => {
      if (role !== "commands") return;
      if (this.down) this.logger.info("Redis connection restored", { event: { action: "redis-up" } });
      this.down = false;
      // A completed handshake on a new connection is an answer.
      this.answered();
    });
    return client;
  }
}
