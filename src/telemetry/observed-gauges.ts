import type { Meter } from "@opentelemetry/api";

/**
 * The gauges read off other parts at each collection, rather than recorded as events happen. Their
 * exporting meter comes from the telemetry; without one (tests, nothing to export) they are not made.
 */

/**
 * redis_connected: 1 while the shared cache tier is usable, 0 while it is down or hung;
 * redis_invalidations_subscribed: 1 while Redis delivers `<prefix>:invalidate` to this instance, 0
 * while it does not (down, or the SUBSCRIBE refused: an ACL user without the channel).
 */
export function observeRedis(
  meter: Meter | undefined,
  ready: () => boolean,
  subscribed: () => boolean,
): void {
  meter
    ?.createObservableGauge("redis_connected", {
      description: "1 when Redis is connected and answering within REDIS_COMMAND_TIMEOUT_MS, else 0",
    })
    .addCallback((result) => result.observe(ready() ? 1 : 0));
  meter
    ?.createObservableGauge("redis_invalidations_subscribed", {
      description:
        "1 when this instance hears the invalidations other instances publish through Redis, else 0",
    })
    .addCallback((result) => result.observe(subscribed() ? 1 : 0));
}

/**
 * http.server.active_requests: what Bun.serve is serving now, in place of the specification's
 * nodejs.active_requests. Bun 1.4.5 reports nothing through process.getActiveResourcesInfo() or
 * _getActiveHandles()/_getActiveRequests() (always empty), so nodejs.active_handles has no honest
 * source and is not exported (docs/operations.md).
 */
export function observeServer(meter: Meter | undefined, server: { readonly pendingRequests: number }): void {
  meter
    ?.createObservableUpDownCounter("http.server.active_requests", {
      unit: "{request}",
      description: "HTTP requests being served (Bun.serve's pendingRequests)",
    })
    .addCallback((result) => result.observe(server.pendingRequests));
}
