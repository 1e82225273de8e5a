import type { Config } from "../config/index.ts";
import { withinDeadline } from "./deadline.ts";
import { buildClient, type RedisClient, type RedisLibrary } from "./redis-clients.ts";

/** Slowest reconnection cadence once the quick attempts are used up; reconnecting never stops. */
const MAX_RECONNECT_DELAY_MS = 5_000;

/** Quick attempts first (doubling from REDIS_RETRY_DELAY_MS), then a steady cadence, with jitter. */
function reconnectDelay(attempt: number, { retryDelayMs, maxRetries }: Config["redis"]): number {
  const base = attempt < maxRetries ? retryDelayMs * 2 ** attempt : MAX_RECONNECT_DELAY_MS;
  return Math.min(MAX_RECONNECT_DELAY_MS, Math.round(base * (0.75 + Math.random() * 0.5)));
}

export type { RedisClient };

export interface RedisLinkEvents {
  /** A client completed its handshake and takes commands. */
  readonly ready: (client: RedisClient) => void;
  /** A connection attempt failed or was given up, or a ready connection was lost. */
  readonly error: (error: unknown) => void;
}

/**
 * One Redis connection kept up for good. node-redis reconnects after errors, but its connectTimeout
 * stops at the TCP connect: a server that accepts the connection and never answers the handshake
 * (HELLO, AUTH, SELECT, CLIENT SETINFO) leaves the client waiting forever, never ready, never
 * retrying. So each attempt, handshake included, gets REDIS_CONNECT_TIMEOUT_MS; past it the client is
 * destroyed and a new one built after the same backoff node-redis uses between its own attempts.
 */
export class RedisLink {
  private current: RedisClient | undefined;
  /** Failed attempts since the last ready connection, across the clients built. */
  private attempts = 0;
  private watchdog: ReturnType<typeof setTimeout> | undefined;
  private rebuild: ReturnType<typeof setTimeout> | undefined;
  private closed = false;

  constructor(
    private readonly library: RedisLibrary,
    private readonly config: Config["redis"],
    private readonly events: RedisLinkEvents,
  ) {}

  /** The client of the moment; none while a replacement waits out its backoff. */
  get client(): RedisClient | undefined {
    return this.current;
  }

  open(): void {
    if (!this.current && !this.rebuild && !this.closed) this.start();
  }

  /** Waits for pending replies at most one command timeout; a client still connecting is dropped at once. */
  async close(): Promise<void> {
    this.closed = true;
    this.disarm();
    clearTimeout(this.rebuild);
    this.rebuild = undefined;
    const client = this.current;
    if (!client) return;
    // A client still connecting has nothing to drain; destroy() is a no-op once close() has drained.
    if (client.isReady) await withinDeadline(client.close(), this.config.commandTimeoutMs);
    client.destroy();
  }

  private start(): void {
    const { client, readyEvent } = buildClient(this.library, this.config, {
      retryIn: () => (this.closed ? false : reconnectDelay(this.attempts++, this.config)),
      closed: () => this.closed,
    });
    this.current = client;
    const isCurrent = () => client === this.current && !this.closed;
    client.on("error", (error: unknown) => {
      if (!isCurrent()) return;
      // The attempt is over; node-redis waits out the backoff and emits 'reconnecting' for the next.
      this.disarm();
      this.events.error(error);
    });
    client.on("reconnecting", () => {
      if (isCurrent()) this.arm(client);
    });
    client.on(readyEvent, () => {
      if (!isCurrent()) return;
      this.disarm();
      this.attempts = 0;
      this.events.ready(client);
    });
    this.arm(client);
    client.connect().catch((error: unknown) => {
      // A standalone client keeps trying by itself (reconnectStrategy) and only gives up once closed;
      // Sentinel and Cluster clients give up when no node answers the discovery: build a new one.
      if (isCurrent() && !client.isReady) this.giveUp(client, error);
    });
  }

  /** Only called with no watchdog running: at start, and on 'reconnecting' after 'error' disarmed. */
  private arm(client: RedisClient): void {
    this.watchdog = setTimeout(() => this.giveUp(client), this.config.connectTimeoutMs);
    this.watchdog.unref();
  }

  private disarm(): void {
    clearTimeout(this.watchdog);
    this.watchdog = undefined;
  }

  /**
   * Only ever reached for the current client, not ready: 'ready', 'error' and close() disarm the
   * watchdog first, and a rejected connect() is checked the same way.
   */
  private giveUp(client: RedisClient, reason?: unknown): void {
    this.disarm();
    this.current = undefined;
    client.destroy();
    this.events.error(
      reason ??
        new Error(
          `connection not ready within ${this.config.connectTimeoutMs} ms (connect or handshake unanswered)`,
        ),
    );
    this.rebuild = setTimeout(
      // close() clears this timer: it never fires once closed.
      () => {
        this.rebuild = undefined;
        this.start();
      },
      reconnectDelay(this.attempts++, this.config),
    );
    this.rebuild.unref();
  }
}
