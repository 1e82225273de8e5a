import type { TieredCredentialCache } from "../cache/tiered.ts";
import type { KongAdapter } from "../kong/adapter.ts";
import type { AnonymousConsumers } from "../kong/anonymous.ts";
import { pickCredential, type SigningPolicy, type UsableCredential } from "../kong/credential.ts";
import {
  failed,
  type KongResult,
  kongMisconfigured,
  kongUnavailable,
  succeeded,
  unknownConsumer,
} from "../kong/result.ts";
import type { KongConsumer, KongCredential } from "../kong/types.ts";
import type { Invalidate, InvalidationScope } from "./invalidation.ts";
import type { RetirementPlan, Retirements } from "./retirement.ts";

/** What a rotation did, in ids and times: never a secret. */
export interface RotationReport extends RetirementPlan {
  readonly consumerId: string;
  /** The credential tokens are signed with from now on, and whether this rotation created it. */
  readonly credential: { readonly id: string; readonly algorithm: string; readonly created: boolean };
  /** Where the consumer's cached copies were dropped. */
  readonly scope: InvalidationScope;
}

export interface RotationOptions {
  readonly kong: KongAdapter;
  readonly policy: SigningPolicy;
  readonly cache: TieredCredentialCache;
  readonly retirements: Retirements;
  readonly invalidate: Invalidate;
  readonly provisionLockMs: number;
  readonly anonymous?: AnonymousConsumers;
  readonly now: () => number;
  /** Waits between attempts; Bun.sleep unless a test makes time pass otherwise. */
  readonly sleep?: (ms: number) => Promise<unknown>;
}

/**
 * Kong's created_at counts seconds: a credential created in the same second as the one it replaces
 * may lose the tie (broken by id), and so not be the one picked. Such a credential signed nothing yet;
 * it is deleted, and created again a second later.
 */
const SAME_SECOND_ATTEMPTS = 3;
const NEXT_SECOND_MS = 1_000;

/**
 * One consumer's rotation (admin `rotate`): a new HMAC credential, or the active key's credential
 * when the consumer has none yet; every instance drops its copies; what it supersedes is retired once
 * its tokens have expired. Under the provisioning lock, so it never races a first request's creation.
 */
export class CredentialRotation {
  private readonly sleep: (ms: number) => Promise<unknown>;

  constructor(private readonly options: RotationOptions) {
    this.sleep = options.sleep ?? Bun.sleep;
  }

  async rotate(consumerId: string): Promise<KongResult<RotationReport>> {
    const { kong, anonymous } = this.options;
    const consumer = await kong.findConsumer(consumerId);
    if (!consumer.ok) return consumer;
    if (anonymous?.includes(consumer.value.id.toLowerCase(), consumer.value.username))
      return failed(unknownConsumer);
    return this.locked(consumerId, () => this.renew(consumerId, consumer.value));
  }

  private async renew(consumerId: string, consumer: KongConsumer): Promise<KongResult<RotationReport>> {
    const { kong, policy, retirements, invalidate } = this.options;
    const listing = await kong.listCredentials(consumer.id);
    if (!listing.ok) return listing;
    const existing = policy.renewsOnRotate ? undefined : pickCredential(listing.value, policy);
    const next = existing
      ? succeeded({ usable: existing, credentials: listing.value })
      : await this.create(consumer.id, listing.value);
    if (!next.ok) return next;
    const { usable, credentials } = next.value;
    const plan = await retirements.supersede(consumerId, consumer.id, credentials, usable.id);
    const scope = await invalidate(consumerId);
    return succeeded({
      consumerId,
      credential: { id: usable.id, algorithm: usable.algorithm, created: existing === undefined },
      scope,
      ...plan,
    });
  }

  /** A new credential that the policy picks over every one listed, with the listing it joined. */
  private async create(
    kongConsumerId: string,
    listing: readonly KongCredential[],
  ): Promise<KongResult<{ usable: UsableCredential; credentials: KongCredential[] }>> {
    const { kong, policy } = this.options;
    for (let attempt = 1; ; attempt++) {
      const created = await kong.createCredential(kongConsumerId, policy.draft);
      if (!created.ok) return created;
      const credentials = [...listing, created.value];
      const usable = policy.usable(created.value);
      if (!usable)
        return failed(kongMisconfigured("Kong created a credential the jwt plugin could not verify"));
      // Stryker disable next-line OptionalChaining: usable is in the list, so something is always picked; the ?. is for the type.
      if (pickCredential(credentials, policy)?.id === usable.id) return succeeded({ usable, credentials });
      const removed = await kong.deleteCredential(kongConsumerId, usable.id);
      if (!removed.ok || attempt >= SAME_SECOND_ATTEMPTS) {
        return failed(kongUnavailable("the new credential is not newer than the current one; try again"));
      }
      await this.sleep(NEXT_SECOND_MS);
    }
  }

  /** Runs `work` holding the consumer's provisioning lock (or alone, without Redis). */
  private async locked<T>(consumerId: string, work: () => Promise<KongResult<T>>): Promise<KongResult<T>> {
    const { cache, provisionLockMs, now } = this.options;
    const deadline = now() + provisionLockMs * 2;
    for (;;) {
      const lock = await cache.lockForProvisioning(consumerId, provisionLockMs);
      if (lock.kind === "unavailable") return work();
      if (lock.kind === "acquired") {
        try {
          return await work();
        } finally {
          await lock.release();
        }
      }
      // Stryker disable next-line EqualityOperator: at the deadline's very millisecond, either answer is right.
      if (now() >= deadline) return failed(kongUnavailable("another instance holds this consumer's lock"));
      // Stryker disable next-line ArithmeticOperator: only the pause between polls changes; a wait ends on Redis or the deadline.
      await this.sleep(20 + Math.random() * 20);
    }
  }
}
