import type { Retirement, RetirementStore } from "../cache/retirement-store.ts";
import type { TieredCredentialCache } from "../cache/tiered.ts";
import type { CachedCredential } from "../cache/types.ts";
import type { KongAdapter } from "../kong/adapter.ts";
import { createdByService, pickCredential, type SigningPolicy } from "../kong/credential.ts";
import type { KongCredential } from "../kong/types.ts";
import type { Logger } from "../telemetry/logger.ts";
import type { Invalidate } from "./invalidation.ts";

/** What became of one due retirement, as the metric counts it. */
export type RetirementOutcome = "removed" | "gone" | "kept" | "postponed" | "failed";

/** A superseded credential and when it will be removed (ISO 8601). */
export interface RetiredCredential {
  readonly id: string;
  readonly removeAfter: string;
}

/** A credential the service will not remove, and why. */
export interface KeptCredential {
  readonly id: string;
  readonly reason: string;
}

export interface RetirementPlan {
  readonly retired: RetiredCredential[];
  readonly kept: KeptCredential[];
}

export interface RetirementsOptions {
  readonly kong: KongAdapter;
  readonly policy: SigningPolicy;
  readonly cache: TieredCredentialCache;
  readonly invalidate: Invalidate;
  /** This instance's own record: always there, used when the shared one is absent or down. */
  readonly local: RetirementStore;
  /** Every instance's record, in Redis. */
  readonly shared?: RetirementStore;
  /** The longest token lifetime plus the clock-skew tolerance: how long a superseded credential stays. */
  readonly graceMs: number;
  /** How long a claimed retirement is someone's before another instance may take it again. */
  readonly leaseMs: number;
  readonly logger: Logger;
  readonly count: (outcome: RetirementOutcome) => void;
  readonly now: () => number;
}

export const NOT_CREATED_BY_SERVICE = "not created by this service (no kong-auth-service tag); never deleted";
export const OTHER_SIGNING_MODE = "not a credential of this signing mode";
export const CURRENTLY_PICKED = "the credential tokens are signed with";
export const NEWER_THAN_PICKED = "newer than the credential this instance signs with; never retired by it";

/**
 * Whether `a` was created after `b` (Kong's created_at, in whole seconds). Only credentials created
 * before the picked one are superseded: an instance still on an older key (a rolling deploy) must not
 * retire the newer key's credential the others sign with. A credential of the same second is not
 * newer: which one a tie picks says nothing of age (a rotation never leaves a tie, see rotation.ts).
 */
function newer(a: KongCredential, b: KongCredential): boolean {
  return a.created_at > b.created_at;
}

/** Retirements taken per sweep and store; the rest wait for the next sweep. */
const BATCH = 50;

/**
 * Removes the credentials the service created once a newer one superseded them and every token they
 * signed has expired: recorded when superseded (shared through Redis, or in this instance), taken by
 * one instance when due, checked against Kong and the caches once more, then deleted in Kong.
 */
export class Retirements {
  private sweeping: Promise<void> | undefined;
  private timer: ReturnType<typeof setTimeout> | undefined;
  private stopped: boolean | undefined;

  constructor(private readonly options: RetirementsOptions) {}

  /** Which of a consumer's credentials `pickedId` supersedes, and which stay; the former are recorded. */
  async supersede(
    consumerId: string,
    kongConsumerId: string,
    listing: readonly KongCredential[],
    pickedId: string,
  ): Promise<RetirementPlan> {
    const { policy, now, graceMs } = this.options;
    const retired: RetiredCredential[] = [];
    const kept: KeptCredential[] = [];
    const picked = listing.find(({ id }) => id === pickedId);
    for (const credential of listing) {
      if (credential.id === pickedId) continue;
      if (picked && newer(credential, picked)) kept.push({ id: credential.id, reason: NEWER_THAN_PICKED });
      else if (!policy.ownsKind(credential)) kept.push({ id: credential.id, reason: OTHER_SIGNING_MODE });
      else if (!createdByService(credential))
        kept.push({ id: credential.id, reason: NOT_CREATED_BY_SERVICE });
      else {
        const retirement = { consumerId, kongConsumerId, credentialId: credential.id };
        const dueAt = await this.schedule(retirement, now() + graceMs);
        retired.push({ id: credential.id, removeAfter: new Date(dueAt).toISOString() });
      }
    }
    return { retired, kept };
  }

  /**
   * A superseded credential signed a token after all (a stale copy while Kong was unusable): its
   * removal moves to a full grace period from now.
   */
  async postpone(entry: CachedCredential): Promise<void> {
    const retirement = {
      consumerId: entry.consumerId,
      kongConsumerId: entry.kongConsumerId,
      credentialId: entry.credentialId,
    };
    const dueAt = this.options.now() + this.options.graceMs;
    await Promise.all(this.stores().map((store) => store.postpone(retirement, dueAt)));
  }

  /** Handles every due retirement once; a sweep already running is joined, not doubled. */
  sweep(): Promise<void> {
    this.sweeping ??= this.sweepStores().finally(() => {
      this.sweeping = undefined;
    });
    return this.sweeping;
  }

  /** Sweeps every `intervalMs` until stop(); the timer never keeps the process alive. */
  start(intervalMs: number): void {
    const tick = () => {
      this.timer = setTimeout(() => {
        void this.sweep().finally(() => {
          if (!this.stopped) tick();
        });
      }, intervalMs);
      this.timer.unref();
    };
    this.stopped = false;
    tick();
  }

  /** Stops the timer and waits for a sweep in progress. */
  async stop(): Promise<void> {
    this.stopped = true;
    clearTimeout(this.timer);
    await this.sweeping;
  }

  private stores(): RetirementStore[] {
    const { shared, local } = this.options;
    return shared ? [shared, local] : [local];
  }

  /** Recorded where every instance sees it, else here; the time that stands (an earlier one wins). */
  private async schedule(retirement: Retirement, dueAt: number): Promise<number> {
    const { shared, local } = this.options;
    const store = shared && (await shared.schedule(retirement, dueAt)) ? shared : local;
    if (store === local) await local.schedule(retirement, dueAt);
    return (await store.dueAt(retirement)) ?? dueAt;
  }

  private async sweepStores(): Promise<void> {
    for (const store of this.stores()) {
      const now = this.options.now();
      const due = await store.claimDue(now, now + this.options.leaseMs, BATCH);
      for (const retirement of due) {
        const outcome = await this.retire(store, retirement);
        this.options.count(outcome);
      }
    }
  }

  /**
   * Lists the consumer's credentials again and deletes the retiring one only if the service created
   * it, no tier still signs with it, and it is not the one this instance would pick. A failure leaves
   * the claim to expire, so the retirement is tried again after the lease.
   */
  private async retire(store: RetirementStore, retirement: Retirement): Promise<RetirementOutcome> {
    const { kong, policy, cache, logger } = this.options;
    // Not under a "credential" key: the log redactor blanks every value whose key names a secret.
    const log = {
      consumer: { id: retirement.consumerId },
      rotation: { retired_id: retirement.credentialId },
    };
    const forget = async (outcome: RetirementOutcome) => {
      await store.finish(retirement);
      return outcome;
    };
    const listing = await kong.listCredentials(retirement.kongConsumerId);
    // A consumer Kong no longer knows took its credentials with it.
    if (!listing.ok) return listing.error.kind === "unknown-consumer" ? forget("gone") : "failed";
    const target = listing.value.find(({ id }) => id === retirement.credentialId);
    if (!target) return forget("gone");
    const pickedId = pickCredential(listing.value, policy)?.id;
    const picked = listing.value.find(({ id }) => id === pickedId);
    const keptBecause = !createdByService(target)
      ? NOT_CREATED_BY_SERVICE
      : pickedId === target.id
        ? CURRENTLY_PICKED
        : picked && newer(target, picked)
          ? NEWER_THAN_PICKED
          : undefined;
    if (keptBecause) {
      logger.warn(`Superseded credential kept: ${keptBecause}`, log);
      return forget("kept");
    }
    if (await cache.signsWith(retirement.consumerId, target.id)) {
      // A cached copy still signs with it: drop every copy, and give its last tokens their lifetime.
      await this.options.invalidate(retirement.consumerId);
      await store.postpone(retirement, this.options.now() + this.options.graceMs);
      return "postponed";
    }
    const deleted = await kong.deleteCredential(retirement.kongConsumerId, target.id);
    if (!deleted.ok && deleted.error.kind !== "unknown-consumer") return "failed";
    logger.info("Superseded credential removed from Kong", log);
    return forget("removed");
  }
}
