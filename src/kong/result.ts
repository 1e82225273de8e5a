/**
 * What a Kong call comes back with, and what a credential lookup built on Kong calls hands to the
 * handler: a value, or the reason there is none. The reasons are kept apart because they lead to
 * different answers: an unknown consumer (401), an outage (stale copy or 503), or a misconfigured
 * service (500, loud log). An answer the service does not understand is an outage: Kong or something
 * in front of it is not behaving. Exceptions are left to faults of the code itself.
 */
export type Result<T, E> =
  | { readonly ok: true; readonly value: T }
  | { readonly ok: false; readonly error: E };

/** Kong answered 404 for the consumer, or the consumer is one the service never signs for. */
export interface UnknownConsumer {
  readonly kind: "unknown-consumer";
}

/** Kong is down, slow, overloaded or answering nonsense: infrastructure, counts against the breaker. */
export interface KongUnavailable {
  readonly kind: "unavailable";
  /** Why, without consumer ids or secrets: a path, a status, a timeout. */
  readonly message: string;
  readonly status?: number;
  /** True when the breaker refused the call: Kong was not even asked. */
  readonly circuitOpen: boolean;
  readonly cause?: unknown;
}

/** Kong refused the admin token or the request's shape: the service's configuration is wrong. */
export interface KongMisconfigured {
  readonly kind: "misconfigured";
  readonly message: string;
  readonly status?: number;
}

export type KongFailure = UnknownConsumer | KongUnavailable | KongMisconfigured;
export type KongResult<T> = Result<T, KongFailure>;

export const succeeded = <T>(value: T) => ({ ok: true, value }) as const;

export const failed = <E>(error: E) => ({ ok: false, error }) as const;

export const unknownConsumer: UnknownConsumer = Object.freeze({ kind: "unknown-consumer" });

export const kongUnavailable = (message: string, status?: number, cause?: unknown): KongUnavailable => ({
  kind: "unavailable",
  message,
  status,
  circuitOpen: false,
  cause,
});

/** The breaker is open; the outage was already logged when it opened. */
export const circuitOpen = (message: string): KongUnavailable => ({
  kind: "unavailable",
  message,
  circuitOpen: true,
});

export const kongMisconfigured = (message: string, status?: number): KongMisconfigured => ({
  kind: "misconfigured",
  message,
  status,
});
