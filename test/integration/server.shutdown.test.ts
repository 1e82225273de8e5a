import { afterEach, describe, expect, test } from "bun:test";
import type { Socket } from "bun";
import { KongEmulator } from "../support/kong-emulator.ts";
import { answers, freePort, spawnService } from "../support/process.ts";
import { rawGet, rawRequest } from "../support/raw-http.ts";
import { waitFor } from "../support/wait.ts";

const CONNECTIONS = 50;
const REQUEST = "GET /health/live HTTP/1.1\r\nHost: 127.0.0.1\r\n\r\n";

const cleanups: (() => Promise<unknown> | unknown)[] = [];
afterEach(async () => {
  for (const cleanup of cleanups.splice(0).reverse()) await cleanup();
});

/**
 * One keep-alive connection used the way Kong's upstream pool uses it: a request, its answer, the next
 * request at once, until an answer says `Connection: close` (the client then moves to another
 * instance) or the server closes the socket. Raw, because fetch would retry a dropped request on a new
 * socket and hide the drop.
 */
function keepAliveClient(port: number) {
  const state = { written: 0, answered: 0, lastAnswerClosed: false, finished: false };
  let buffer = "";
  const send = (socket: Socket) => {
    socket.write(REQUEST);
    state.written++;
  };
  const finished = new Promise<void>((resolve) => {
    const finish = () => {
      state.finished = true;
      resolve();
    };
    Bun.connect({
      hostname: "127.0.0.1",
      port,
      socket: {
        open: send,
        data(socket, data) {
          buffer += data.toString("latin1");
          for (;;) {
            const headEnd = buffer.indexOf("\r\n\r\n");
            if (headEnd < 0) return;
            const head = buffer.slice(0, headEnd);
            const length = /\r\ncontent-length: *(\d+)/i.exec(head)?.[1];
            if (length === undefined) throw new Error(`an answer without Content-Length:\n${head}`);
            const end = headEnd + 4 + Number(length);
            if (buffer.length < end) return;
            buffer = buffer.slice(end);
            state.answered++;
            state.lastAnswerClosed = /\r\nconnection: *close\r?$/im.test(head);
            if (state.lastAnswerClosed) socket.end();
            else send(socket);
          }
        },
        close: finish,
        end: finish,
        error: finish,
      },
    }).catch(finish);
  });
  return { state, finished };
}

describe("stopping the service", () => {
  test("SIGTERM: readiness fails at once, every request already sent is answered with Connection: close, exit 0", async () => {
    const emulator = KongEmulator.start({});
    cleanups.push(() => emulator.stop());
    const port = await freePort();
    const service = spawnService(port, emulator.adminUrl, {
      LOG_LEVEL: "info",
      // Long enough for the readiness probe below to arrive inside the drain window on a slow machine.
      SHUTDOWN_DRAIN_MS: "2000",
      SHUTDOWN_TIMEOUT_MS: "6000",
    });
    cleanups.push(() => service.kill());
    const { child, output, drained } = service;
    await waitFor(
      () => answers(`http://127.0.0.1:${port}/health/ready`),
      "the service to be ready",
      5_000,
      service,
    );

    const clients = Array.from({ length: CONNECTIONS }, () => keepAliveClient(port));
    await waitFor(
      () => clients.every(({ state }) => state.answered >= 3),
      "every connection to be busy",
      5_000,
    );
    child.kill("SIGTERM");
    await waitFor(
      () => output.stdout.includes('"message":"Shutting down"'),
      "the service to start draining",
      5_000,
    );
    const readiness = await rawRequest(port, rawGet("/health/ready", [])).then(
      (response) => response.status,
      () => "refused",
    );
    const exitCode = await child.exited;
    await Promise.all(clients.map(({ finished }) => finished));
    await drained;

    const written = clients.reduce((sum, { state }) => sum + state.written, 0);
    const answered = clients.reduce((sum, { state }) => sum + state.answered, 0);
    expect({
      lost: written - answered,
      readiness,
      connectionsEndedWithoutConnectionClose: clients.filter(({ state }) => !state.lastAnswerClosed).length,
      exitCode,
    }).toEqual({ lost: 0, readiness: 503, connectionsEndedWithoutConnectionClose: 0, exitCode: 0 });
    expect(output.stdout).not.toContain("still running");
    expect(output.stdout).toContain('"message":"Stopped"');
  }, 30_000);
});
