/**
 * Sends bytes exactly as given over a fresh TCP connection and reads the answer. fetch() refuses to
 * send malformed requests (CR/LF or NUL in headers, odd methods), which is what hostile-input tests need.
 */
export interface RawResponse {
  readonly status: number;
  readonly head: string;
  readonly body: string;
  /** True when the server closed the connection without answering. */
  readonly closedWithoutAnswer: boolean;
}

export function rawRequest(
  port: number,
  request: string | Uint8Array,
  timeoutMs = 3000,
): Promise<RawResponse> {
  return new Promise((resolve, reject) => {
    const chunks: Uint8Array[] = [];
    let settled = false;
    const finish = () => {
      if (settled) return;
      settled = true;
      clearTimeout(timer);
      const text = Buffer.concat(chunks).toString("latin1");
      const split = text.indexOf("\r\n\r\n");
      const head = split >= 0 ? text.slice(0, split) : text;
      const status = Number(/^HTTP\/1\.[01] (\d{3})/.exec(head)?.[1] ?? 0);
      resolve({
        status,
        head,
        body: split >= 0 ? text.slice(split + 4) : "",
        closedWithoutAnswer: status === 0,
      });
    };
    const timer = setTimeout(() => (settled ? undefined : reject(new Error("no answer in time"))), timeoutMs);
    Bun.connect({
      hostname: "127.0.0.1",
      port,
      socket: {
        open(socket) {
          socket.write(request);
        },
        data(_socket, data) {
          chunks.push(new Uint8Array(data));
        },
        close: finish,
        end: finish,
        error: finish,
      },
    }).catch(reject);
  });
}

/** A GET request with the given header lines (each "Name: value"), asking the server to close after. */
export function rawGet(path: string, headerLines: string[], method = "GET"): string {
  return [`${method} ${path} HTTP/1.1`, "Host: localhost", "Connection: close", ...headerLines, "", ""].join(
    "\r\n",
  );
}
