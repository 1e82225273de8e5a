import type { ExportResponse, IExporterTransport } from "@opentelemetry/otlp-exporter-base";

/** What the OpenTelemetry specification lets an OTLP/HTTP exporter retry. */
const RETRYABLE_STATUS = new Set([429, 502, 503, 504]);
/** The SDK's retry policy: up to five retries, backoff from 1 s growing 1.5×, at most 5 s, ±20 % jitter. */
const MAX_RETRIES = 5;
const INITIAL_BACKOFF_MS = 1_000;
const MAX_BACKOFF_MS = 5_000;
const BACKOFF_MULTIPLIER = 1.5;
const JITTER = 0.2;

/** Retry-After in seconds or as an HTTP date, in milliseconds; undefined when absent or invalid. */
export function retryAfterMs(header: string | null, now = Date.now()): number | undefined {
  if (header === null) return undefined;
  const seconds = Number(header.trim());
  if (Number.isInteger(seconds) && seconds >= 0) return seconds * 1000;
  const at = Date.parse(header);
  return Number.isNaN(at) ? undefined : Math.max(0, at - now);
}

export class ExportHttpError extends Error {
  constructor(readonly status: number) {
    super(`OTLP export answered HTTP ${status}`);
    this.name = "ExportHttpError";
  }
}

/**
 * OTLP/HTTP requests sent with Bun's fetch over a kept-alive connection, retried as the
 * OpenTelemetry exporters retry (429, 502, 503, 504 and network errors, with backoff, honouring
 * Retry-After, within the export timeout).
 *
 * Why not the exporters' own transports: under Bun, Node's http client costs two to three times as
 * much CPU per request as fetch, and OpenTelemetry's fetch transport (written for browsers) asks for
 * `keepalive: false` on any body over 60 KB, which Bun takes as "close the connection": a TLS
 * handshake on every export of a full batch. Measured: about 0.25 ms of CPU per 100 KB export with
 * this transport, 0.6–0.8 ms with either of those (docs/testing.md, "Telemetry overhead").
 */
export class FetchTransport implements IExporterTransport {
  constructor(
    private readonly url: string,
    private readonly headers: () => Promise<Record<string, string>>,
    private readonly sleep: (ms: number) => Promise<unknown> = Bun.sleep,
  ) {}

  async send(data: Uint8Array, timeoutMillis: number): Promise<ExportResponse> {
    const deadline = Date.now() + timeoutMillis;
    let backoff = INITIAL_BACKOFF_MS;
    for (let retry = 0; ; retry++) {
      const result = await this.post(data, Math.max(1, deadline - Date.now()));
      if (result.status !== "retryable" || retry >= MAX_RETRIES) return result;
      const jittered = Math.min(backoff * (1 + (Math.random() * 2 - 1) * JITTER), MAX_BACKOFF_MS);
      backoff *= BACKOFF_MULTIPLIER;
      const wait = result.retryInMillis ?? jittered;
      if (wait > deadline - Date.now()) return result;
      await this.sleep(wait);
    }
  }

  private async post(data: Uint8Array, timeoutMs: number): Promise<ExportResponse> {
    let response: Response;
    try {
      response = await fetch(this.url, {
        method: "POST",
        body: data,
        headers: await this.headers(),
        signal: AbortSignal.timeout(timeoutMs),
      });
    } catch (error) {
      // Refused, reset, unresolvable or timed out: worth another try within the timeout.
      return { status: "retryable", error: error instanceof Error ? error : new Error(String(error)) };
    }
    const body = new Uint8Array(await response.arrayBuffer().catch(() => new ArrayBuffer(0)));
    if (response.ok) {
      // A protobuf answer may report a partial success; anything else has nothing to say.
      const protobuf = response.headers.get("content-type")?.startsWith("application/x-protobuf") ?? false;
      return protobuf && body.length > 0 ? { status: "success", data: body } : { status: "success" };
    }
    if (RETRYABLE_STATUS.has(response.status)) {
      return {
        status: "retryable",
        retryInMillis: retryAfterMs(response.headers.get("retry-after")),
        error: new ExportHttpError(response.status),
      };
    }
    return { status: "failure", error: new ExportHttpError(response.status) };
  }

  shutdown(): void {}
}
