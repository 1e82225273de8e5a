import type { KongEmulator } from "../../support/kong-emulator.ts";

export interface AdminResponse {
  status: number;
  headers: Headers;
  text: string;
  // Tests read arbitrary JSON shapes; a loose type keeps the assertions readable.
  // biome-ignore lint/suspicious/noExplicitAny: parsed JSON of unknown shape
  body: any;
}

export interface RequestOptions {
  json?: unknown;
  rawBody?: string;
  form?: [string, string][];
  headers?: Record<string, string>;
  signal?: AbortSignal;
}

/** A bare HTTP client for the emulator, authenticated the way the product expects. */
export class AdminClient {
  constructor(private readonly kong: KongEmulator) {}

  get authHeaders(): Record<string, string> {
    if (this.kong.adminToken === undefined) return {};
    return this.kong.mode === "KONNECT"
      ? { authorization: `Bearer ${this.kong.adminToken}` }
      : { "kong-admin-token": this.kong.adminToken };
  }

  /** `/consumers/...` below the product prefix (Konnect's lives under `core-entities`). */
  url(path: string): string {
    const base = this.kong.mode === "KONNECT" ? `${this.kong.adminUrl}/core-entities` : this.kong.adminUrl;
    return `${base}${path}`;
  }

  /** Resolves a `next` link the way a client must: against the origin, never re-encoded. */
  nextUrl(next: string): string {
    return new URL(next, this.kong.origin).toString();
  }

  request(method: string, path: string, options: RequestOptions = {}): Promise<AdminResponse> {
    return this.send(method, this.url(path), options);
  }

  async send(method: string, url: string, options: RequestOptions = {}): Promise<AdminResponse> {
    const headers: Record<string, string> = { ...this.authHeaders, ...options.headers };
    let body: string | undefined = options.rawBody;
    if (options.json !== undefined) {
      headers["content-type"] ??= "application/json";
      body = JSON.stringify(options.json);
    }
    if (options.form) {
      headers["content-type"] = "application/x-www-form-urlencoded";
      body = new URLSearchParams(options.form).toString();
    }
    const response = await fetch(url, { method, headers, body, signal: options.signal });
    const text = await response.text();
    let parsed: unknown = null;
    try {
      parsed = text === "" ? null : JSON.parse(text);
    } catch {
      parsed = null;
    }
    return { status: response.status, headers: response.headers, text, body: parsed };
  }
}
