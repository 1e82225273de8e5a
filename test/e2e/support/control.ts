import type { APIRequestContext } from "@playwright/test";
import type { ProvisionedConsumer } from "./kong-admin.ts";
import { controlUrl } from "./target.ts";

/** The e2e stack's control server (scripts/e2e-stack.ts): drives the Kong emulator. */
export function control(request: APIRequestContext) {
  const url = (path: string) => `${controlUrl()}${path}`;
  // biome-ignore lint/suspicious/noExplicitAny: the control server's JSON answers, read per call.
  const ok = async (response: Awaited<ReturnType<APIRequestContext["post"]>>): Promise<any> => {
    if (!response.ok()) throw new Error(`control: ${response.url()} answered ${response.status()}`);
    return response.json();
  };
  return {
    kongDown: async (how: "reset" | "503" | "hang" = "reset") =>
      ok(await request.post(url(`/kong-down?how=${how}`))),
    kongUp: async () => ok(await request.post(url("/kong-up"))),
    /** A consumer Kong knows but the service has never seen: nothing cached, no credential yet. */
    newConsumer: async (prefix: string): Promise<ProvisionedConsumer> => {
      const username = `${prefix}-${Date.now().toString(36)}-${Math.random().toString(36).slice(2, 8)}`;
      const created = await ok(await request.post(url("/consumers"), { data: { username } }));
      return { id: created.id, username: created.username, custom_id: "" };
    },
    calls: async (filter: { path?: string; method?: string } = {}): Promise<number> => {
      const query = new URLSearchParams(filter as Record<string, string>).toString();
      return (await ok(await request.get(url(`/calls?${query}`)))).count;
    },
    resetCalls: async () => ok(await request.post(url("/calls/reset"))),
  };
}
