import type { ClaimResult } from "../cache/redis.ts";
import type { CachedCredential } from "../cache/types.ts";
import type { CredentialLookup } from "./service.ts";

/** What became of one entry's refresh; counted in `credential_refresh_ahead{outcome}`. */
export type RefreshOutcome =
  | "refreshed"
  | "claimed_elsewhere"
  | "unknown_consumer"
  | "kong_unavailable"
  | "misconfigured"
  | "error";

export interface RefreshAheadOptions {
  /** Share of the lifetime after which a served entry is refreshed (CACHE_REFRESH_AHEAD_RATIO); 0: never. */
  readonly ratio: number;
  /** How long an entry is fresh (CACHE_TTL_SECONDS). */
  readonly lifetimeMs: number;
  readonly onOutcome: (outcome: RefreshOutcome) => void;
  /** A fault of the code or the cache during a refresh (the client was answered already). */
  readonly onError: (error: unknown) => void;
}

export interface RefreshAheadParts {
  readonly now: () => number;
  /** Across instances: only the instance that gets the claim refreshes this lifetime of the entry. */
  readonly claim: (consumerId: string, fetchedAt: number, ttlMs: number) => Promise<ClaimResult>;
  /** Asks Kong for the consumer's credential again, as a lookup does, without reading Redis first. */
  readonly refresh: (consumerId: string, username: string) => Promise<CredentialLookup>;
}

/**
 * Refresh-ahead: an entry served in the last part of its lifetime is refreshed from Kong in the
 * background, so a consumer that keeps asking finds a new entry (in memory, or in Redis for the
 * other instances) when the old one expires, instead of waiting for Kong. Each lifetime of an entry
 * is refreshed at most once: per instance (the entries tried are remembered, weakly), and across
 * instances by a Redis claim on the lifetime; without Redis each instance refreshes once, through the
 * service's single-flight. A refresh that fails leaves the entry as it is until it expires.
 */
export class RefreshAhead {
  /** Entries older than this (ms since Kong's answer) are due; Infinity when refresh-ahead is off. */
  readonly afterMs: number;
  private readonly tried = new WeakSet<CachedCredential>();

  constructor(
    private readonly options: RefreshAheadOptions,
    private readonly parts: RefreshAheadParts,
  ) {
    this.afterMs = options.ratio > 0 ? options.ratio * options.lifetimeMs : Number.POSITIVE_INFINITY;
  }

  /** The entry was served inside its refresh window: start its refresh unless it was tried already. */
  due(entry: CachedCredential): void {
    if (this.tried.has(entry)) return;
    this.tried.add(entry);
    this.run(entry).then(
      (outcome) => this.options.onOutcome(outcome),
      (error: unknown) => {
        this.options.onError(error);
        this.options.onOutcome("error");
      },
    );
  }

  private async run(entry: CachedCredential): Promise<RefreshOutcome> {
    // The claim outlives the entry by nothing: the next lifetime has a claim of its own.
    const leftMs = Math.max(1, Math.ceil(entry.fetchedAt + this.options.lifetimeMs - this.parts.now()));
    const claim = await this.parts.claim(entry.consumerId, entry.fetchedAt, leftMs);
    if (claim === "busy") return "claimed_elsewhere";
    return outcomeOf(await this.parts.refresh(entry.consumerId, entry.username ?? ""));
  }
}

const FAILURE_OUTCOME = {
  "unknown-consumer": "unknown_consumer",
  unavailable: "kong_unavailable",
  misconfigured: "misconfigured",
} as const satisfies Record<string, RefreshOutcome>;

function outcomeOf(result: CredentialLookup): RefreshOutcome {
  if (!result.ok) return FAILURE_OUTCOME[result.error.kind];
  // Kong unusable: the lookup fell back on the entry itself, which stays until it expires.
  return result.value.source.startsWith("stale-") ? "kong_unavailable" : "refreshed";
}
