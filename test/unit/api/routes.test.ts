import { describe, expect, test } from "bun:test";
import { z } from "zod";
import { createApp } from "../../../src/app.ts";
import type { Route } from "../../../src/http/route.ts";
import { buildOpenApiDocument } from "../../../src/openapi/spec.ts";
import { testConfig } from "../../support/config.ts";

/** "METHOD /path" for every route Bun.serve is given, path templates written the OpenAPI way. */
function mounted(routes: Record<string, Record<string, unknown>>): string[] {
  return Object.entries(routes)
    .flatMap(([path, methods]) =>
      Object.keys(methods).map((method) => `${method} ${path.replace(/:([A-Za-z]+)/g, "{$1}")}`),
    )
    .sort();
}

function documented(document: Record<string, unknown>): string[] {
  const paths = document.paths as Record<string, Record<string, unknown>>;
  return Object.entries(paths)
    .flatMap(([path, methods]) => Object.keys(methods).map((method) => `${method.toUpperCase()} ${path}`))
    .sort();
}

const deployments: Record<string, Record<string, string>> = {
  "test, no debug token": {},
  "development with profiling": { NODE_ENV: "development", PROFILING_ENABLED: "true" },
  "staging with a debug token": {
    NODE_ENV: "staging",
    DEBUG_TOKEN: "staging-debug-token-7f3a9c",
    TRUSTED_PROXY_CIDRS: "10.0.0.0/8",
  },
  production: {
    NODE_ENV: "production",
    KONG_ADMIN_URL: "https://kong.example.com",
    KONG_ADMIN_TOKEN: "a-production-admin-token-0123456789abcdef",
    TRUSTED_GATEWAY_SECRET: "a-gateway-secret-that-is-long-enough-000",
  },
};

describe("one definition per route", () => {
  for (const [name, env] of Object.entries(deployments)) {
    test(`${name}: the document lists exactly the routes Bun serves`, async () => {
      const app = createApp(testConfig(env));
      try {
        const served = mounted(app.routes);
        expect(served).toContain("GET /tokens");
        expect(served).toContain("GET /");
        expect(documented(app.document)).toEqual(served);
      } finally {
        await app.close(0);
      }
    });
  }

  test("what differs between deployments is what is mounted, never only what is documented", async () => {
    const production = createApp(testConfig(deployments.production));
    const development = createApp(testConfig(deployments["development with profiling"]));
    try {
      expect(mounted(production.routes).some((route) => route.includes("/debug"))).toBe(false);
      expect(mounted(development.routes)).toContain("GET /debug/profiling/reports/{name}");
    } finally {
      await production.close(0);
      await development.close(0);
    }
  });

  test("the security each operation states follows the configuration, like the schemes it refers to", async () => {
    const open = createApp(testConfig({ NODE_ENV: "development" }));
    const guarded = createApp(
      testConfig({
        NODE_ENV: "development",
        TRUSTED_GATEWAY_SECRET: "a-gateway-secret-that-is-long-enough-000",
        DEBUG_TOKEN: "development-debug-token-1",
      }),
    );
    try {
      const security = (app: typeof open) => {
        const paths = app.document.paths as Record<string, Record<string, { security?: unknown }>>;
        const schemes = (app.document.components as { securitySchemes: Record<string, unknown> })
          .securitySchemes;
        return {
          tokens: paths["/tokens"]?.get?.security,
          debug: paths["/debug/metrics/stats"]?.get?.security,
          schemes: Object.keys(schemes),
        };
      };
      expect(security(open)).toEqual({
        tokens: [{ kongConsumer: [] }],
        debug: undefined,
        schemes: ["kongConsumer"],
      });
      expect(security(guarded)).toEqual({
        tokens: [{ kongConsumer: [], kongGateway: [] }],
        debug: [{ debugToken: [] }],
        schemes: ["kongConsumer", "kongGateway", "debugToken"],
      });
    } finally {
      await open.close(0);
      await guarded.close(0);
    }
  });

  test("a route cannot be defined without what the document needs, and a schema it names is a component", () => {
    const schema = z.object({ done: z.boolean() }).meta({ id: "Done" });
    const conflict = z.object({ running: z.string() }).meta({ id: "Conflict" });
    const route: Route = {
      method: "POST",
      path: "/jobs/:id",
      summary: "Run a job",
      tags: ["jobs"],
      ok: { status: 202, schema, description: "Accepted" },
      extra: { "409": { description: "Already running", schema: conflict }, "410": { description: "Gone" } },
      handler: () => new Response(null, { status: 202 }),
    };
    // @ts-expect-error a route without a summary and an answer does not compile
    const undocumented: Route = { method: "GET", path: "/hidden", tags: [], handler: () => new Response() };
    expect(undocumented.path).toBe("/hidden");

    const config = testConfig();
    const build = (routes: Route[]) =>
      buildOpenApiDocument({ api: config.api, security: config.security, routes });
    const document = build([route]) as {
      paths: Record<string, Record<string, { parameters: unknown[] }>>;
      components: { schemas: Record<string, unknown> };
    };
    expect(Object.keys(document.paths)).toEqual(["/jobs/{id}"]);
    expect(document.paths["/jobs/{id}"]?.post?.parameters).toEqual([
      { name: "id", in: "path", required: true, schema: { type: "string" } },
    ]);
    expect(document.components.schemas.Done).toMatchObject({ properties: { done: { type: "boolean" } } });
    expect(document.components.schemas.Conflict).toMatchObject({
      properties: { running: { type: "string" } },
    });
    // A body the document cannot name as a component is refused when the document is built.
    expect(() => build([{ ...route, ok: { ...route.ok, schema: z.object({}) } }])).toThrow(
      "response schemas carry an id",
    );
  });
});
