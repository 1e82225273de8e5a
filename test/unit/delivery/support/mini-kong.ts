import type { KongEmulator } from "../../../support/kong-emulator.ts";
import { type JwtPluginConfig, verifyKongJwt } from "../../../support/kong-jwt-verifier.ts";
import type { DeckConsumer, DeckFile, DeckPlugin, DeckRoute, DeckService } from "./artifacts.ts";

/**
 * Kong's proxy as a rendered kong/kong.yaml configures it, for the plugins that file uses: key-auth,
 * basic-auth (the credential's username forwarded as X-Credential-Identifier), request-transformer (remove, then add), jwt (through the jwt-plugin oracle in test/support) with its
 * anonymous fallback, and request-termination scoped to a consumer. Consumers and their credentials are
 * the emulator's, seeded from the file as DB-less Kong would load them. Upstream URLs are mapped to
 * local servers by `upstreams` (service name -> base URL).
 */
export function startMiniKong(file: DeckFile, emulator: KongEmulator, upstreams: Record<string, string>) {
  const consumers = new Map<string, { id: string; username: string; custom_id: string | null }>();
  for (const consumer of file.consumers) {
    const seeded = emulator.addConsumer({
      username: consumer.username,
      custom_id: consumer.custom_id ?? null,
    });
    consumers.set(consumer.username, {
      id: seeded.id,
      username: consumer.username,
      custom_id: seeded.custom_id,
    });
    for (const secret of consumer.jwt_secrets ?? []) {
      emulator.addCredential(seeded.id, {
        key: secret.key,
        secret: secret.secret as string,
        algorithm: secret.algorithm ?? "HS256",
      });
    }
  }
  const byApiKey = (key: string): DeckConsumer | undefined =>
    file.consumers.find((consumer) =>
      consumer.keyauth_credentials?.some((credential) => credential.key === key),
    );

  /** Kong decodes the Basic value and compares username and password as they are, undecoded. */
  const byBasicAuth = (authorization: string | null): { consumer?: DeckConsumer; username?: string } => {
    const [scheme, encoded = ""] = (authorization ?? "").split(" ");
    if (scheme?.toLowerCase() !== "basic") return {};
    const decoded = Buffer.from(encoded, "base64").toString();
    const at = decoded.indexOf(":");
    const [username, password] = [decoded.slice(0, at), decoded.slice(at + 1)];
    const consumer = file.consumers.find((candidate) =>
      (candidate.basicauth_credentials as { username: string; password: string }[] | undefined)?.some(
        (credential) => credential.username === username && credential.password === password,
      ),
    );
    return consumer ? { consumer, username } : {};
  };

  const routes = file.services.flatMap((service) =>
    (service.routes ?? []).map((route) => ({ service, route })),
  );
  const message = (status: number, text: string) => Response.json({ message: text }, { status });
  const pluginsFor = (service: DeckService, route: DeckRoute): DeckPlugin[] => [
    ...(service.plugins ?? []),
    ...(route.plugins ?? []),
  ];

  return Bun.serve({
    hostname: "127.0.0.1",
    port: 0,
    async fetch(request) {
      const url = new URL(request.url);
      const match = routes.find(
        ({ route }) =>
          (route.paths ?? []).some((path) => url.pathname === path || url.pathname.startsWith(`${path}/`)) &&
          (!route.methods || route.methods.includes(request.method)),
      );
      if (!match) return message(404, "no Route matched with those values");
      const { service, route } = match;
      const headers = new Headers(request.headers);
      let consumer: { id: string; username: string; custom_id: string | null } | undefined;

      for (const plugin of pluginsFor(service, route)) {
        const config = plugin.config ?? {};
        if (plugin.name === "key-auth") {
          const names = config.key_names as string[];
          const key = names.map((name) => headers.get(name)).find((value) => value !== null);
          if (!key) return message(401, "No API key found in request");
          const found = byApiKey(key);
          if (!found) return message(401, "Invalid authentication credentials");
          consumer = consumers.get(found.username);
          if (config.hide_credentials) for (const name of names) headers.delete(name);
        }
        if (plugin.name === "basic-auth") {
          if (!headers.has("authorization")) {
            return Response.json(
              { message: "Unauthorized" },
              { status: 401, headers: { "www-authenticate": 'Basic realm="service"' } },
            );
          }
          const found = byBasicAuth(headers.get("authorization"));
          if (!found.consumer) return message(401, "Invalid authentication credentials");
          consumer = consumers.get(found.consumer.username);
          headers.set("x-credential-identifier", found.username as string);
          if (config.hide_credentials) headers.delete("authorization");
        }
        if (plugin.name === "jwt") {
          const verdict = await verifyKongJwt({ headers }, config as JwtPluginConfig, (key) =>
            emulator.credentialByKey(key),
          );
          if (verdict.ok) consumer = consumers.get(verdict.consumer.username ?? "");
          else if (typeof config.anonymous === "string") {
            consumer = consumers.get(config.anonymous);
            headers.set("x-anonymous-consumer", "true");
          } else return message(401, verdict.message);
        }
      }
      if (consumer) {
        headers.set("x-consumer-id", consumer.id);
        headers.set("x-consumer-username", consumer.username);
        if (consumer.custom_id) headers.set("x-consumer-custom-id", consumer.custom_id);
      }
      // Plugins scoped to the consumer run after authentication (request-termination's priority is 2).
      const termination = (file.plugins ?? []).find(
        (plugin) =>
          plugin.name === "request-termination" &&
          plugin.service === service.name &&
          plugin.consumer === consumer?.username,
      );
      if (termination) {
        return message(Number(termination.config?.status_code), String(termination.config?.message));
      }
      const transformer = pluginsFor(service, route).find((plugin) => plugin.name === "request-transformer");
      if (transformer) {
        const config = transformer.config as {
          remove?: { headers?: string[] };
          add?: { headers?: string[] };
        };
        for (const name of config.remove?.headers ?? []) headers.delete(name);
        for (const entry of config.add?.headers ?? []) {
          const at = entry.indexOf(":");
          const name = entry.slice(0, at);
          if (!headers.has(name)) headers.set(name, entry.slice(at + 1));
        }
      }
      const base = upstreams[service.name];
      if (!base) return message(502, `no upstream for ${service.name}`);
      const path =
        route.strip_path === false ? url.pathname : url.pathname.replace(route.paths?.[0] ?? "", "");
      headers.delete("host");
      const body =
        request.method === "GET" || request.method === "HEAD" ? undefined : await request.arrayBuffer();
      return fetch(`${base}${path || "/"}${url.search}`, { method: request.method, headers, body });
    },
  });
}
