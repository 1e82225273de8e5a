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

/**
 * One Redis connection (plus a subscriber when asked for), built so Redis can never take the service
 * down: errors are logged once per outage, never thrown, and reconnection goes on in the background
 * until Redis is back.
 */
export class RedisConnection {
  private commands: RedisClient | undefined;
  private subscriber: RedisClient | undefined;
  private create: typeof createClient | undefined;
  private down = false;
  private closed = false;

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

  get ready(): boolean {
    return this.commands?.isReady ?? false;
  }

  /** The command connection; only to be used after checking `ready`. */
  get client(): RedisClient {
    if (!this.commands) throw new Error("Redis client used before connect()");
    return this.commands;
  }

  /** Subscribes on a second connection (Redis requires one per subscriber). */
  async subscribe(channel: string, onMessage: (message: string) => void): Promise<void> {
    this.create ??= (await import("redis")).createClient;
    this.subscriber ??= this.build("subscriber");
    const subscriber = this.subscriber;
    subscriber.connect().catch(() => {});
    await subscriber.subscribe(channel, onMessage);
  }

  async close(): Promise<void> {
    this.closed = true;
    await Promise.allSettled(
      [this.commands, this.subscriber].map((client) => (client?.isOpen ? client.close() : undefined)),
    );
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
    });
    return client;
  }
}
