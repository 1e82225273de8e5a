/**
 * What the global setup hands the suites through the environment: the service's URL, the Kong
 * Admin API, the consumers as Kong knows them, and (only for the emulated stack) the control URL.
 */
import { ANONYMOUS_CONSUMER, type TestConsumer } from "../../shared/test-consumers.ts";
import { type KongAdmin, kongAdminFromEnv, type ProvisionedConsumer } from "./kong-admin.ts";

export function baseUrl(): string {
  const url = process.env.API_BASE_URL;
  if (!url) throw new Error("API_BASE_URL is not set: run the suites through playwright.config.ts");
  return url.replace(/\/$/, "");
}

export function kongAdmin(): KongAdmin {
  const admin = kongAdminFromEnv();
  if (!admin) throw new Error("KONG_ADMIN_URL is not set: the global setup provides it");
  return admin;
}

export function controlUrl(): string {
  const url = process.env.E2E_CONTROL_URL;
  if (!url) throw new Error("E2E_CONTROL_URL is not set: the emulated suites need the e2e stack");
  return url;
}

/** The standard consumers with the ids Kong gave them (fixed ids for the emulator). */
export function consumers(): ProvisionedConsumer[] {
  const raw = process.env.E2E_CONSUMERS;
  if (!raw) throw new Error("E2E_CONSUMERS is not set: the global setup provides it");
  return JSON.parse(raw) as ProvisionedConsumer[];
}

export function consumer(username: string): ProvisionedConsumer {
  const found = consumers().find((candidate) => candidate.username === username);
  if (!found) throw new Error(`no provisioned consumer ${username}`);
  return found;
}

export function anonymousConsumer(): TestConsumer {
  return ANONYMOUS_CONSUMER;
}

/**
 * The headers Kong's key-auth sets upstream for an authenticated consumer
 * (docs/kong-facts.md#upstream-headers).
 */
export function kongHeaders(c: { id: string; username: string; custom_id?: string }): Record<string, string> {
  return {
    "X-Consumer-ID": c.id,
    "X-Consumer-Username": c.username,
    ...(c.custom_id ? { "X-Consumer-Custom-ID": c.custom_id } : {}),
  };
}
