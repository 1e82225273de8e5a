import { Writable } from "node:stream";
import { createApp, createServiceLogger } from "../../src/app.ts";
import { startServer } from "../../src/server.ts";
import { consoleTelemetry, type Telemetry } from "../../src/telemetry/sdk.ts";
import { testConfig } from "./config.ts";
import { KongEmulator as Emulator, type KongEmulator, type KongMode } from "./kong-emulator.ts";
import { createResponseChecker } from "./openapi-responses.ts";
import { waitFor } from "./wait.ts";

export interface StackOptions {
  readonly mode?: KongMode;
  readonly env?: Record<string, string | undefined>;
  /** Share one emulator between several service instances. */
  readonly emulator?: KongEmulator;
  readonly now?: () => number;
  /** Started telemetry (otlp/both tests); console telemetry otherwise. */
  readonly telemetry?: Telemetry;
  /** Bun's idle timeout for the test server (slow-client tests). */
  readonly idleTimeoutSeconds?: number;
  /** The service's lines wait for its first request, as the process's do, at most this long. */
  readonly holdLogsMs?: number;
}

/** Every log line the service wrote, for assertions about what is (and is not) logged. */
export class LogCapture extends Writable {
  readonly lines: string[] = [];
  override _write(chunk: Buffer, _encoding: string, done: () => void) {
    this.lines.push(...chunk.toString().split("\n").filter(Boolean));
    done();
  }
  get text(): string {
    return this.lines.join("\n");
  }
  records(): Record<string, unknown>[] {
    return this.lines.map((line) => JSON.parse(line));
  }
}

/** The service on a real Bun.serve (random port) in front of a Kong emulator. */
export async function startStack(options: StackOptions = {}) {
  const emulator = options.emulator ?? Emulator.start({ mode: options.mode ?? "API_GATEWAY" });
  const config = testConfig({
    KONG_MODE: emulator.mode,
    KONG_ADMIN_URL: emulator.adminUrl,
    KONG_ADMIN_TOKEN: emulator.adminToken,
    HOST: "127.0.0.1",
    PORT: "0",
    ...options.env,
  });
  const logs = new LogCapture();
  // The service's own logger (its redaction included), writing to the capture instead of stdout.
  const logger = createServiceLogger(
    config,
    options.telemetry ?? consoleTelemetry(config.telemetry, config.app.environment),
    { stream: logs, ...(options.holdLogsMs === undefined ? {} : { holdMs: options.holdLogsMs }) },
  );
  const app = createApp(config, {
    logger,
    ...(options.now ? { now: options.now } : {}),
    ...(options.telemetry ? { telemetry: options.telemetry } : {}),
  });
  const server = startServer(app, options.idleTimeoutSeconds);
  app.start();
  const url = `http://127.0.0.1:${server.port}`;
  const checkResponse = createResponseChecker(app.document);

  /** Every response a test receives through the stack must match the service's own OpenAPI document. */
  async function checked(path: string, init: RequestInit | undefined, response: Response): Promise<Response> {
    const body = await response.clone().text();
    const method = (init?.method ?? "GET").toUpperCase();
    const pathname = new URL(path, url).pathname;
    const problems = checkResponse(
      method,
      pathname,
      response.status,
      response.headers.get("content-type"),
      body,
    );
    if (problems.length > 0)
      throw new Error(`response does not match the OpenAPI document:\n${problems.join("\n")}`);
    return response;
  }

  return {
    url,
    app,
    server,
    emulator,
    logs,
    config,
    async fetch(path: string, init?: RequestInit) {
      return checked(path, init, await fetch(url + path, init));
    },
    /** GET /tokens with the headers Kong would add for this consumer. */
    async tokens(consumer: { id: string; username: string | null }, headers: Record<string, string> = {}) {
      const init = {
        headers: { "x-consumer-id": consumer.id, "x-consumer-username": consumer.username ?? "", ...headers },
      };
      return checked("/tokens", init, await fetch(`${url}/tokens`, init));
    },
    /** Resolves once the service's Redis connection is ready (fails the test after 3 s). */
    async redisReady() {
      await waitFor(() => app.redisStatus() === "ready", "the service to connect to Redis", 3_000);
    },
    async stop() {
      await server.stop(true);
      await app.close();
      if (!options.emulator) await emulator.stop();
    },
  };
}

export type Stack = Awaited<ReturnType<typeof startStack>>;
