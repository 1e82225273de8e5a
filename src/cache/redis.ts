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
  /**
   * How long taking the provisioning lock keeps trying while Redis does not answer (a Sentinel or
   * Cluster failover) before answering "unavailable"; 0 (standalone: nothing to wait for) answers at once.
   */
  readonly lockWaitMs?: number;
}

/** Pause between two tries of the lock while Redis does not answer. */
const LOCK_RETRY_MS = 50;

export type LockResult =
  | {
      readonly kind: "acquired";
      readonly release: () => Promise<void>;
      /** Redis did not answer the first try: a lock held meanwhile may have been lost with a failover. */
      readonly waited: boolean;
    }
  | { readonly kind: "busy"; readonly waited: boolean }
  | { readonly kind: "unavailable" };

/** A claim is never released: it holds until it expires. */
export type ClaimResult = "acquired" | "busy" | "unavailable";

/** Format version; records of another version are misses (v1 sealed only the secret). */
const VERSION = 2;
/** How far ahead of this instance's clock another instance's may be; later records are misses. */
const FUTURE_TOLERANCE_MS = 5_000;
/**
 * Redis is shared infrastructure: what comes back is validated like any other input, and with a
 * key, authenticated as a whole (every field is associated data of the sealed secret). Built at the
 * first read, not at start: without Redis it is never needed, and zod's schemas cost start-up time.
 */
function buildRecordSchema() {
  const text = z.string().max(1024);
  return z.strictObject({
    v: z.literal(VERSION),
    consumerId: text.min(1),
    kongConsumerId: text.min(1),
    username: text.nullable(),
    credentialId: text.min(1),
    key: text.min(1),
    algorithm: z.enum(["HS256", "HS384", "HS512", "EdDSA", "ES256", "RS256"]),
    fetchedAt: z.int().min(0),
    secret: z.string().min(1).max(4096).optional(),
    sealed: z
      .strictObject({ kid: z.string().max(64), iv: z.string().max(64), ct: z.string().max(8192) })
      .optional(),
  });
}
let recordSchema: ReturnType<typeof buildRecordSchema> | undefined;

/**
 * Exactly what one Redis value holds: what another instance needs to sign, with the secret either
 * sealed or plain, and never the imported signing key (a KeyObject serialises as `{}`).
 */
type RedisRecord = z.infer<ReturnType<typeof buildRecordSchema>>;
/** The fields stored as they are, each one authenticated with the sealed secret. */
type RecordFields = Omit<StoredCredential, "secret">;

const RELEASE_IF_OWNER =
  "if redis.call('get', KEYS[1]) == ARGV[1] then return redis.call('del', KEYS[1]) end return 0";

/**
 * The second cache tier: credentials shared by every instance, written with their TTL in one
 * command, secrets sealed when a key is configured (and the whole record authenticated with them). Every method answers "nothing" rather than
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

  // The braces are a hash tag: a consumer's entry and lock live in one Cluster slot, so on one shard
  // whose loss makes both unavailable together (a lock taken on one shard while the entry's shard is
  // down would let the next instance find no entry and create a second credential).
  private credentialKey(consumerId: string): string {
    return `${this.options.prefix}:credential:{${consumerId}}`;
  }

  private lockKey(consumerId: string): string {
    return `${this.options.prefix}:lock:{${consumerId}}`;
  }

  async read(consumerId: string): Promise<{ stored: StoredCredential; fresh: boolean } | undefined> {
    const raw = await this.connection.run((client) => client.get(this.credentialKey(consumerId)), null);
    // Stryker disable next-line ConditionalExpression: a null reply fails the schema like any broken record.
    if (typeof raw !== "string") return undefined;
    recordSchema ??= buildRecordSchema();
    const parsed = recordSchema.safeParse(safeJson(raw));
    if (!parsed.success || parsed.data.consumerId !== consumerId) return undefined;
    const { v: _version, sealed, secret: plain, ...rest } = parsed.data;
    // A record from the future (replayed, or from a clock far ahead) would otherwise stay fresh for ever.
    const age = this.now() - rest.fetchedAt;
    if (age < -FUTURE_TOLERANCE_MS || age >= this.options.retainMs) return undefined;
    const cipher = this.options.cipher;
    // With a key configured, plaintext values are not trusted.
    const secret = cipher ? sealed && (await cipher.open(sealed, this.associatedData(rest))) : plain;
    if (!secret) return undefined;
    return { stored: { ...rest, secret }, fresh: age < this.options.freshMs };
  }

  async write(stored: StoredCredential): Promise<void> {
    const ttl = this.options.retainMs - Math.max(0, this.now() - stored.fetchedAt);
    // Stryker disable next-line ConditionalExpression,EqualityOperator: Redis refuses PX <= 0 too; this spares the trip.
    if (ttl <= 0) return;
    const payload = JSON.stringify(await this.record(stored));
    await this.connection.run(
      (client) =>
        client.set(this.credentialKey(stored.consumerId), payload, {
          expiration: { type: "PX", value: Math.ceil(ttl) },
        }),
      undefined,
    );
  }

  private async record(stored: StoredCredential): Promise<RedisRecord> {
    // Field by field: what is passed in may carry more (the cache hands over its imported signing key).
    const fields: RecordFields = {
      consumerId: stored.consumerId,
      kongConsumerId: stored.kongConsumerId,
      username: stored.username,
      credentialId: stored.credentialId,
      key: stored.key,
      algorithm: stored.algorithm,
      fetchedAt: stored.fetchedAt,
    };
    const cipher = this.options.cipher;
    if (!cipher) return { v: VERSION, ...fields, secret: stored.secret };
    return { v: VERSION, ...fields, sealed: await cipher.seal(stored.secret, this.associatedData(fields)) };
  }

  /** Every field but the secret, in a fixed order, bound to the Redis key the record lives under. */
  private associatedData(record: RecordFields): string {
    return JSON.stringify([
      this.credentialKey(record.consumerId),
      VERSION,
      record.consumerId,
      record.kongConsumerId,
      record.username,
      record.credentialId,
      record.key,
      record.algorithm,
      record.fetchedAt,
    ]);
  }

  async remove(consumerId: string): Promise<void> {
    await this.connection.run((client) => client.del(this.credentialKey(consumerId)), undefined);
  }

  /**
   * A short per-consumer lock so that instances racing to provision create one credential. While Redis
   * does not answer, it is tried again for up to `lockWaitMs`: instances that all went on without it
   * during a failover would each create a credential.
   */
  async lock(consumerId: string, ttlMs: number): Promise<LockResult> {
    const key = this.lockKey(consumerId);
    const token = crypto.randomUUID();
    const giveUpAt = performance.now() + (this.options.lockWaitMs ?? 0);
    let reply: unknown;
    let tries = 0;
    for (;;) {
      tries++;
      reply = await this.connection.run(
        (client) => client.set(key, token, { condition: "NX", expiration: { type: "PX", value: ttlMs } }),
        undefined,
      );
      // Stryker disable next-line EqualityOperator: a boundary of the real clock; one more try at equality changes nothing.
      if (reply !== undefined || performance.now() >= giveUpAt) break;
      await Bun.sleep(LOCK_RETRY_MS);
    }
    if (reply === undefined) return { kind: "unavailable" };
    // A try that timed out may still have been carried out once Redis answered again: ours, then.
    // Stryker disable next-line ConditionalExpression,EqualityOperator: only spares a GET; a first try found another's token.
    if (reply !== "OK" && !(tries > 1 && (await this.holds(key, token))))
      return { kind: "busy", waited: tries > 1 };
    return {
      kind: "acquired",
      waited: tries > 1,
      release: async () => {
        // Unreleased (Redis hung or gone), the lock expires on its own after ttlMs.
        await this.connection.run(
          (client) => client.eval(RELEASE_IF_OWNER, { keys: [key], arguments: [token] }),
          undefined,
        );
      },
    };
  }

  private async holds(key: string, token: string): Promise<boolean> {
    return (await this.connection.run((client) => client.get(key), null)) === token;
  }

  /**
   * Tells every instance listening (this one included) to drop its copies of the consumer; false when
   * Redis did not take the message.
   */
  async publishInvalidation(consumerId: string): Promise<boolean> {
    const reply = await this.connection.run(
      (client) => client.publish(`${this.options.prefix}:invalidate`, consumerId),
      undefined,
    );
    return reply !== undefined;
  }

  /** Claims the refresh of one lifetime of a consumer's entry (the Kong answer of `fetchedAt`) for `ttlMs`. */
  async claimRefresh(consumerId: string, fetchedAt: number, ttlMs: number): Promise<ClaimResult> {
    const key = `${this.options.prefix}:refresh:${consumerId}:${fetchedAt}`;
    const reply = await this.connection.run(
      // Stryker disable next-line StringLiteral: the claim's value is never read; SET NX answers by the key alone.
      (client) => client.set(key, "1", { condition: "NX", expiration: { type: "PX", value: ttlMs } }),
      undefined,
    );
    if (reply === undefined) return "unavailable";
    return reply === "OK" ? "acquired" : "busy";
  }

  /** Calls `onInvalidate` with each consumer id published on `<prefix>:invalidate`. */
  async listenForInvalidations(onInvalidate: (consumerId: string) => void): Promise<void> {
    await this.connection.subscribe(`${this.options.prefix}:invalidate`, (message) => {
      const consumerId = message.trim().toLowerCase();
      if (consumerId) onInvalidate(consumerId);
    });
  }
}

function safeJson(text: string): unknown {
  try {
    return JSON.parse(text);
  } catch {
    // Not JSON: nothing, which the schema refuses like any other broken record.
  }
  return undefined;
}
