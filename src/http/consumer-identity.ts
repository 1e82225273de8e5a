import type { AnonymousConsumers } from "../kong/anonymous.ts";
import { problem, type Refuse } from "./problem.ts";
import type { RequestContext } from "./request-context.ts";
import type { Step } from "./steps.ts";

/**
 * The consumer Kong authenticated, read from the headers Kong sets upstream
 * (docs/kong-facts.md#upstream-headers).
 */
export interface ConsumerIdentity {
  /** Lower-cased, so the same consumer never occupies two cache slots. */
  readonly consumerId: string;
  readonly username: string;
}

/** What the identity step adds for the steps and the handler after it. */
export type WithConsumer<C extends RequestContext = RequestContext> = C & {
  readonly consumer: ConsumerIdentity;
};

/** The headers Kong sets upstream, named once for the reader and for the OpenAPI document. */
export const CONSUMER_HEADERS = {
  id: "X-Consumer-ID",
  username: "X-Consumer-Username",
  anonymous: "X-Anonymous-Consumer",
} as const;

/** In characters (code points), whatever their encoded size. */
export const MAX_USERNAME_LENGTH = 256;

export type IdentityResult =
  | { readonly ok: true; readonly identity: ConsumerIdentity }
  | { readonly ok: false; readonly detail: string };

const UUID = /^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$/i;
/** Anything but printable ASCII: the cheap test that keeps the common case off the slow path. */
const NOT_PRINTABLE_ASCII = /[^\x20-\x7e]/;
// Tab, DEL and C0/C1 controls; Headers already refuse CR, LF and NUL.
// biome-ignore lint/suspicious/noControlCharactersInRegex: matching control characters is the point.
const CONTROL = /[\x00-\x1f\x7f-\x9f]/;
const ANONYMOUS = "Anonymous consumers cannot obtain tokens.";
const MALFORMED = `The ${CONSUMER_HEADERS.username} header is malformed.`;
const utf8 = new TextDecoder("utf-8", { fatal: true, ignoreBOM: true });

/**
 * The consumers named in KONG_ANONYMOUS_CONSUMERS (what Kong's `anonymous` plugin setting points
 * at) are refused here by id and by name, before any cache read or Kong call. Kong always sends the consumer's UUID as X-Consumer-ID, so anything else was not set by Kong.
 * `X-Anonymous-Consumer` other than "false" means no real consumer: Kong only ever sends "true".
 * Repeated headers arrive joined with ", " and fail these checks, which is the intent.
 */
export function readConsumerIdentity(headers: Headers, anonymous?: AnonymousConsumers): IdentityResult {
  const anonymousHeader = headers.get(CONSUMER_HEADERS.anonymous);
  if (anonymousHeader !== null && anonymousHeader.toLowerCase() !== "false") {
    return { ok: false, detail: ANONYMOUS };
  }
  const rawId = headers.get(CONSUMER_HEADERS.id);
  if (rawId === null || rawId === "")
    return { ok: false, detail: `The ${CONSUMER_HEADERS.id} header is missing.` };
  if (!UUID.test(rawId))
    return { ok: false, detail: `The ${CONSUMER_HEADERS.id} header is not a Kong consumer id.` };

  const raw = headers.get(CONSUMER_HEADERS.username);
  if (raw === null || raw === "")
    return { ok: false, detail: `The ${CONSUMER_HEADERS.username} header is missing.` };
  const username = NOT_PRINTABLE_ASCII.test(raw)
    ? checked(raw)
    : raw.length <= MAX_USERNAME_LENGTH
      ? raw
      : undefined;
  if (username === undefined) return { ok: false, detail: MALFORMED };

  const consumerId = rawId.toLowerCase();
  if (anonymous?.includes(consumerId, username)) return { ok: false, detail: ANONYMOUS };
  return { ok: true, identity: { consumerId, username } };
}

/** 401 with Kong's challenge: the consumer Kong named cannot have a token. */
export function unauthorized(detail: string, refuse: Refuse = problem): Response {
  return refuse(401, { type: "unauthorized", detail, headers: { "www-authenticate": 'Key realm="kong"' } });
}

/**
 * The identity step: refuses (401, and `refused` is told) a request whose consumer headers break the
 * rules above; otherwise the consumer goes on in the context.
 */
export function consumerIdentity<C extends RequestContext>(
  anonymous: AnonymousConsumers,
  refused: () => void,
  refuse: Refuse = problem,
): Step<C, WithConsumer<C>> {
  return (request, ctx, next) => {
    const read = readConsumerIdentity(request.headers, anonymous);
    if (read.ok) return next(request, withConsumer(ctx, read.identity));
    refused();
    return unauthorized(read.detail, refuse);
  };
}

/**
 * The context with the consumer added to it, not copied: the pipeline's object goes on, so what the
 * handler notes in it (headersGiven) reaches the pipeline, and no request pays for a copy.
 */
function withConsumer<C extends RequestContext>(ctx: C, consumer: ConsumerIdentity): WithConsumer<C> {
  (ctx as { consumer?: ConsumerIdentity }).consumer = consumer;
  return ctx as WithConsumer<C>;
}

/** The slow path: a username with non-ASCII or control characters, undefined when malformed. */
function checked(raw: string): string | undefined {
  const username = fromUtf8Bytes(raw);
  if (CONTROL.test(username)) return undefined;
  let characters = 0;
  for (const _ of username) if (++characters > MAX_USERNAME_LENGTH) return undefined;
  return username;
}

/**
 * Kong forwards the username's UTF-8 bytes as they are, and Bun hands header bytes over one
 * character each (Latin-1: Headers refuse anything above U+00FF). Turned back into bytes, they decode
 * to the name Kong holds. Bytes that are not UTF-8 never come from Kong; they are left as received,
 * to be compared like any other name.
 */
function fromUtf8Bytes(latin1: string): string {
  try {
    return utf8.decode(Buffer.from(latin1, "latin1"));
  } catch {
    return latin1;
  }
}
