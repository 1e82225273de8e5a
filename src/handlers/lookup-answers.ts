import type { FoundCredential, LookupFailure } from "../credentials/service.ts";
import { unauthorized } from "../http/consumer-identity.ts";
import type { Refuse } from "../http/problem.ts";
import type { KongHealth } from "../kong/health.ts";
import type { Logger } from "../telemetry/logger.ts";
import type { ServiceMetrics } from "../telemetry/metrics.ts";

export interface LookupAnswerDeps {
  readonly logger: Logger;
  readonly metrics: ServiceMetrics;
  /** Told when a stale copy stands in for Kong, so /health can say so. */
  readonly kongHealth: Pick<KongHealth, "recordStaleServed">;
  /** The route's wording of errors: problems for GET /tokens, RFC 6749 errors for POST /tokens. */
  readonly refuse: Refuse;
}

/** Whom a log line about one lookup is about: the consumer and the request, never a credential. */
interface LookupLog {
  readonly consumer: { readonly id: string };
  readonly http: { readonly request: { readonly id: string } };
}

/**
 * The one place a failed credential lookup becomes an answer: an unknown consumer is refused (401), an
 * outage with nothing stale to sign with asks the client to come back (503), a misconfiguration is the
 * service's fault and says so loudly (500).
 */
export function failureAnswer(failure: LookupFailure, deps: LookupAnswerDeps, log: LookupLog): Response {
  const { logger, metrics, refuse } = deps;
  switch (failure.kind) {
    case "unknown-consumer":
      metrics.tokenFailed("unknown_consumer");
      return unauthorized("Kong does not know this consumer.", refuse);
    case "unavailable":
      metrics.tokenFailed("kong_unavailable");
      // While the breaker is open every lookup fails the same way; the transition was the news.
      logger.log(failure.circuitOpen ? "debug" : "error", `Kong unavailable: ${failure.message}`, log);
      return refuse(503, {
        type: "kong-unavailable",
        detail: "The credential store is unreachable; try again shortly.",
        headers: { "retry-after": String(failure.retryAfterSeconds) },
      });
    case "misconfigured":
      metrics.tokenFailed("misconfigured");
      logger.error(`Kong integration misconfigured: ${failure.message}`, log);
      return refuse(500, { type: "misconfigured", detail: "The service cannot use Kong's Admin API." });
  }
}

/** A stale copy standing in for an unusable Kong is counted, logged and reported to /health. */
export function noteStaleCopy(found: FoundCredential, deps: LookupAnswerDeps, log: LookupLog): void {
  if (found.source !== "stale-memory" && found.source !== "stale-redis") return;
  deps.metrics.staleFallback(found.source === "stale-memory" ? "in-memory" : "redis-stale");
  deps.kongHealth.recordStaleServed();
  deps.logger.warn(`Kong unavailable (${found.reason}); signing with a stale credential`, log);
}
