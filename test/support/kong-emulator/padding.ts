import { sleep } from "./faults.ts";
import type { PaddedBody } from "./types.ts";

const DEFAULT_CHUNK_BYTES = 64 * 1024;
const FILL = 0x41; // "A": valid inside a JSON string, no escaping needed.

/**
 * Turns an answer into a huge or trickling one without the emulator holding a copy per request: a
 * sized body is one Blob shared by every request for the same answer (Bun sends a Blob without
 * copying it, with its Content-Length), and a streamed body repeats one shared chunk. A sized body
 * still costs one copy per distinct answer, in this process: measure memory with streamed bodies,
 * or with the emulator in another process (scripts/measure-kong-bodies.ts).
 */
export class BodyPadder {
  private last: { key: string; blob: Blob } | undefined;
  private fill: Uint8Array = new Uint8Array(0);

  async pad(response: Response, spec: PaddedBody, signals: AbortSignal[]): Promise<Response> {
    const body: unknown = await response.json();
    if (typeof body !== "object" || body === null || Array.isArray(body)) {
      throw new Error("only a JSON object answer can be padded");
    }
    const json = JSON.stringify(body);
    const prefix = Buffer.from(`${json.slice(0, -1)}${json === "{}" ? "" : ","}"padding":"`);
    const suffix = Buffer.from('"}');
    const fill = Math.max(0, spec.bytes - prefix.length - suffix.length);
    const headers = new Headers(response.headers);
    headers.delete("content-length");
    const init = { status: response.status, headers };
    if (!spec.streamed) return new Response(this.sized(prefix, fill, suffix), init);
    return new Response(streamed(prefix, fill, suffix, spec, signals), init);
  }

  private sized(prefix: Buffer, fill: number, suffix: Buffer): Blob {
    const key = `${prefix.toString("latin1")}:${fill}`;
    if (this.last?.key !== key) {
      if (this.fill.length < fill) this.fill = new Uint8Array(fill).fill(FILL);
      this.last = { key, blob: new Blob([prefix, this.fill.subarray(0, fill), suffix]) };
    }
    return this.last.blob;
  }
}

function streamed(
  prefix: Uint8Array,
  fill: number,
  suffix: Uint8Array,
  spec: PaddedBody,
  signals: AbortSignal[],
): ReadableStream<Uint8Array> {
  const chunkBytes = spec.chunkBytes ?? DEFAULT_CHUNK_BYTES;
  if (!Number.isInteger(chunkBytes) || chunkBytes < 1) throw new Error("chunkBytes must be >= 1");
  const chunk = new Uint8Array(chunkBytes).fill(FILL);
  let remaining = fill;
  let started = false;
  return new ReadableStream({
    async pull(controller) {
      if (!started) {
        started = true;
        controller.enqueue(prefix);
        return;
      }
      if (spec.chunkDelayMs && !(await sleep(spec.chunkDelayMs, ...signals))) {
        controller.error(undefined);
        return;
      }
      if (remaining > 0) {
        const size = Math.min(chunkBytes, remaining);
        remaining -= size;
        controller.enqueue(size === chunkBytes ? chunk : chunk.subarray(0, size));
        return;
      }
      controller.enqueue(suffix);
      controller.close();
    },
  });
}
