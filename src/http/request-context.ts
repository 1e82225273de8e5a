import type { Server } from "bun";

export interface RequestContext {
  readonly requestId: string;
  readonly startedAt: number;
  readonly server: Server<unknown>;
}

const SANE_REQUEST_ID = /^[\x21-\x7e]{1,128}$/;

/** Echoes a caller's X-Request-Id when it is short printable ASCII, else mints one. */
export function requestIdOf(request: Request): string {
  const incoming = request.headers.get("x-request-id");
  return incoming !== null && SANE_REQUEST_ID.test(incoming) ? incoming : crypto.randomUUID();
}
