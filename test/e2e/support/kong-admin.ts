/**
 * The few Kong Admin API (or Konnect core-entities) calls the suites need: find or create the
 * standard consumers, and list a consumer's JWT credentials to verify tokens against. Works the
 * same against the emulator and a real Kong.
 */
import type { TestConsumer } from "../../shared/test-consumers.ts";

export interface KongAdmin {
  readonly url: string;
  readonly token?: string | undefined;
  readonly mode: "API_GATEWAY" | "KONNECT";
}

export interface KongCredential {
  id: string;
  key: string;
  secret: string;
  algorithm: string;
  rsa_public_key: string | null;
  tags: string[] | null;
  consumer: { id: string };
  created_at: number;
}

export interface ProvisionedConsumer {
  readonly id: string;
  readonly username: string;
  readonly custom_id: string;
}

export function kongAdminFromEnv(env: NodeJS.ProcessEnv = process.env): KongAdmin | undefined {
  if (!env.KONG_ADMIN_URL) return undefined;
  return {
    url: env.KONG_ADMIN_URL.replace(/\/$/, ""),
    token: env.KONG_ADMIN_TOKEN || undefined,
    mode: env.KONG_MODE === "KONNECT" ? "KONNECT" : "API_GATEWAY",
  };
}

async function call(admin: KongAdmin, method: string, path: string, body?: unknown): Promise<Response> {
  const headers: Record<string, string> = { accept: "application/json" };
  if (admin.token) {
    if (admin.mode === "KONNECT") headers.authorization = `Bearer ${admin.token}`;
    else headers["kong-admin-token"] = admin.token;
  }
  if (body !== undefined) headers["content-type"] = "application/json";
  const prefix = admin.mode === "KONNECT" ? "/core-entities" : "";
  return fetch(`${admin.url}${prefix}${path}`, {
    method,
    headers,
    ...(body === undefined ? {} : { body: JSON.stringify(body) }),
  });
}

/** Idempotent: an existing consumer (by username) is kept as it is, with whatever id it has. */
export async function ensureConsumer(admin: KongAdmin, consumer: TestConsumer): Promise<ProvisionedConsumer> {
  const path = `/consumers/${encodeURIComponent(consumer.username)}`;
  let response = await call(admin, "GET", path);
  if (response.status === 404) {
    response = await call(admin, "POST", "/consumers", {
      username: consumer.username,
      custom_id: consumer.custom_id,
      tags: ["auth-service-test"],
    });
  }
  if (!response.ok) {
    throw new Error(
      `Kong Admin API: ${consumer.username} answered ${response.status}: ${await response.text()}`,
    );
  }
  const found = (await response.json()) as { id: string; username: string; custom_id: string | null };
  return { id: found.id, username: found.username, custom_id: found.custom_id ?? consumer.custom_id };
}

/** Every JWT credential of a consumer, following `next` pages. */
export async function credentialsOf(admin: KongAdmin, consumerId: string): Promise<KongCredential[]> {
  const credentials: KongCredential[] = [];
  let path: string | null = `/consumers/${encodeURIComponent(consumerId)}/jwt`;
  while (path) {
    const response = await call(admin, "GET", path);
    if (!response.ok) throw new Error(`Kong Admin API: ${path} answered ${response.status}`);
    const page = (await response.json()) as { data: KongCredential[]; next: string | null };
    credentials.push(...page.data);
    path = page.next ? page.next.replace(/^.*?(\/consumers\/)/, "$1") : null;
  }
  return credentials;
}
