import { afterEach } from "bun:test";
import { KongAdapter, type KongAdapterOptions } from "../../../../src/kong/adapter.ts";
import type { KongFailure, Result, UnknownConsumer } from "../../../../src/kong/result.ts";
import { createStrategy } from "../../../../src/kong/strategies.ts";
import type { KongMode } from "../../../../src/kong/types.ts";
import { KongBreaker, type KongOutcome } from "../../../../src/resilience/breaker.ts";

/** One request as the scripted Kong received it; `path` is still percent-encoded. */
export interface SeenRequest {
  readonly method: string;
  readonly path: string;
  readonly search: string;
  readonly headers: Headers;
  readonly body: string;
  /** Aborts when the client gives up on the request (closes the connection). */
  readonly signal: AbortSignal;
}

export type Script = (request: SeenRequest, index: number) => Response | Promise<Response>;

/**
 * A Kong that answers exactly what a test needs: each request gets whatever `script` returns, and
 * every request is recorded, so a test can say what reached Kong (and what did not).
 */
export function scriptedKong(script: Script) {
  const requests: SeenRequest[] = [];
  const server = Bun.serve({
    hostname: "127.0.0.1",
    port: 0,
    development: false,
    // A request a test leaves unanswered must stay so until the client aborts.
    idleTimeout: 0,
    async fetch(req) {
      const url = new URL(req.url);
      const seen: SeenRequest = {
        method: req.method,
        path: url.pathname,
        search: url.search,
        headers: new Headers(req.headers),
        body: await req.text(),
        signal: req.signal,
      };
      requests.push(seen);
      return script(seen, requests.length - 1);
    },
  });
  return {
    url: `http://127.0.0.1:${server.port}`,
    requests,
    stop: () => server.stop(true),
  };
}
export type ScriptedKong = ReturnType<typeof scriptedKong>;

/** A JSON answer, as Kong sends it. */
export const json = (status: number, body: unknown, headers: Record<string, string> = {}) =>
  Response.json(body, { status, headers });

export interface AdapterSetup extends Partial<Omit<KongAdapterOptions, "breaker">> {
  readonly mode?: KongMode;
  readonly token?: string;
  /** The breaker's budget for one operation, its retry included. */
  readonly breakerTimeoutMs?: number;
}

const breakers: KongBreaker[] = [];

/**
 * A KongAdapter as the service builds one, against `adminUrl`, with a breaker that never opens (so
 * every call reaches Kong) and a 1 ms retry pause. `outcomes` is what the breaker counted per call.
 */
export function adapterFor(adminUrl: string, setup: AdapterSetup = {}) {
  const { mode = "API_GATEWAY", token, breakerTimeoutMs = 4_000, ...options } = setup;
  const breaker = new KongBreaker({
    timeoutMs: breakerTimeoutMs,
    errorThresholdPercentage: 50,
    resetTimeoutMs: 30_000,
    volumeThreshold: 1_000_000,
  });
  breakers.push(breaker);
  const outcomes: [operation: string, outcome: KongOutcome][] = [];
  breaker.observe({ onResult: (operation, outcome) => outcomes.push([operation, outcome]) });
  const adapter = new KongAdapter(createStrategy(mode, adminUrl, token), {
    timeoutMs: 2_000,
    retryDelayMs: 1,
    ...options,
    breaker,
  });
  return { adapter, breaker, outcomes };
}

/**
 * For the tests of one file: the returned `kong(script)` starts a scripted Kong; after each test, every
 * Kong it started is stopped and every breaker `adapterFor` built is shut down.
 */
export function scriptedKongs(): (script: Script) => ScriptedKong {
  const servers: ScriptedKong[] = [];
  afterEach(async () => {
    for (const breaker of breakers.splice(0)) breaker.shutdown();
    await Promise.all(servers.splice(0).map((server) => server.stop()));
  });
  return (script) => {
    const server = scriptedKong(script);
    servers.push(server);
    return server;
  };
}

/** The outage or misconfiguration a call came back with; fails the test when it did not fail so. */
export async function kongFailureOf<E extends KongFailure>(
  call: Promise<Result<unknown, E>>,
): Promise<Exclude<E, UnknownConsumer>> {
  const result = await call;
  if (result.ok) throw new Error("expected the Kong call to fail");
  const { error } = result;
  if (error.kind === "unknown-consumer") throw new Error("expected a failure, Kong answered 404");
  return error as Exclude<E, UnknownConsumer>;
}

/** The value a call came back with; fails the test when the call failed. */
export async function kongValueOf<T>(call: Promise<Result<T, KongFailure>>): Promise<T> {
  const result = await call;
  if (!result.ok) throw new Error(`expected the Kong call to succeed, got ${result.error.kind}`);
  return result.value;
}

/** What every consumer operation comes back with when Kong answers 404. */
export const UNKNOWN_CONSUMER = { ok: false, error: { kind: "unknown-consumer" } } as const;
