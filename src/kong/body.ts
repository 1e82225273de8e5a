export type CappedBody = { readonly ok: true; readonly text: string } | { readonly ok: false };

/**
 * A response body as text, read only up to `maxBytes`: a declared Content-Length above it is refused
 * before reading, and a body without one (or lying about it) is cancelled as soon as the running
 * count passes it, so an answer never costs more memory than the cap, however big it claims to be.
 */
export async function readCapped(response: Response, maxBytes: number): Promise<CappedBody> {
  const declared = Number(response.headers.get("content-length") ?? 0);
  if (!response.body || declared > maxBytes) {
    await response.body?.cancel();
    return declared > maxBytes ? { ok: false } : { ok: true, text: "" };
  }
  const reader = response.body.getReader();
  const chunks: Uint8Array[] = [];
  let total = 0;
  for (let read = await reader.read(); !read.done; read = await reader.read()) {
    total += read.value.byteLength;
    if (total > maxBytes) {
      await reader.cancel();
      return { ok: false };
    }
    chunks.push(read.value);
  }
  return { ok: true, text: Buffer.concat(chunks, total).toString("utf8") };
}
