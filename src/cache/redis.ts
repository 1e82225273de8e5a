import { z } from "zod";
import type { SecretCipher } from "./cipher.ts";
import type { RedisConnection } from "./redis-connection.ts";
import type { StoredCredential } from "./types.ts";

export interface RedisStoreOptions {
  readonly prefix: string;
  /** An entry younger than this is fresh; older ones are stale copies. */
  readonly freshMs: number;
  /** How long Redis keeps an entry: the fresh TTL, plus the stale window in HIGH_AVAILABILITY mode. */
  readonly retainMs: number;
  readonly cipher?: SecretCipher;
  readonly now?: () => number;
}

export type LockResult =
  | { readonly kind: "acquired"; readonly release: () => Promise<void> }
  | { readonly kind: "busy" }
  | { readonly kind: "unavailable" };

// Redis is shared infrastructure: what comes back is validated like any other input.
const storedSchema = z.object({
  v: z.literal(1),
  consumerId: z.string(),
  kongConsumerId: z.string(),
  username: z.string().nullable(),
  credentialId: z.string(),
  key: z.string().min(1),
  algorithm: z.enum(["HS256", "HS384", "HS512"]),
  fetchedAt: z.number(),
  secret: z.string().optional(),
  sealed: z.object({ kid: z.string(), iv: z.string(), ct: z.string() }).optional(),
});

const RELEASE_IF_OWNER =
  "if redis.call('get', KEYS[1]) == ARGV[1] then return redis.call('del', KEYS[1]) end return 0";

/**
 * The second cache tier: credentials shared by every instance, written with their TTL in one
 * command, secrets sealed when a key is configured. Every method answers "nothing" rather than
 * throwing when Redis is down or slow, so a Redis outage only costs a trip to Kong.
 */
export class RedisCredentialStore {
  private readonly now: () => number;

  constructor(
    private readonly connection: RedisConnection,
    private readonly options: RedisStoreOptions,
  ) {
    this.now = options.now ?? Date.now;
  }

  get prefix(): string {
    return this.options.prefix;
  }

  credentialKey(consumerId: string): string {
    return `${this.options.prefix}:credential:${consumerId}`;
  }

  private lockKey(consumerId: string): string {
    return `${this.options.prefix}:lock:${consumerId}`;
  }

  get invalidationChannel(): string {
    return `${this.options.prefix}:invalidate`;
  }

  async read(consumerId: string): Promise<{ stored: StoredCredential; fresh: boolean } | undefined> {
    const raw = await this.connection.run((client) => client.get(this.credentialKey(consumerId)), null);
    if (typeof raw !== "string") return undefined;
    const parsed = storedSchema.safeParse(safeJson(raw));
    if (!parsed.success || parsed.data.consumerId !== consumerId) return undefined;
    const { v: _version, sealed, secret: plain, ...rest } = parsed.data;
    const secret = sealed
      ? await this.options.cipher?.open(sealed, this.credentialKey(consumerId))
      : this.options.cipher
        ? undefined // a key is configured: plaintext values are not trusted
        : plain;
    if (!secret) return undefined;
    return { stored: { ...rest, secret }, fresh: this.now() - rest.fetchedAt < this.options.freshMs };
  }

  async write(stored: StoredCredential): Promise<void> {
    if (this.connection.status !== "ready") return;
    const key = this.credentialKey(stored.consumerId);
    const { secret, ...rest } = stored;
    const value = this.options.cipher
      ? { v: 1, ...rest, sealed: await this.options.cipher.seal(secret, key) }
      : { v: 1, ...rest, secret };
    const ttl = this.options.retainMs - Math.max(0, this.now() - stored.fetchedAt);
    if (ttl <= 0) return;
    const payload = JSON.stringify(value);
    await this.connection.run(
      (client) => client.set(key, payload, { expiration: { type: "PX", value: Math.ceil(ttl) } }),
      undefined,
    );
  }

  async remove(consumerId: string): Promise<void> {
    await this.connection.run((client) => client.del(this.credentialKey(consumerId)), undefined);
  }

  /** A short per-consumer lock so that instances racing to provision create one credential. */
  async lock(consumerId: string, ttlMs: number): Promise<LockResult> {
    const key = this.lockKey(consumerId);
    const token = crypto.randomUUID();
    const reply = await this.connection.run(
      (client) => client.set(key, token, { condition: "NX", expiration: { type: "PX", value: ttlMs } }),
      undefined,
    );
    if (reply === undefined) return { kind: "unavailable" };
    if (reply !== "OK") return { kind: "busy" };
    return {
      kind: "acquired",
      release: async () => {
        // Unreleased (Redis hung or gone), the lock expires on its own after ttlMs.
        await this.connection.run(
          (client) => client.eval(RELEASE_IF_OWNER, { keys: [key], arguments: [token] }),
          undefined,
        );
      },
    };
  }

  async isLocked(consumerId: string): Promise<boolean> {
    const count = await this.connection.run((client) => client.exists(this.lockKey(consumerId)), 0);
    return count > 0;
  }

  /** Calls `onInvalidate` with each consumer id published on `<prefix>:invalidate`. */
  async listenForInvalidations(onInvalidate: (consumerId: string) => void): Promise<void> {
    await this.connection.subscribe(this.invalidationChannel, (message) => {
      const consumerId = message.trim().toLowerCase();
      if (consumerId) onInvalidate(consumerId);
    });
  }
}

function safeJson(text: string): unknown {
  try {
    return JSON.parse(text);
  } catch {
    return undefined;
  }
}
