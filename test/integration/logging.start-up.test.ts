import { afterEach, describe, expect, test } from "bun:test";
import TransportStream from "winston-transport";
import { consoleTelemetry, type Telemetry } from "../../src/telemetry/sdk.ts";
import { testConfig } from "../support/config.ts";
import { answers, freePort, type SpawnedScript, spawnService } from "../support/process.ts";
import { type Stack, startStack } from "../support/stack.ts";
import { waitFor } from "../support/wait.ts";

const cleanups: (() => Promise<unknown> | unknown)[] = [];
afterEach(async () => {
  for (const cleanup of cleanups.splice(0).reverse()) await cleanup();
});

async function stack(): Promise<Stack> {
  const started = await startStack({ env: { LOG_LEVEL: "info" }, holdLogsMs: 60_000 });
  cleanups.push(() => started.stop());
  return started;
}

describe("lines logged during start-up", () => {
  test("wait for the service's first request, then are written in order, before any later line", async () => {
    const service = await stack();
    service.app.logger.info("first during start-up");
    service.app.logger.warn("second during start-up");
    expect(service.logs.lines).toEqual([]);

    expect((await service.fetch("/health/live")).status).toBe(200);
    await waitFor(() => service.logs.lines.length === 2, "the held lines");
    service.app.logger.info("after the first request");
    expect(service.logs.records().map((record) => record.message)).toEqual([
      "first during start-up",
      "second during start-up",
      "after the first request",
    ]);
  });

  test("lines still held when the service stops reach the OTLP transports before telemetry's last flush", async () => {
    // What an OTLP log transport sees, and whether telemetry had already shut down when it saw it.
    const exported: [string, boolean][] = [];
    let shutDown = false;
    const base = consoleTelemetry(testConfig().telemetry, "test");
    const telemetry: Telemetry = {
      ...base,
      logTransports: [
        new TransportStream({
          log(info: { message: string }, done: () => void) {
            exported.push([info.message, shutDown]);
            done();
          },
        }),
      ],
      shutdown: async (timeoutMs) => {
        shutDown = true;
        await base.shutdown(timeoutMs);
      },
    };
    const service = await startStack({ env: { LOG_LEVEL: "info" }, telemetry, holdLogsMs: 60_000 });
    service.app.logger.info("Shutting down");
    await service.stop();
    expect(exported).toEqual([["Shutting down", false]]);
  });

  test("the process says it listens even when nobody asks it anything, and its lines stay in order", async () => {
    const port = await freePort();
    // Kong is never called: only liveness is asked, and only once the line is out.
    const service: SpawnedScript = spawnService(port, "http://127.0.0.1:9", {
      LOG_LEVEL: "info",
      SHUTDOWN_DRAIN_MS: "0",
    });
    cleanups.push(() => service.kill());
    await waitFor(
      () => service.output.stdout.includes('"message":"Listening on'),
      "the start-up line",
      4_000,
      service,
    );
    expect(await answers(`http://127.0.0.1:${port}/health/live`)).toBe(true);
    service.child.kill("SIGTERM");
    expect(await service.child.exited).toBe(0);
    await service.drained;
    const actions = service.output.stdout
      .trim()
      .split("\n")
      .map((line) => JSON.parse(line).event?.action);
    expect(actions).toEqual(["started", "shutdown", "stopped"]);
  }, 20_000);
});
