import type { Stack } from "./stack.ts";

/** A consumer with a basic-auth credential, as `POST /consumers/{consumer}/basic-auth` creates one. */
export interface BasicAuthClient {
  readonly consumer: { readonly id: string; readonly username: string };
  readonly username: string;
  readonly password: string;
}

/**
 * Kong's basic-auth route in front of POST /tokens, as kong/kong.yaml configures it, in the shape of a
 * `fetch` (for oauth4webapi's `customFetch`): the Authorization header is checked against the clients
 * given, then removed (`hide_credentials`); the consumer headers basic-auth sets upstream are added,
 * X-Credential-Identifier being the credential's username (docs/kong-facts.md#upstream-headers); then
 * `gateway` headers (the request-transformer's secret). Kong's own refusal is a 401 with its challenge.
 */
export function basicAuthKong(
  stack: Stack,
  clients: readonly BasicAuthClient[],
  gateway: Record<string, string> = {},
) {
  return async (url: string, init: RequestInit): Promise<Response> => {
    const headers = new Headers(init.headers);
    const [scheme, encoded = ""] = (headers.get("authorization") ?? "").split(" ");
    const [username, password] = Buffer.from(encoded, "base64").toString().split(":");
    const client = clients.find(
      (candidate) => scheme === "Basic" && candidate.username === username && candidate.password === password,
    );
    if (!client) {
      return Response.json(
        { message: "Unauthorized" },
        { status: 401, headers: { "www-authenticate": 'Basic realm="service"' } },
      );
    }
    headers.delete("authorization");
    headers.set("x-consumer-id", client.consumer.id);
    headers.set("x-consumer-username", client.consumer.username);
    headers.set("x-credential-identifier", client.username);
    for (const [name, value] of Object.entries(gateway)) headers.set(name, value);
    return stack.fetch(new URL(url).pathname, { ...init, headers });
  };
}
