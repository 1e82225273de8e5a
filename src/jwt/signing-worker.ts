/**
 * The signing pool's worker (src/jwt/signing-pool.ts): what it is sent and answers, its code, and how
 * a Bun Worker running it reports.
 */

/** What the pool needs of a worker: Bun's Worker (workerFromSource) or a test's stand-in. */
export interface SigningWorker {
  post(message: ToWorker): void;
  terminate(): void;
}
export interface WorkerEvents {
  answer(message: FromWorker): void;
  /** The worker exited or threw outside a signature. */
  failed(reason: string): void;
}
export type WorkerFactory = (events: WorkerEvents) => SigningWorker;

export type ToWorker =
  | { readonly kind: "key"; readonly key: number; readonly digest: string | null; readonly pkcs8: Uint8Array }
  | { readonly kind: "sign"; readonly batch: number; readonly keys: number[]; readonly inputs: string[] };
/** A signature the worker could not make is null: the request thread signs it, and throws as inline would. */
export interface FromWorker {
  readonly batch: number;
  readonly signatures: readonly (string | null)[];
}

/**
 * The worker's code. It is a string, not a module, so that the bundle (one CommonJS file) and the
 * sources start it alike; test/unit/jwt/signing-pool.test.ts checks its tokens with Kong's rules.
 * ES signatures are JWS r‖s, as on the request thread (docs/kong-facts.md#jwt-asymmetric).
 */
export const WORKER_SOURCE = `"use strict";
const { createPrivateKey, sign } = require("node:crypto");
const keys = [];
self.onmessage = ({ data }) => {
  if (data.kind === "key") {
    const key = createPrivateKey({ key: Buffer.from(data.pkcs8), format: "der", type: "pkcs8" });
    keys[data.key] = { digest: data.digest, options: { key, dsaEncoding: "ieee-p1363" } };
    return;
  }
  const signatures = data.inputs.map((input, i) => {
    const key = keys[data.keys[i]];
    try {
      return sign(key.digest, Buffer.from(input), key.options).toString("base64url");
    } catch {
      return null;
    }
  });
  postMessage({ batch: data.batch, signatures });
};
`;

const workerUrls = new Map<string, string>();

/** A Bun Worker running `source` (WORKER_SOURCE; a test gives its own); it does not keep the process alive. */
export function workerFromSource(events: WorkerEvents, source = WORKER_SOURCE): SigningWorker {
  let url = workerUrls.get(source);
  // Stryker disable next-line ConditionalExpression: a new URL per worker runs the same code; keeping it spares a blob per worker.
  if (url === undefined) {
    url = URL.createObjectURL(new Blob([source]));
    // Stryker disable next-line CallExpression: a new URL per worker runs the same code; keeping it spares a blob per worker.
    workerUrls.set(source, url);
  }
  const worker = new Worker(url);
  // An uncaught error is followed by the exit, and terminate() by a close event too: the pool takes
  // the first report of a worker and ignores the rest (it is no longer one of its workers).
  worker.onmessage = ({ data }: MessageEvent<FromWorker>) => events.answer(data);
  worker.onerror = (event: ErrorEvent) => events.failed(`worker error: ${errorLine(event.message)}`);
  worker.addEventListener("close", () => events.failed("worker exited"));
  // Stryker disable next-line CallExpression: only lets a process that never closes the pool exit; the service closes it on shutdown.
  worker.unref();
  return {
    post: (message) => worker.postMessage(message),
    terminate: () => worker.terminate(),
  };
}

/**
 * The error out of Bun's message for an uncaught error in a worker, which quotes the worker's source
 * around it ("1 | …", "^", "TypeError: …", "at …"): the line naming the error, else the first.
 */
export function errorLine(message: string): string {
  const lines = message.split("\n");
  // split gives at least one line.
  return lines.find((line) => /^[A-Za-z]*(Error|error)\b/.test(line)) ?? (lines[0] as string);
}
