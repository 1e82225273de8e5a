import type { TieredCredentialCache } from "../cache/tiered.ts";
import type { CachedCredential } from "../cache/types.ts";
import type { KongAdapter } from "../kong/adapter.ts";
import type { AnonymousConsumers } from "../kong/anonymous.ts";
import { pickCredential, type SigningPolicy, type UsableCredential } from "../kong/credential.ts";
import {
  failed,
  type KongMisconfigured,
  type KongResult,
  type KongUnavailable,
  kongMisconfigured,
  kongUnavailable,
  type Result,
  succeeded,
  type UnknownConsumer,
  unknownConsumer,
} from "../kong/result.ts";
import type { KongConsumer, KongCredential } from "../kong/types.ts";
import { RefreshAhead, type RefreshAheadOptions } from "./refresh-ahead.ts";
import { SingleFlight } from "./single-flight.ts";

export type CredentialSource = "redis" | "kong" | "stale-memory" | "stale-redis";

export interface FoundCredential {
  readonly credential: CachedCredential;
  readonly source: CredentialSource;
  /** Why a stale copy was used. */
  readonly reason?: string;
}

/** Kong's failures as the handler answers them; an outage with nothing stale to fall back on says when to retry. */
export type LookupFailure =
  | UnknownConsumer
  | KongMisconfigured
  | (KongUnavailable & { readonly retryAfterSeconds: number });

export type CredentialLookup = Result<FoundCredential, LookupFailure>;

export interface CredentialServiceOptions {
  /** Which credentials tokens are signed with, and what is created when a consumer has none. */
  readonly policy: SigningPolicy;
  /** What a 503 tells clients to wait before trying again. */
  readonly retryAfterSeconds: () => number;
  /** How long a provisioning lock is held, and how long a loser waits for the winner. */
  readonly provisionLockMs: number;
  /** Never signed for nor provisioned, however a lookup reaches them. */
  readonly anonymous?: AnonymousConsumers;
  /** Background refreshes of entries served late in their lifetime (ratio 0: none). */
  readonly refreshAhead: RefreshAheadOptions;
  readonly now?: () => number;
  /** Told of the listing a credential was picked from (or created after), so superseded ones retire. */
  readonly onPicked?: (
    consumerId: string,
    kongConsumerId: string,
    listing: readonly KongCredential[],
    pickedId: string,
  ) => Promise<unknown>;
  /** Told when a stale copy signs: a superseded credential it names must outlive its new tokens. */
  readonly onStale?: (entry: CachedCredential) => Promise<unknown>;
}

/**
 * Finds the credential a consumer's tokens are signed with: memory, then Redis, then Kong (creating a
 * credential when the consumer has none), with stale copies as the fallback when Kong is unusable.
 * Lookups for one consumer are coalesced; Kong's failures come back as values, and only a fault of
 * the code (or of the cache) is thrown.
 */
export class CredentialService {
  private readonly flights = new SingleFlight<CredentialLookup>();
  private readonly now: () => number;
  private readonly ahead: RefreshAhead;

  constructor(
    private readonly kong: KongAdapter,
    private readonly cache: TieredCredentialCache,
    private readonly options: CredentialServiceOptions,
  ) {
    this.now = options.now ?? Date.now;
    this.ahead = new RefreshAhead(options.refreshAhead, {
      now: this.now,
      claim: (consumerId, fetchedAt, ttlMs) => cache.claimRefresh(consumerId, fetchedAt, ttlMs),
      refresh: (consumerId, username) =>
        this.flights.run(consumerId, () => this.resolve(consumerId, username, false)),
    });
  }

  /**
   * The hot path: a fresh credential from memory, or undefined. No I/O, no promise; an entry late in
   * its lifetime starts its refresh in the background (one comparison for every other entry).
   */
  cached(consumerId: string): CachedCredential | undefined {
    const entry = this.cache.fresh(consumerId);
    if (entry !== undefined && this.now() - entry.fetchedAt >= this.ahead.afterMs) this.ahead.due(entry);
    return entry;
  }

  /** Everything after a memory miss. `username` is only used to find Konnect realm consumers. */
  lookup(consumerId: string, username: string): Promise<CredentialLookup> {
    if (this.cache.isRememberedUnknown(consumerId)) return Promise.resolve(failed(unknownConsumer));
    return this.flights.run(consumerId, () => this.resolve(consumerId, username));
  }

  /** A refresh skips Redis: the entry there is the one being refreshed. */
  private async resolve(consumerId: string, username: string, readShared = true): Promise<CredentialLookup> {
    const shared = readShared ? await this.cache.readShared(consumerId) : undefined;
    if (shared?.fresh) return succeeded({ credential: shared.entry, source: "redis" });
    const found = await this.findInKong(consumerId, username);
    if (found.ok) return succeeded({ credential: found.value, source: "kong" });
    const { error } = found;
    if (error.kind === "misconfigured") return failed(error);
    if (error.kind === "unknown-consumer") {
      // Kong no longer knows the consumer: no tier may keep signing for it.
      await this.cache.forget(consumerId);
      this.cache.rememberUnknown(consumerId);
      return failed(error);
    }
    const stale = this.cache.stale(consumerId, shared);
    if (stale) {
      await this.options.onStale?.(stale.entry);
      return succeeded({ credential: stale.entry, source: `stale-${stale.tier}`, reason: error.message });
    }
    return failed({ ...error, retryAfterSeconds: this.options.retryAfterSeconds() });
  }

  private async findInKong(consumerId: string, username: string): Promise<KongResult<CachedCredential>> {
    const consumer = await this.findConsumer(consumerId, username);
    if (!consumer.ok) return consumer;
    const credentials = await this.kong.listCredentials(consumer.value.id);
    if (!credentials.ok) return credentials;

    const usable = pickCredential(credentials.value, this.options.policy);
    let found: KongResult<CachedCredential>;
    if (usable) {
      found = succeeded(this.toCached(consumerId, consumer.value, usable));
      await this.cache.remember(found.value);
    } else found = await this.provision(consumerId, consumer.value);
    if (found.ok) {
      const picked = found.value.credentialId;
      await this.options.onPicked?.(consumerId, consumer.value.id, credentials.value, picked);
    }
    return found;
  }

  private async findConsumer(consumerId: string, username: string): Promise<KongResult<KongConsumer>> {
    // One call after the other: while the breaker is half-open only one trial call may be in flight.
    let consumer = await this.kong.findConsumer(consumerId);
    const unknown = !consumer.ok && consumer.error.kind === "unknown-consumer";
    if (unknown && this.kong.strategy.resolvesByUsername && isUsableName(username)) {
      consumer = await this.kong.findConsumer(username);
    }
    // By name, a realm consumer can land on an anonymous consumer that is listed only by its id.
    if (
      consumer.ok &&
      this.options.anonymous?.includes(consumer.value.id.toLowerCase(), consumer.value.username)
    ) {
      return failed(unknownConsumer);
    }
    return consumer;
  }

  /**
   * Creates the consumer's first credential. With Redis, instances take a short per-consumer lock
   * first; the winner re-checks the shared tier (another instance may just have finished) before
   * creating, losers poll Redis for the winner's entry and try the lock again, until twice the lock's
   * time has passed. Without Redis the single-flight is the only guard.
   */
  private async provision(consumerId: string, consumer: KongConsumer): Promise<KongResult<CachedCredential>> {
    let deadline = this.now() + this.options.provisionLockMs * 2;
    for (let contended = false; ; contended = true) {
      const lock = await this.cache.lockForProvisioning(consumerId, this.options.provisionLockMs);
      if (lock.kind === "unavailable") break;
      if (lock.kind === "acquired") {
        try {
          const shared = await this.cache.readShared(consumerId);
          if (shared?.fresh) return succeeded(shared.entry);
          // The lock was held, or Redis did not answer at once: the one before may have created the
          // credential and lost its shared entry (a Redis failover loses the last writes), so Kong says.
          if (contended || lock.waited) return await this.createUnlessListed(consumerId, consumer);
          return await this.create(consumerId, consumer);
        } finally {
          await lock.release();
        }
      }
      // Time spent waiting out a failover inside the lock is no sign of a stuck holder: wait afresh.
      if (lock.waited) deadline = this.now() + this.options.provisionLockMs * 2;
      if (this.now() >= deadline) {
        return failed(kongUnavailable("another instance is still provisioning this consumer"));
      }
      // Stryker disable next-line ArithmeticOperator: only the pause between polls changes; a wait ends on Redis or the deadline.
      await Bun.sleep(20 + Math.random() * 20);
      const winner = await this.cache.readShared(consumerId);
      if (winner?.fresh) return succeeded(winner.entry);
    }
    return this.create(consumerId, consumer);
  }

  private async createUnlessListed(
    consumerId: string,
    consumer: KongConsumer,
  ): Promise<KongResult<CachedCredential>> {
    const credentials = await this.kong.listCredentials(consumer.id);
    if (!credentials.ok) return credentials;
    const usable = pickCredential(credentials.value, this.options.policy);
    if (!usable) return this.create(consumerId, consumer);
    const entry = this.toCached(consumerId, consumer, usable);
    await this.cache.remember(entry);
    return succeeded(entry);
  }

  private async create(consumerId: string, consumer: KongConsumer): Promise<KongResult<CachedCredential>> {
    const created = await this.kong.createCredential(consumer.id, this.options.policy.draft);
    if (!created.ok) return created;
    const usable = this.options.policy.usable(created.value);
    // Kong generated the secret itself, or stored the public key sent; if the credential it answers
    // cannot be used, the setup is broken.
    if (!usable)
      return failed(kongMisconfigured("Kong created a credential the jwt plugin could not verify"));
    const entry = this.toCached(consumerId, consumer, usable);
    await this.cache.remember(entry);
    return succeeded(entry);
  }

  private toCached(consumerId: string, consumer: KongConsumer, usable: UsableCredential): CachedCredential {
    return {
      consumerId,
      kongConsumerId: consumer.id,
      username: consumer.username ?? null,
      credentialId: usable.id,
      key: usable.key,
      algorithm: usable.algorithm,
      secret: usable.secret,
      fetchedAt: this.now(),
      signingKey: usable.signingKey,
      ...(usable.kid === undefined ? {} : { kid: usable.kid }),
    };
  }
}

/** A username that can be put in a path segment (see strategies.pathSegment). */
function isUsableName(username: string): boolean {
  return username !== "" && username !== "." && username !== "..";
}
