import type { z } from "zod";
import type { KongBreaker } from "../resilience/breaker.ts";
import type { ConcurrencyLimiter } from "../resilience/concurrency.ts";
import { retryOnce } from "../resilience/retry.ts";
import { disabledTracing, type Tracing } from "../telemetry/tracing.ts";
import { type CappedBody, readCapped } from "./body.ts";
import {
  failed,
  type KongFailure,
  type KongMisconfigured,
  type KongResult,
  type KongUnavailable,
  kongMisconfigured,
  kongUnavailable,
  type Result,
  succeeded,
  unknownConsumer,
} from "./result.ts";
import { type KongModeStrategy, pathSegment } from "./strategies.ts";
import {
  type KongConsumer,
  type KongCredential,
  kongConsumerSchema,
  kongCredentialPageSchema,
  kongCredentialSchema,
} from "./types.ts";

/** The fields of a credential the service chooses; Kong generates the rest. */
export interface CredentialDraft {
  readonly algorithm: string;
  readonly rsa_public_key?: string;
  readonly tags?: readonly string[];
}

export interface KongAdapterOptions {
  /** Upper bound for one Admin API call, body included (KONG_CONNECTION_TIMEOUT). */
  readonly timeoutMs: number;
  /** Every call goes through it; its timeout bounds an operation and its retry together. */
  readonly breaker: KongBreaker;
  /** Base of the jittered pause before a read's single retry. */
  readonly retryDelayMs?: number;
  /** Each HTTP call becomes a client span whose traceparent Kong receives. */
  readonly tracing?: Tracing;
  /** Bounds concurrent Admin API calls (KONG_CONNECTION_POOL_SIZE); waiting counts against no breaker. */
  readonly concurrency?: ConcurrencyLimiter;
  /** How long a call may wait for a free slot. */
  readonly queueWaitMs?: number;
  /** Largest answer read from Kong; a bigger one is a Kong failure. */
  readonly maxBodyBytes?: number;
}

/** Guards against a `next` link that never ends; 100 pages of 100 is far beyond any real consumer. */
const MAX_PAGES = 100;
/**
 * Bounds what one consumer's list may hold in memory, whatever the page size; a consumer with this
 * many jwt credentials is a leak in whatever creates them.
 */
const MAX_CREDENTIALS = 1_000;
/** A Kong entity is a few hundred bytes; a page of 1000 credentials (Kong's largest) stays far below. */
const MAX_BODY_BYTES = 1024 * 1024;
/** A retry with less time than this left would only add load to a struggling Kong. */
const MIN_RETRY_BUDGET_MS = 50;

/** A bounded name for metrics, spans and logs: the kind of endpoint, never the consumer in it. */
type Endpoint = "consumer" | "credentials" | "health";

/**
 * The Kong Admin API (or Konnect) as the token path needs it. Every operation comes back as a
 * KongResult: a 404 is an unknown consumer, and every other failure says whether Kong is unusable or
 * the service misconfigured.
 */
export class KongAdapter {
  constructor(
    readonly strategy: KongModeStrategy,
    private readonly options: KongAdapterOptions,
  ) {}

  findConsumer(idOrUsername: string): Promise<KongResult<KongConsumer>> {
    return this.call("GET", "consumer", this.strategy.consumerUrl(idOrUsername), kongConsumerSchema);
  }

  /** All of a consumer's jwt credentials, following `next` links. */
  async listCredentials(consumerId: string): Promise<KongResult<KongCredential[]>> {
    const url = this.strategy.credentialsUrl(consumerId);
    const credentials: KongCredential[] = [];
    let offset: string | undefined;
    for (let page = 0; page < MAX_PAGES; page++) {
      const pageUrl = offset === undefined ? url : `${url}?offset=${encodeURIComponent(offset)}`;
      const body = await this.call("GET", "credentials", pageUrl, kongCredentialPageSchema);
      if (!body.ok) return body;
      credentials.push(...body.value.data);
      if (credentials.length > MAX_CREDENTIALS) {
        return failed(
          kongUnavailable(`Kong lists more than ${MAX_CREDENTIALS} jwt credentials for one consumer`),
        );
      }
      offset = nextOffset(body.value.next, body.value.offset);
      if (offset === undefined) return succeeded(credentials);
    }
    return failed(kongUnavailable(`Kong credential list did not end after ${MAX_PAGES} pages`));
  }

  /**
   * Lets Kong generate key and secret (docs/kong-facts.md#credential-entity); an asymmetric credential
   * also names its public key (docs/kong-facts.md#jwt-asymmetric-credentials).
   */
  createCredential(
    consumerId: string,
    draft: CredentialDraft = { algorithm: "HS256" },
  ): Promise<KongResult<KongCredential>> {
    const url = this.strategy.credentialsUrl(consumerId);
    return this.call("POST", "credentials", url, kongCredentialSchema, draft);
  }

  /**
   * Deletes one of the consumer's jwt credentials (docs/kong-facts.md#admin-api: 204; Konnect the
   * same). A 404 (consumer or credential already gone) comes back as an unknown consumer.
   */
  deleteCredential(consumerId: string, credentialId: string): Promise<KongResult<void>> {
    const url = `${this.strategy.credentialsUrl(consumerId)}/${pathSegment(credentialId)}`;
    return this.call("DELETE", "credentials", url, null);
  }

  /** Whether Kong answers its health endpoint; the endpoint missing means KONG_ADMIN_URL is wrong. */
  async probe(): Promise<Result<void, KongUnavailable | KongMisconfigured>> {
    const answer = await this.call("GET", "health", this.strategy.probeUrl(), null);
    if (answer.ok) return succeeded(undefined);
    if (answer.error.kind !== "unknown-consumer") return failed(answer.error);
    return failed(kongMisconfigured("Kong health endpoint not found; check KONG_ADMIN_URL", 404));
  }

  /**
   * One operation through the breaker. Reads are idempotent and get one retry inside the breaker's
   * budget; a create is never repeated here, because a create that timed out may have succeeded:
   * the next lookup lists again before creating anything.
   */
  private async call<T>(
    method: string,
    endpoint: Endpoint,
    url: string,
    schema: z.ZodType<T> | null,
    body?: unknown,
  ): Promise<KongResult<T>> {
    const operation = `${method} ${endpoint}`;
    const { concurrency } = this.options;
    const release = concurrency ? await concurrency.acquire(this.options.queueWaitMs ?? 0) : () => {};
    // Local overload is not Kong failing: refused before the breaker, it does not count against Kong.
    if (!release) return failed(kongUnavailable(`${operation}: too many Kong Admin API calls in flight`));
    try {
      return await this.guarded(operation, method, endpoint, url, schema, body);
    } finally {
      release();
    }
  }

  private guarded<T>(
    operation: string,
    method: string,
    endpoint: Endpoint,
    url: string,
    schema: z.ZodType<T> | null,
    body: unknown,
  ): Promise<KongResult<T>> {
    return this.options.breaker.run(operation, (deadline) => {
      const attempt = (budgetMs: number) => this.send(method, endpoint, url, schema, body, budgetMs);
      if (method !== "GET") return attempt(deadline - Date.now());
      return retryOnce(attempt, {
        deadline,
        baseDelayMs: this.options.retryDelayMs ?? 40,
        minAttemptMs: MIN_RETRY_BUDGET_MS,
        shouldRetry: (result) => !result.ok && result.error.kind === "unavailable",
      });
    });
  }

  /** One HTTP exchange as a client span; the span's context travels to Kong as `traceparent`. */
  private send<T>(
    method: string,
    endpoint: Endpoint,
    url: string,
    schema: z.ZodType<T> | null,
    body: unknown,
    budgetMs: number,
  ): Promise<KongResult<T>> {
    const headers: Record<string, string> = { ...this.strategy.headers };
    if (body !== undefined) headers["content-type"] = "application/json";
    const target = new URL(url);
    const attributes = {
      "http.request.method": method,
      "server.address": target.hostname,
      "url.path": target.pathname,
      "kong.operation": endpoint,
      "kong.mode": this.strategy.mode,
    };
    const tracing = this.options.tracing ?? disabledTracing;
    return tracing.client(`Kong ${method} ${endpoint}`, attributes, headers, async (span) => {
      const { status, answer } = await this.exchange(method, url, schema, body, budgetMs, headers);
      if (status !== undefined) span?.setAttribute("http.response.status_code", status);
      // A 404 is Kong answering about the consumer, not the call failing.
      if (!answer.ok && answer.error.kind !== "unknown-consumer") span?.fail(answer.error.message);
      return answer;
    });
  }

  private async exchange<T>(
    method: string,
    url: string,
    schema: z.ZodType<T> | null,
    body: unknown,
    budgetMs: number,
    headers: Record<string, string>,
  ): Promise<{ status?: number; answer: KongResult<T> }> {
    const what = `${method} ${describePath(url)}`;
    const timeoutMs = Math.min(this.options.timeoutMs, budgetMs);
    let response: Response;
    try {
      response = await fetch(url, {
        method,
        headers,
        // A read has no body: JSON.stringify(undefined) is undefined.
        body: JSON.stringify(body),
        signal: AbortSignal.timeout(Math.max(1, timeoutMs)),
        redirect: "manual",
      });
    } catch (error) {
      const reason = describeFetchFailure(error, Math.round(timeoutMs));
      return { answer: failed(kongUnavailable(`${what}: ${reason}`, undefined, error)) };
    }
    const { status } = response;
    if (!response.ok) {
      await response.body?.cancel();
      return { status, answer: failed(status === 404 ? unknownConsumer : refusal(what, status)) };
    }
    // A delete answers 204 without a body; nothing in a delete's answer is used.
    if (method === "DELETE") return { status, answer: succeeded(undefined as T) };
    return { status, answer: await this.read(response, what, schema) };
  }

  /** A 2xx answer's body, bounded in size and checked against Kong's entity schema. */
  private async read<T>(
    response: Response,
    what: string,
    schema: z.ZodType<T> | null,
  ): Promise<KongResult<T>> {
    const { status } = response;
    const maxBytes = this.options.maxBodyBytes ?? MAX_BODY_BYTES;
    const unreadable = (error: unknown) =>
      failed(kongUnavailable(`${what}: unreadable response body`, status, error));
    let answer: CappedBody;
    try {
      answer = await readCapped(response, maxBytes);
    } catch (error) {
      return unreadable(error);
    }
    if (!answer.ok)
      return failed(kongUnavailable(`${what}: answer exceeds the ${maxBytes}-byte limit`, status));
    let json: unknown;
    try {
      json = JSON.parse(answer.text);
    } catch (error) {
      return unreadable(error);
    }
    if (schema === null) return succeeded(json as T);
    const parsed = schema.safeParse(json);
    if (!parsed.success) return failed(kongUnavailable(`${what}: response is not a Kong entity`, status));
    return succeeded(parsed.data);
  }
}

/**
 * Any other answer than 2xx or 404 (docs/kong-facts.md#choice-answers). A redirect is never followed
 * (it would carry the admin token elsewhere): like any other 4xx, it says KONG_ADMIN_URL or the request
 * is wrong.
 */
function refusal(what: string, status: number): KongFailure {
  if (status === 401 || status === 403) {
    return kongMisconfigured(`${what}: Kong refused the admin token (${status})`, status);
  }
  if (status === 429 || status >= 500) return kongUnavailable(`${what}: Kong answered ${status}`, status);
  return kongMisconfigured(`${what}: Kong answered ${status}`, status);
}

/** Kong's `next` is relative to its own root, which may not be ours; only its offset is reused. */
function nextOffset(next: string | null | undefined, offset: string | null | undefined): string | undefined {
  if (!next) return undefined;
  const fromLink = new URL(next, "http://kong.invalid").searchParams.get("offset");
  return fromLink ?? offset ?? undefined;
}

/** Paths only: a URL in an error message must never carry credentials or query strings. */
function describePath(url: string): string {
  return new URL(url).pathname;
}

/** fetch rejects with an Error: a TimeoutError from the signal, else one with a string code, or none. */
function describeFetchFailure(error: unknown, timeoutMs: number): string {
  const { name, code } = error as { name?: unknown; code?: unknown };
  if (name === "TimeoutError") return `no answer within ${timeoutMs} ms`;
  return typeof code === "string" ? `connection failed (${code})` : "connection failed";
}
