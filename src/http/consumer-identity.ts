/** The consumer Kong authenticated, read from the headers Kong sets upstream (kong-facts §2). */
export interface ConsumerIdentity {
  /** Lower-cased, so the same consumer never occupies two cache slots. */
  readonly consumerId: string;
  readonly username: string;
}

export type IdentityResult =
  | { readonly ok: true; readonly identity: ConsumerIdentity }
  | { readonly ok: false; readonly detail: string };

const UUID = /^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$/i;
// Tab, DEL and C0/C1 controls; Headers already refuse CR, LF and NUL.
// biome-ignore lint/suspicious/noControlCharactersInRegex: matching control characters is the point.
const CONTROL = /[\x00-\x1f\x7f-\x9f]/;
const MAX_LENGTH = 256;

/**
 * Kong always sends the consumer's UUID as X-Consumer-ID, so anything else was not set by Kong.
 * `X-Anonymous-Consumer` other than "false" means no real consumer: Kong only ever sends "true".
 * Repeated headers arrive joined with ", " and fail these checks, which is the intent.
 */
export function readConsumerIdentity(headers: Headers): IdentityResult {
  const anonymous = headers.get("x-anonymous-consumer");
  if (anonymous !== null && anonymous.toLowerCase() !== "false") {
    return { ok: false, detail: "Anonymous consumers cannot obtain tokens." };
  }
  const consumerId = headers.get("x-consumer-id");
  if (consumerId === null || consumerId === "")
    return { ok: false, detail: "The X-Consumer-ID header is missing." };
  if (!UUID.test(consumerId))
    return { ok: false, detail: "The X-Consumer-ID header is not a Kong consumer id." };

  const username = headers.get("x-consumer-username");
  if (username === null || username === "") {
    return { ok: false, detail: "The X-Consumer-Username header is missing." };
  }
  if (username.length > MAX_LENGTH || CONTROL.test(username)) {
    return { ok: false, detail: "The X-Consumer-Username header is malformed." };
  }
  return { ok: true, identity: { consumerId: consumerId.toLowerCase(), username } };
}
