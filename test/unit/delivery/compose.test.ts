/**
 * docker-compose.yml cannot run here (no Docker engine), so these tests hold it to kong/kong.yaml and to
 * the service's configuration instead.
 *
 * The design they pin down: Kong runs DB-less from kong/kong.yaml. Its Admin API is then read-only and
 * the token service cannot create JWT credentials, so kong.yaml declares one for each example consumer
 * and the service only lists them (GET works in DB-less mode) and signs with the newest HMAC one. That
 * is smaller than the alternative (Postgres, a `kong migrations bootstrap` one-shot and a
 * `deck gateway sync` one-shot) and just as correct for the flow; the service's create path is covered
 * by the integration tests against the Kong emulator. Because kong.yaml holds only decK environment
 * references, which Kong does not resolve, a decK one-shot renders it into the volume Kong loads.
 */
import { describe, expect, test } from "bun:test";
import { posix } from "node:path";
import { loadConfig } from "../../../src/config/index.ts";
import { startStack } from "../../support/stack.ts";
import {
  authServiceEnv,
  compose,
  composeService,
  deckText,
  pluginOf,
  renderedDeck,
  tokenService,
} from "./support/artifacts.ts";
import { parseDockerfile } from "./support/dockerfile.ts";
import { startMiniKong } from "./support/mini-kong.ts";
import {
  KNOWN_ENV_VARS,
  loadYaml,
  pinnedBunVersion,
  ROOT,
  readRepoFile,
  repoPathExists,
} from "./support/repo.ts";
import { deckEnvReferences } from "./support/substitution.ts";

/** `volume:/path[:mode]` or `./host:/path[:mode]` of a service. */
function mounts(service: string): { source: string; target: string }[] {
  return (composeService(service).volumes ?? []).map((entry) => {
    const [source = "", target = ""] = entry.split(":");
    return { source, target };
  });
}

/** The volume or host path, and the path inside it, a container path lives on. */
function resolveMount(service: string, path: string): { source: string; inside: string } {
  const mount = mounts(service)
    .filter(({ target }) => path === target || path.startsWith(`${target}/`))
    .sort((a, b) => b.target.length - a.target.length)[0];
  if (!mount) throw new Error(`${path} is on no volume of ${service}`);
  return { source: mount.source, inside: posix.relative(mount.target, path) };
}

const listenPort = (listen: string | undefined) => Number(/:(\d+)$/.exec(listen ?? "")?.[1]);
const env = (service: string) => composeService(service).environment ?? {};

describe("docker-compose.yml", () => {
  test("runs Kong DB-less, loading the file the decK one-shot renders from kong/kong.yaml", () => {
    const kong = composeService("kong");
    expect(env("kong").KONG_DATABASE).toBe("off");
    expect(kong.depends_on?.["kong-config"]?.condition).toBe("service_completed_successfully");

    const renderer = composeService("kong-config");
    expect(renderer.image).toMatch(/^kong\/deck:v\d+\.\d+\.\d+$/);
    const command = [renderer.command].flat().join(" ");
    const match = /deck file render --populate-env-vars --output-file (\S+) (\S+)/.exec(command);
    expect(match).not.toBeNull();
    const [, output = "", input = ""] = match ?? [];

    const source = resolveMount("kong-config", input);
    expect(repoPathExists(posix.join(source.source, source.inside))).toBe(true);
    expect(posix.join(source.source, source.inside)).toBe("kong/kong.yaml");

    const declarative = env("kong").KONG_DECLARATIVE_CONFIG ?? "";
    expect(resolveMount("kong", declarative)).toEqual(resolveMount("kong-config", output));
    expect(Object.keys(compose.volumes ?? {})).toContain(resolveMount("kong", declarative).source);
  });

  test("gives decK every variable kong/kong.yaml references, and no other", () => {
    const given = Object.keys(env("kong-config")).filter((name) => name.startsWith("DECK_"));
    expect(given.sort()).toEqual(deckEnvReferences(deckText).sort());
    expect(() => renderedDeck()).not.toThrow();
  });

  test("Kong reaches the token service and the sample upstream at their compose names and ports", () => {
    const rendered = renderedDeck();
    const urls = Object.fromEntries(rendered.services.map((service) => [service.name, new URL(service.url)]));
    const tokens = urls["auth-service"] as URL;
    expect(compose.services[tokens.hostname]).toBeDefined();
    const servicePort = env(tokens.hostname).PORT ?? "3000";
    expect(tokens.port).toBe(servicePort);
    const runtime = parseDockerfile(readRepoFile("Dockerfile")).stages.at(-1);
    expect(runtime?.instructions.find((i) => i.keyword === "EXPOSE")?.args).toBe(servicePort);
    expect(composeService(tokens.hostname).build).toBe(".");

    const upstream = urls["example-api"] as URL;
    expect(compose.services[upstream.hostname]?.image).toMatch(/^traefik\/whoami:/);
    expect(upstream.port === "" ? "80" : upstream.port).toBe("80");
  });

  test("the service's environment is one it knows and accepts", () => {
    const serviceEnv = authServiceEnv();
    for (const name of Object.keys(serviceEnv)) expect(KNOWN_ENV_VARS.has(name), name).toBe(true);
    expect(() => loadConfig(serviceEnv)).not.toThrow();
  });

  test("the service talks to this stack's Kong Admin API, Redis and collector", () => {
    const serviceEnv = authServiceEnv();
    const admin = new URL(serviceEnv.KONG_ADMIN_URL ?? "");
    expect(admin.hostname).toBe("kong");
    expect(Number(admin.port)).toBe(listenPort(env("kong").KONG_ADMIN_LISTEN));

    const redis = new URL(serviceEnv.REDIS_URL ?? "");
    expect(compose.services[redis.hostname]?.image).toMatch(/^redis:/);
    expect(serviceEnv.REDIS_ENABLED).toBe("true");

    const otlp = new URL(serviceEnv.OTEL_EXPORTER_OTLP_ENDPOINT ?? "");
    expect(otlp.hostname).toBe("otel-collector");
    const collector = loadYaml<{
      receivers: { otlp: { protocols: { http: { endpoint: string } } } };
      service: { pipelines: Record<string, { receivers: string[]; exporters: string[] }> };
    }>("compose/otel-collector.yaml");
    expect(Number(otlp.port)).toBe(listenPort(collector.receivers.otlp.protocols.http.endpoint));
    for (const signal of ["traces", "metrics", "logs"]) {
      expect(collector.service.pipelines[signal]?.receivers).toEqual(["otlp"]);
      expect(collector.service.pipelines[signal]?.exporters).toEqual(["debug"]);
    }
    const mount = mounts("otel-collector")[0];
    expect(repoPathExists(mount?.source ?? "")).toBe(true);
  });

  test("only Kong, at its fixed address, passes the trust boundary, with the secret Kong adds", () => {
    const serviceEnv = authServiceEnv();
    const kongNetworks = composeService("kong").networks as Record<string, { ipv4_address?: string }>;
    const [networkName, network] = Object.entries(kongNetworks)[0] ?? [];
    const address = network?.ipv4_address ?? "";
    expect(serviceEnv.TRUSTED_PROXY_CIDRS?.split(",")).toEqual([`${address}/32`]);
    const subnet = compose.networks?.[networkName ?? ""]?.ipam?.config?.[0]?.subnet ?? "";
    const [base = ""] = subnet.split("/");
    expect(address.split(".").slice(0, 3)).toEqual(base.split(".").slice(0, 3));

    const secret = serviceEnv.TRUSTED_GATEWAY_SECRET ?? "";
    expect(secret.length).toBeGreaterThanOrEqual(32);
    const rendered = renderedDeck();
    const routes = tokenService(rendered).routes ?? [];
    expect(routes.length).toBeGreaterThan(0);
    for (const route of routes) {
      const transformer = pluginOf(route.plugins, "request-transformer");
      const added = (transformer.config as unknown as { add: { headers: string[] } }).add.headers;
      expect(added, route.name).toEqual([`${serviceEnv.TRUSTED_GATEWAY_HEADER}:${secret}`]);
    }
  });

  test("starts in order: every dependency exists, health-gated ones have a health check, no cycle", () => {
    const names = Object.keys(compose.services);
    const dockerfileHasHealthcheck = parseDockerfile(readRepoFile("Dockerfile"))
      .stages.at(-1)
      ?.instructions.some((instruction) => instruction.keyword === "HEALTHCHECK");
    for (const [name, service] of Object.entries(compose.services)) {
      for (const [dependency, { condition }] of Object.entries(service.depends_on ?? {})) {
        expect(names, `${name} depends on ${dependency}`).toContain(dependency);
        if (condition === "service_healthy") {
          const target = compose.services[dependency];
          const checked =
            target?.healthcheck !== undefined || (target?.build === "." && dockerfileHasHealthcheck);
          expect(checked, `${dependency} has a health check`).toBe(true);
        }
      }
    }
    const visiting = new Set<string>();
    const done = new Set<string>();
    const visit = (name: string) => {
      if (done.has(name)) return;
      expect(visiting.has(name), `cycle through ${name}`).toBe(false);
      visiting.add(name);
      for (const dependency of Object.keys(compose.services[name]?.depends_on ?? {})) visit(dependency);
      visiting.delete(name);
      done.add(name);
    };
    for (const name of names) visit(name);
    expect(composeService("auth-service").depends_on?.kong?.condition).toBe("service_healthy");
    expect(composeService("auth-service").depends_on?.redis?.condition).toBe("service_healthy");
  });

  test("publishes ports on 127.0.0.1 only, Kong's proxy among them", () => {
    const published = Object.values(compose.services).flatMap((service) => service.ports ?? []);
    for (const port of published) expect(port).toStartWith("127.0.0.1:");
    expect(composeService("kong").ports).toContain(
      `127.0.0.1:8000:${listenPort(env("kong").KONG_PROXY_LISTEN)}`,
    );
  });

  test("every host path mounted into a container is in the repository", () => {
    for (const [name, service] of Object.entries(compose.services)) {
      for (const entry of service.volumes ?? []) {
        const source = entry.split(":")[0] ?? "";
        if (source.startsWith(".")) expect(repoPathExists(source), `${name}: ${source}`).toBe(true);
      }
    }
  });

  test("the demo one-shot uses an example consumer's API key and Kong's proxy", () => {
    const demo = composeService("demo");
    expect(demo.profiles).toEqual(["demo"]);
    const apiKeys = renderedDeck().consumers.flatMap((consumer) =>
      (consumer.keyauth_credentials ?? []).map((credential) => credential.key),
    );
    expect(apiKeys).toContain(env("demo").API_KEY ?? "");
    const clients = renderedDeck().consumers.flatMap(
      (consumer) => (consumer.basicauth_credentials ?? []) as { username: string; password: string }[],
    );
    expect(clients).toContainEqual({
      username: env("demo").CLIENT_ID ?? "",
      password: env("demo").CLIENT_SECRET ?? "",
    });
    expect(env("demo").KONG_PROXY_URL).toBe(`http://kong:${listenPort(env("kong").KONG_PROXY_LISTEN)}`);
    expect(mounts("demo")).toEqual([
      { source: "./scripts/compose-demo.sh", target: "/demo/compose-demo.sh" },
    ]);
  });

  test("the demo script walks the whole flow through Kong as kong.yaml configures it", async () => {
    const upstream = Bun.serve({
      hostname: "127.0.0.1",
      port: 0,
      fetch: (request) =>
        Response.json({
          path: new URL(request.url).pathname,
          consumer: request.headers.get("x-consumer-username"),
        }),
    });
    const serviceEnv = authServiceEnv();
    const stack = await startStack({
      env: {
        KONG_JWT_KEY_CLAIM_NAME: serviceEnv.KONG_JWT_KEY_CLAIM_NAME,
        JWT_EXPIRATION_MINUTES: serviceEnv.JWT_EXPIRATION_MINUTES,
        KONG_JWT_CLOCK_SKEW_SECONDS: serviceEnv.KONG_JWT_CLOCK_SKEW_SECONDS,
        TRUSTED_GATEWAY_HEADER: serviceEnv.TRUSTED_GATEWAY_HEADER,
        TRUSTED_GATEWAY_SECRET: serviceEnv.TRUSTED_GATEWAY_SECRET,
        TRUSTED_PROXY_CIDRS: "127.0.0.1/32",
      },
    });
    const kong = startMiniKong(renderedDeck(), stack.emulator, {
      "auth-service": stack.url,
      "example-api": `http://127.0.0.1:${upstream.port}`,
    });
    try {
      const demo = Bun.spawn(["sh", "scripts/compose-demo.sh"], {
        cwd: ROOT,
        env: {
          PATH: process.env.PATH ?? "/usr/bin:/bin",
          KONG_PROXY_URL: `http://127.0.0.1:${kong.port}`,
          API_KEY: env("demo").API_KEY ?? "",
          CLIENT_ID: env("demo").CLIENT_ID ?? "",
          CLIENT_SECRET: env("demo").CLIENT_SECRET ?? "",
        },
        stdout: "pipe",
        stderr: "pipe",
      });
      const [code, out, err] = await Promise.all([
        demo.exited,
        new Response(demo.stdout).text(),
        new Response(demo.stderr).text(),
      ]);
      expect(code, out + err).toBe(0);
      expect(out).toContain('"consumer":"test-user-001"');
      expect(out).toContain("2b. POST /tokens");
      expect(out).toContain("The whole flow works");
    } finally {
      kong.stop(true);
      upstream.stop(true);
      await stack.stop();
    }
  }, 30_000);

  test("the README's two commands start the stack and run the demo, and its host example uses a real key", () => {
    const readme = readRepoFile("README.md");
    expect(readme).toContain("docker compose up -d --build\ndocker compose run --rm demo\n");
    expect(readme).toContain(`apikey: ${env("demo").API_KEY}`);
    expect(readme).toContain(`localhost:${composeService("kong").ports?.[0]?.split(":")[1]}/tokens`);
  });

  test("the image the stack builds is the repository's Dockerfile on the pinned Bun", () => {
    expect(composeService("auth-service").build).toBe(".");
    expect(readRepoFile("Dockerfile")).toContain(`ARG BUN_VERSION=${pinnedBunVersion()}`);
  });
});
