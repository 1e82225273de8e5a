import { describe, expect, test } from "bun:test";
import { startTelemetry } from "../../src/telemetry/sdk.ts";
import { testConfig } from "../support/config.ts";
import { KongEmulator } from "../support/kong-emulator.ts";
import { OtlpReceiver } from "../support/otlp-receiver.ts";
import { startStack } from "../support/stack.ts";

describe("what the logs never contain", () => {
  test("no admin token, credential secret or JWT, even at debug level with failures", async () => {
    const adminToken = "rbac-admin-token-0123456789abcdefghijklmnop";
    const emulator = KongEmulator.start({ adminToken });
    const stack = await startStack({ emulator, env: { KONG_ADMIN_TOKEN: adminToken, LOG_LEVEL: "debug" } });
    try {
      const consumer = emulator.addConsumer({ username: "secretive" });
      const credential = emulator.addCredential(consumer.id);
      const tokens: string[] = [];
      for (let i = 0; i < 3; i++) {
        const response = await stack.tokens(consumer, { authorization: `Bearer ${adminToken}` });
        tokens.push(((await response.json()) as { access_token: string }).access_token);
      }
      const other = emulator.addConsumer({ username: "failing" });
      emulator.inject({ status: 500 });
      expect((await stack.tokens(other)).status).toBe(503);
      emulator.clearFaults();

      const text = stack.logs.text;
      expect(stack.logs.lines.length).toBeGreaterThan(3);
      expect(text).not.toContain(adminToken);
      expect(text).not.toContain(credential.secret);
      for (const token of tokens) {
        expect(text).not.toContain(token);
        expect(text).not.toContain(token.split(".")[2] as string);
      }
    } finally {
      await stack.stop();
      await emulator.stop();
    }
  });

  test("a misconfigured admin token is reported without its value", async () => {
    const emulator = KongEmulator.start({ adminToken: "the-right-token-0123456789abcdefghijkl" });
    const wrong = "the-wrong-token-0123456789abcdefghijkl";
    const stack = await startStack({ emulator, env: { KONG_ADMIN_TOKEN: wrong, LOG_LEVEL: "debug" } });
    try {
      const consumer = emulator.addConsumer({ username: "x" });
      expect((await stack.tokens(consumer)).status).toBe(500);
      expect(stack.logs.text).toContain("refused the admin token");
      expect(stack.logs.text).not.toContain(wrong);
    } finally {
      await stack.stop();
      await emulator.stop();
    }
  });

  test("TELEMETRY_MODE=console sends nothing anywhere", async () => {
    const receiver = new OtlpReceiver();
    const env = {
      TELEMETRY_MODE: "console",
      OTEL_EXPORTER_OTLP_ENDPOINT: receiver.endpoint,
      LOG_LEVEL: "debug",
    };
    // Telemetry as the server starts it, so an exporter it wrongly set up would be flushed below.
    const telemetry = await startTelemetry(testConfig(env).telemetry, "test");
    const stack = await startStack({ env, telemetry });
    try {
      const consumer = stack.emulator.addConsumer({ username: "quiet" });
      for (let i = 0; i < 5; i++) expect((await stack.tokens(consumer)).status).toBe(200);
      await stack.fetch("/health");
      await telemetry.forceFlush();
      expect(receiver.total).toBe(0);
      expect(stack.emulator.calls.every((call) => call.headers.get("traceparent") === null)).toBe(true);
    } finally {
      await stack.stop();
      await receiver.stop();
    }
  });
});
