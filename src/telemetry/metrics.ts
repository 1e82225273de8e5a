import { monitorEventLoopDelay } from "node:perf_hooks";
import type { Counter, Histogram, Meter } from "@opentelemetry/api";
import type { RefreshOutcome } from "../credentials/refresh-ahead.ts";
import { observeProcess } from "./process-metrics.ts";
import { type HistogramExport, HistogramTally, Tally } from "./tally.ts";

export type BreakerStateName = "closed" | "open" | "half-open";

/** The `type` labels POST /debug/metrics/test may record: a fixed set, so requests cannot add series. */
export const TEST_METRIC_TYPES = ["test", "smoke", "load"] as const;
export type TestMetricType = (typeof TEST_METRIC_TYPES)[number];
/** Bucket bounds, in seconds, of the service's latency histograms. */
const RESPONSE_TIME_BUCKETS = [0.0005, 0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5];
const BREAKER_STATE_VALUE: Record<BreakerStateName, number> = { closed: 0, open: 1, "half-open": 2 };

/** Why a token request got no token: every answer of /tokens that is not a token has one. */
export type TokenFailureReason =
  | "untrusted"
  | "invalid_headers"
  | "rate_limited"
  | "username_mismatch"
  | "unknown_consumer"
  | "kong_unavailable"
  | "misconfigured"
  | "body_too_large"
  | "invalid_request"
  | "internal_error";

interface Instruments {
  kongOperations: Counter;
  breakerRequests: Counter;
  breakerRejected: Counter;
  breakerFallback: Counter;
  breakerTransitions: Counter;
  cacheTier: Counter;
  cacheTierLatency: Histogram;
  credentialOperations: Counter;
}

function createInstruments(meter: Meter): Instruments {
  return {
    kongOperations: meter.createCounter("kong_operations", {
      description: "Kong Admin API calls by operation and outcome",
    }),
    breakerRequests: meter.createCounter("circuit_breaker_requests_total", {
      description: "Calls through the breaker",
    }),
    breakerRejected: meter.createCounter("circuit_breaker_rejected_total", {
      description: "Calls refused while open",
    }),
    breakerFallback: meter.createCounter("circuit_breaker_fallback_total", {
      description: "Stale copies served",
    }),
    breakerTransitions: meter.createCounter("circuit_breaker_state_transitions_total", {
      description: "Breaker state changes",
    }),
    cacheTier: meter.createCounter("cache_tier_operations", { description: "Cache tier usage" }),
    credentialOperations: meter.createCounter("credential_operations", {
      description: "Admin operations and retirements of credentials by operation and outcome",
    }),
    cacheTierLatency: meter.createHistogram("cache_tier_latency", {
      unit: "s",
      description: "Cache tier access latency",
      // The SDK's default buckets (0 to 10000) suit milliseconds; these are seconds.
      advice: { explicitBucketBoundaries: RESPONSE_TIME_BUCKETS },
    }),
  };
}

/** One method of one route: its duration histogram and its count per status. */
interface RequestSeries {
  readonly counts: Map<number, () => void>;
  readonly duration: (seconds: number) => void;
}

/**
 * The service's metrics under the specification's names. In-process totals are always kept (they
 * feed GET /metrics as JSON and /health/metrics); OpenTelemetry instruments exist when a meter is
 * given, as the service always gives one (scraped in every mode, exported over OTLP in otlp/both).
 * Attributes are bounded: route templates, methods, status codes, outcomes; never a consumer,
 * username or request id.
 */
export class ServiceMetrics {
  private readonly instruments: Instruments | undefined;
  private readonly startedAt = Date.now();
  readonly totals = {
    requests: 0,
    requestErrors: 0,
    tokensGenerated: 0,
    tokensFailed: 0,
    tokenSeconds: 0,
    kongOperations: { success: 0, failure: 0, rejected: 0 },
    staleFallbacks: 0,
  };
  private breakerState: BreakerStateName = "closed";
  private readonly httpRequests = new Tally();
  private readonly tokens = new Tally();
  private readonly cacheReads = new Tally();
  /** Bound series, so that counting an answer, a token or a cache read allocates nothing. */
  private readonly requestSeries = new Map<string, Map<string, RequestSeries>>();
  private readonly issued = new Map<string, () => void>();
  private readonly cacheReadSeries = {
    memory: this.cacheReadOutcomes("memory"),
    redis: this.cacheReadOutcomes("redis"),
  };
  private readonly refreshes = new Tally();
  private readonly loopDelay = monitorEventLoopDelay({ resolution: 20 });

  private readonly httpDuration = new HistogramTally(
    { name: "http_response_time_seconds", description: "HTTP response time", unit: "s" },
    RESPONSE_TIME_BUCKETS,
  );

  constructor(meter?: Meter, histograms?: HistogramExport) {
    this.loopDelay.enable();
    if (!meter) return;
    histograms?.register(() => this.httpDuration.snapshot());
    this.instruments = createInstruments(meter);
    this.observe(meter);
    observeProcess(meter);
  }

  /** The counts kept in-process, read by the SDK at each collection. */
  private observe(meter: Meter): void {
    meter
      .createObservableCounter("http_requests_total", {
        description: "HTTP requests by method, route, status",
      })
      .addCallback((result) => this.httpRequests.observe(result));
    meter
      .createObservableCounter("jwt_tokens_generated", { description: "Token requests by outcome" })
      .addCallback((result) => this.tokens.observe(result));
    meter
      .createObservableCounter("hybrid_cache_operations", {
        description: "Credential cache reads by tier and outcome",
      })
      .addCallback((result) => this.cacheReads.observe(result));
    meter
      .createObservableCounter("credential_refresh_ahead", {
        description: "Background refreshes of credentials served late in their lifetime, by outcome",
      })
      .addCallback((result) => this.refreshes.observe(result));
    meter
      .createObservableGauge("circuit_breaker_state", { description: "0 closed, 1 open, 2 half-open" })
      .addCallback((result) => result.observe(BREAKER_STATE_VALUE[this.breakerState]));
    meter
      .createObservableGauge("nodejs.eventloop.delay", { unit: "s", description: "Event loop delay (p99)" })
      .addCallback((result) => {
        result.observe(this.loopDelay.percentile(99) / 1e9, { quantile: "p99" });
        result.observe(this.loopDelay.mean / 1e9, { quantile: "mean" });
        this.loopDelay.reset();
      });
  }

  /**
   * One answer. Allocation-free once its route, method and status have been seen: each series is bound
   * on first use and found again through maps keyed by the strings and numbers given.
   */
  request(method: string, route: string, status: number, seconds: number): void {
    this.totals.requests++;
    if (status >= 500) this.totals.requestErrors++;
    const byRoute = this.requestSeries.get(route) ?? this.routeSeries(route);
    const series = byRoute.get(method) ?? this.methodSeries(byRoute, method, route);
    (series.counts.get(status) ?? this.statusSeries(series, method, route, status))();
    if (this.instruments) series.duration(seconds);
  }

  private routeSeries(route: string): Map<string, RequestSeries> {
    const byRoute = new Map<string, RequestSeries>();
    this.requestSeries.set(route, byRoute);
    return byRoute;
  }

  private methodSeries(byRoute: Map<string, RequestSeries>, method: string, route: string): RequestSeries {
    const series = {
      counts: new Map<number, () => void>(),
      duration: this.httpDuration.bind(`${method} ${route}`, { method, route }),
    };
    byRoute.set(method, series);
    return series;
  }

  private statusSeries(series: RequestSeries, method: string, route: string, status: number): () => void {
    const count = this.httpRequests.bind(`${method} ${route} ${status}`, {
      method,
      route,
      status_code: status,
    });
    series.counts.set(status, count);
    return count;
  }

  /** jwt_tokens_generated{outcome=success}: one per token issued. */
  tokenIssued(algorithm: string, seconds: number): void {
    this.totals.tokensGenerated++;
    this.totals.tokenSeconds += seconds;
    (this.issued.get(algorithm) ?? this.issuedSeries(algorithm))();
  }

  private issuedSeries(algorithm: string): () => void {
    const count = this.tokens.bind(`success ${algorithm}`, { outcome: "success", algorithm });
    this.issued.set(algorithm, count);
    return count;
  }

  /** jwt_tokens_generated{outcome=failure}: one per /tokens answer that is not a token. */
  tokenFailed(reason: TokenFailureReason): void {
    this.totals.tokensFailed++;
    this.tokens.add(`failure ${reason}`, () => ({ outcome: "failure", reason }));
  }

  /** What jwt_tokens_generated holds: issued tokens by algorithm, failures by reason. */
  tokenCounts(): { byAlgorithm: Record<string, number>; byReason: Record<string, number> } {
    const byAlgorithm: Record<string, number> = {};
    const byReason: Record<string, number> = {};
    for (const { attributes, value } of this.tokens.values()) {
      if (attributes.outcome === "success") byAlgorithm[String(attributes.algorithm)] = value;
      else byReason[String(attributes.reason)] = value;
    }
    return { byAlgorithm, byReason };
  }

  /** A Kong refusal (`error`) is counted with failures in the totals, but keeps its own label. */
  kongOperation(operation: string, outcome: "success" | "failure" | "rejected" | "timeout" | "error"): void {
    const bucket = outcome === "timeout" || outcome === "error" ? "failure" : outcome;
    this.totals.kongOperations[bucket]++;
    this.instruments?.kongOperations.add(1, { operation, outcome, circuit_breaker: this.breakerState });
    this.instruments?.breakerRequests.add(1, { operation, result: outcome });
    if (outcome === "rejected") this.instruments?.breakerRejected.add(1, { operation });
  }

  breakerTransition(from: BreakerStateName, to: BreakerStateName): void {
    this.breakerState = to;
    this.instruments?.breakerTransitions.add(1, { from, to });
  }

  /** An admin invalidate or rotate, or a superseded credential's retirement, and how it ended. */
  credentialOperation(operation: "invalidate" | "rotate" | "retire", outcome: string): void {
    this.instruments?.credentialOperations.add(1, { operation, outcome });
  }

  staleFallback(tier: "in-memory" | "redis-stale"): void {
    this.totals.staleFallbacks++;
    this.instruments?.breakerFallback.add(1, { operation: "credential_lookup", source: tier });
    this.instruments?.cacheTier.add(1, { tier, operation: "fallback" });
  }

  cacheRead(tier: "memory" | "redis", outcome: "hit" | "stale" | "miss", seconds?: number): void {
    this.cacheReadSeries[tier][outcome]();
    if (!this.instruments) return;
    if (seconds !== undefined) {
      this.instruments.cacheTier.add(1, { tier, operation: "read" });
      this.instruments.cacheTierLatency.record(seconds, { tier, operation: "read" });
    }
  }

  private cacheReadOutcomes(tier: "memory" | "redis") {
    const bind = (outcome: string) => this.cacheReads.bind(`${tier} ${outcome}`, { tier, outcome });
    return { hit: bind("hit"), stale: bind("stale"), miss: bind("miss") };
  }

  /** credential_refresh_ahead{outcome}: one per refresh started (or left to another instance). */
  refreshAhead(outcome: RefreshOutcome): void {
    this.refreshes.add(outcome, () => ({ outcome }));
  }

  uptimeSeconds(): number {
    return (Date.now() - this.startedAt) / 1000;
  }

  get circuitState(): BreakerStateName {
    return this.breakerState;
  }
}
