import { MemoryCredentialCache } from "../../../src/cache/memory.ts";
import { RedisCredentialStore } from "../../../src/cache/redis.ts";
import { RedisConnection } from "../../../src/cache/redis-connection.ts";
import { TieredCredentialCache } from "../../../src/cache/tiered.ts";
import type { RefreshOutcome } from "../../../src/credentials/refresh-ahead.ts";
import {
  type CredentialLookup,
  CredentialService,
  type CredentialServiceOptions,
} from "../../../src/credentials/service.ts";
import { type CredentialDraft, KongAdapter } from "../../../src/kong/adapter.ts";
import { AnonymousConsumers } from "../../../src/kong/anonymous.ts";
import { consumerSecrets, type SigningPolicy } from "../../../src/kong/credential.ts";
import type { KongResult } from "../../../src/kong/result.ts";
import { createStrategy } from "../../../src/kong/strategies.ts";
import type { KongCredential } from "../../../src/kong/types.ts";
import { KongBreaker } from "../../../src/resilience/breaker.ts";
import { manualClock } from "../../support/clock.ts";
import { testConfig } from "../../support/config.ts";
import type { KongEmulator } from "../../support/kong-emulator.ts";
import { testLogger } from "../../support/logger.ts";
import { deletePrefix, REDIS_URL, uniquePrefix } from "../../support/redis.ts";
import { waitFor } from "../../support/wait.ts";

export type Clock = ReturnType<typeof manualClock>;

/** Far from today's date, so a part that read the real clock instead of the injected one would show. */
export const EPOCH = Date.UTC(2001, 0, 1);
export const FRESH_MS = 60_000;
export const STALE_MS = 300_000;
export const UNKNOWN_MS = 10_000;
export const BREAKER_TIMEOUT_MS = 2_000;
/** As src/app.ts sets it: a create, bounded by the breaker, always ends before its lock expires. */
export const LOCK_MS = BREAKER_TIMEOUT_MS * 2;
export const BREAKER_RESET_MS = 30_000;

type Hold = { reached: () => void; released: Promise<void> };

/**
 * The real adapter, with holds at the moments two instances can race: after listing a consumer's
 * credentials (both may see none) and before creating one.
 */
export class HeldKong extends KongAdapter {
  private readonly holds = new Map<"list" | "create", Hold>();
  /** A fault of the code itself (not of Kong) thrown by the next consumer lookup. */
  bug: Error | undefined;

  /** Resolves `reached` when the next list has come back (or a create is about to go out); `release` lets it go on. */
  hold(at: "list" | "create"): { reached: Promise<void>; release: () => void } {
    const reached = Promise.withResolvers<void>();
    const released = Promise.withResolvers<void>();
    this.holds.set(at, { reached: reached.resolve, released: released.promise });
    return { reached: reached.promise, release: released.resolve };
  }

  private async pause(at: "list" | "create"): Promise<void> {
    const hold = this.holds.get(at);
    this.holds.delete(at);
    if (!hold) return;
    hold.reached();
    await hold.released;
  }

  override findConsumer(idOrUsername: string) {
    if (this.bug) return Promise.reject(this.bug);
    return super.findConsumer(idOrUsername);
  }

  override async listCredentials(consumerId: string): Promise<KongResult<KongCredential[]>> {
    const list = await super.listCredentials(consumerId);
    await this.pause("list");
    return list;
  }

  override async createCredential(
    consumerId: string,
    draft?: CredentialDraft,
  ): Promise<KongResult<KongCredential>> {
    await this.pause("create");
    return super.createCredential(consumerId, draft);
  }
}

export interface InstanceOptions {
  readonly emulator: KongEmulator;
  readonly clock: Clock;
  /** Shared Redis; without it the instance has only its memory tier. */
  readonly redis?: SharedRedis;
  /** Redis configured but not reachable (no connection has come up). */
  readonly redisDown?: boolean;
  /** Keep stale copies (HIGH_AVAILABILITY): memory and Redis hold entries STALE_MS past freshness. */
  readonly highAvailability?: boolean;
  readonly anonymous?: readonly string[];
  readonly secretIsBase64?: boolean;
  /** Another signing mode than per-consumer secrets (service keys). */
  readonly policy?: SigningPolicy;
  readonly adminToken?: string;
  readonly provisionLockMs?: number;
  /** The retirement hooks (src/composition/credentials.ts passes the retirements'). */
  readonly hooks?: Pick<CredentialServiceOptions, "onPicked" | "onStale">;
  /** CACHE_REFRESH_AHEAD_RATIO; refresh-ahead is off without it. */
  readonly refreshAheadRatio?: number;
}

/** A Redis key prefix shared by a test's instances, and the connections opened to it. */
export class SharedRedis {
  readonly prefix = uniquePrefix("credentials");
  private readonly connections: RedisConnection[] = [];

  /** A new connection to the suite's Redis, ready for commands. */
  async connect(): Promise<RedisConnection> {
    const config = testConfig({ REDIS_ENABLED: "true", REDIS_URL, REDIS_KEY_PREFIX: this.prefix });
    const connection = new RedisConnection(config.redis, testLogger());
    this.connections.push(connection);
    await connection.connect();
    await waitFor(() => connection.status === "ready", "a Redis connection");
    return connection;
  }

  /** A store over the shared prefix, as another instance of the service would have. */
  async store(clock: Clock, highAvailability = false): Promise<RedisCredentialStore> {
    return new RedisCredentialStore(await this.connect(), {
      prefix: this.prefix,
      freshMs: FRESH_MS,
      retainMs: highAvailability ? FRESH_MS + STALE_MS : FRESH_MS,
      now: clock.now,
    });
  }

  async close(): Promise<void> {
    for (const connection of this.connections) await connection.close();
    await deletePrefix(this.prefix);
  }
}

/** A store whose connection never came up: every command answers its fallback, as during an outage. */
function unreachableStore(): RedisCredentialStore {
  const config = testConfig({ REDIS_ENABLED: "true", REDIS_URL: "redis://127.0.0.1:1" });
  const connection = new RedisConnection(config.redis, testLogger());
  return new RedisCredentialStore(connection, {
    prefix: "unreachable",
    freshMs: FRESH_MS,
    retainMs: FRESH_MS,
  });
}

/** One instance of the service's credential path, built as src/app.ts builds it, over the emulator. */
export async function startInstance(options: InstanceOptions) {
  const { emulator, clock } = options;
  const breaker = new KongBreaker({
    timeoutMs: BREAKER_TIMEOUT_MS,
    errorThresholdPercentage: 50,
    resetTimeoutMs: BREAKER_RESET_MS,
    volumeThreshold: 2,
    now: clock.now,
  });
  const kong = new HeldKong(
    createStrategy(emulator.mode, emulator.adminUrl, options.adminToken ?? emulator.adminToken),
    { timeoutMs: BREAKER_TIMEOUT_MS, breaker, retryDelayMs: 1 },
  );
  const staleMs = options.highAvailability ? STALE_MS : 0;
  const memory = new MemoryCredentialCache({
    maxSize: 100,
    freshMs: FRESH_MS,
    staleMs,
    unknownConsumerMs: UNKNOWN_MS,
    now: clock.now,
  });
  const store = options.redisDown
    ? unreachableStore()
    : await options.redis?.store(clock, options.highAvailability);
  const redisReads: string[] = [];
  const policy = options.policy ?? consumerSecrets(options.secretIsBase64 ?? false);
  const cache = new TieredCredentialCache(memory, store, policy, {
    onRead: (_tier, outcome) => redisReads.push(outcome),
  });
  const refreshes: RefreshOutcome[] = [];
  const service = new CredentialService(kong, cache, {
    policy,
    retryAfterSeconds: () => breaker.retryAfterSeconds(),
    provisionLockMs: options.provisionLockMs ?? LOCK_MS,
    ...(options.anonymous ? { anonymous: new AnonymousConsumers(options.anonymous) } : {}),
    ...options.hooks,
    refreshAhead: {
      ratio: options.refreshAheadRatio ?? 0,
      lifetimeMs: FRESH_MS,
      onOutcome: (outcome) => refreshes.push(outcome),
      onError: (error) => {
        throw error;
      },
    },
    now: clock.now,
  });
  return { service, kong, breaker, memory, store, redisReads, refreshes, stop: () => breaker.shutdown() };
}

export type Instance = Awaited<ReturnType<typeof startInstance>>;

/** The credential a lookup found; fails the test when it found none. */
export function found(result: CredentialLookup) {
  if (!result.ok) throw new Error(`expected a credential, got ${JSON.stringify(result.error)}`);
  return result.value;
}

/** Why a lookup found no credential; fails the test when it found one. */
export function failure(result: CredentialLookup) {
  if (result.ok) throw new Error(`expected no credential, got one from ${result.value.source}`);
  return result.error;
}

/** What a lookup comes back with for a consumer Kong does not know (or one never signed for). */
export const UNKNOWN_CONSUMER = { ok: false, error: { kind: "unknown-consumer" } } as const;

export { manualClock };
