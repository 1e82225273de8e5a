import type { RedisCredentialStore } from "../cache/redis.ts";
import type { TieredCredentialCache } from "../cache/tiered.ts";

/** Where an invalidation reached: every instance through Redis's channel, or only this one. */
export type InvalidationScope = "all-instances" | "this-instance";

/** Drops every cached copy of a consumer's credential. */
export type Invalidate = (consumerId: string) => Promise<InvalidationScope>;

/**
 * This instance's copies first (memory and Redis), then the message on `<prefix>:invalidate` that
 * makes every instance drop its own. Without Redis, or with Redis not taking the message, only this
 * instance is reached, and the answer says so.
 */
export function createInvalidator(
  cache: TieredCredentialCache,
  channel: Pick<RedisCredentialStore, "publishInvalidation"> | undefined,
): Invalidate {
  return async (consumerId) => {
    await cache.forget(consumerId);
    const published = channel ? await channel.publishInvalidation(consumerId) : false;
    return published ? "all-instances" : "this-instance";
  };
}
