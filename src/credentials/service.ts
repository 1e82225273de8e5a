import type { MemoryCredentialCache } from "../cache/memory.ts";
import type { CachedCredential, StoredCredential } from "../cache/types.ts";
import { importSigningKey } from "../jwt/keys.ts";
import type { KongAdapter } from "../kong/adapter.ts";
import { pickCredential, toUsable, type UsableCredential } from "../kong/credential.ts";
import { isKongError, type KongError, kongMisconfigured } from "../kong/errors.ts";
import type { KongConsumer } from "../kong/types.ts";
import { SingleFlight } from "./single-flight.ts";

export type CredentialLookup =
  | { readonly kind: "found"; readonly credential: CachedCredential; readonly source: "kong" | "stale" }
  | { readonly kind: "unknown-consumer" }
  | { readonly kind: "unavailable"; readonly error: KongError; readonly retryAfterSeconds: number }
  | { readonly kind: "misconfigured"; readonly error: KongError };

export interface CredentialServiceOptions {
  readonly secretIsBase64: boolean;
  /** What a 503 tells clients to wait before trying again. */
  readonly retryAfterSeconds: number;
  readonly now?: () => number;
}

/**
 * Finds the credential a consumer's tokens are signed with: memory first, then Kong (creating a
 * credential when the consumer has none). Lookups for one consumer are coalesced, and Kong's failures
 * come back as values the handler turns into answers.
 */
export class CredentialService {
  private readonly flights = new SingleFlight<CredentialLookup>();
  private readonly now: () => number;

  constructor(
    private readonly kong: KongAdapter,
    private readonly cache: MemoryCredentialCache,
    private readonly options: CredentialServiceOptions,
  ) {
    this.now = options.now ?? Date.now;
  }

  /** The hot path: a fresh credential from memory, or undefined. No I/O, no promise. */
  cached(consumerId: string): CachedCredential | undefined {
    return this.cache.fresh(consumerId);
  }

  /** Everything after a memory miss. `username` is only used to find Konnect realm consumers. */
  lookup(consumerId: string, username: string): Promise<CredentialLookup> {
    if (this.cache.isKnownUnknown(consumerId)) return Promise.resolve({ kind: "unknown-consumer" });
    return this.flights.run(consumerId, () => this.fetchFromKong(consumerId, username));
  }

  private async fetchFromKong(consumerId: string, username: string): Promise<CredentialLookup> {
    try {
      const found = await this.findInKong(consumerId, username);
      if (!found) {
        this.cache.markUnknown(consumerId);
        return { kind: "unknown-consumer" };
      }
      return { kind: "found", credential: found, source: "kong" };
    } catch (error) {
      if (!isKongError(error)) throw error;
      if (error.kind === "misconfigured") return { kind: "misconfigured", error };
      const stale = this.cache.read(consumerId);
      if (stale) return { kind: "found", credential: stale.entry, source: "stale" };
      return { kind: "unavailable", error, retryAfterSeconds: this.options.retryAfterSeconds };
    }
  }

  private async findInKong(consumerId: string, username: string): Promise<CachedCredential | undefined> {
    // Both reads address the consumer by id, so they go out together.
    let [consumer, credentials] = await Promise.all([
      this.kong.findConsumer(consumerId),
      this.kong.listCredentials(consumerId),
    ]);
    if (!consumer && this.kong.strategy.resolvesByUsername && isUsableName(username)) {
      consumer = await this.kong.findConsumer(username);
      credentials = consumer ? await this.kong.listCredentials(consumer.id) : null;
    }
    if (!consumer || !credentials) return undefined;

    const usable =
      pickCredential(credentials, this.options.secretIsBase64) ?? (await this.provision(consumer));
    if (!usable) return undefined;
    const entry = this.toCached(consumerId, consumer, usable);
    this.cache.set(entry);
    return entry;
  }

  private async provision(consumer: KongConsumer): Promise<UsableCredential | undefined> {
    const created = await this.kong.createCredential(consumer.id);
    if (!created) return undefined;
    const usable = toUsable(created, this.options.secretIsBase64);
    // Kong generated the secret itself; if Kong's own plugin could not use it, the setup is broken.
    if (!usable) throw kongMisconfigured("Kong created a credential the jwt plugin could not verify");
    return usable;
  }

  private toCached(consumerId: string, consumer: KongConsumer, usable: UsableCredential): CachedCredential {
    const stored: StoredCredential = {
      consumerId,
      kongConsumerId: consumer.id,
      username: consumer.username ?? null,
      credentialId: usable.id,
      key: usable.key,
      algorithm: usable.algorithm,
      secret: usable.secret,
      fetchedAt: this.now(),
    };
    return { ...stored, signingKey: importSigningKey(usable.secretBytes) };
  }
}

/** A username that can be put in a path segment (see strategies.pathSegment). */
function isUsableName(username: string): boolean {
  return username !== "" && username !== "." && username !== "..";
}
