/**
 * The three ways a Kong call can fail, kept apart because they lead to different answers:
 * an outage (stale copy or 503), a misconfigured service (500, loud log), or an answer the service
 * does not understand (treated as an outage: Kong or something in front of it is not behaving).
 */
export type KongFailureKind = "unavailable" | "misconfigured";

export class KongError extends Error {
  /** True when the breaker refused the call: Kong was not even asked. */
  readonly circuitOpen: boolean;

  constructor(
    readonly kind: KongFailureKind,
    message: string,
    readonly status?: number,
    options?: ErrorOptions & { circuitOpen?: boolean },
  ) {
    super(message, options);
    this.name = "KongError";
    this.circuitOpen = options?.circuitOpen ?? false;
  }
}

/** Kong is down, slow, overloaded or answering nonsense: infrastructure, counts against the breaker. */
export const kongUnavailable = (message: string, status?: number, cause?: unknown) =>
  new KongError("unavailable", message, status, { cause });

/** The breaker is open; the outage was already logged when it opened. */
export const circuitOpen = (message: string) =>
  new KongError("unavailable", message, undefined, { circuitOpen: true });

/** Kong refused the admin token or the request shape: the service's configuration is wrong. */
export const kongMisconfigured = (message: string, status?: number) =>
  new KongError("misconfigured", message, status);

export function isKongError(error: unknown): error is KongError {
  return error instanceof KongError;
}
