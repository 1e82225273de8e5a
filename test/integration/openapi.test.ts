import { afterAll, beforeAll, describe, expect, test } from "bun:test";
import { existsSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { Validator } from "@seriousme/openapi-schema-validator";
import { parse } from "yaml";
import { createResponseChecker } from "../support/openapi-responses.ts";
import { type Stack, startStack } from "../support/stack.ts";
import { readRepoFile } from "../unit/delivery/support/repo.ts";

// biome-ignore lint/suspicious/noExplicitAny: the document is walked by key in assertions.
type Json = any;

describe("GET / serves the OpenAPI 3.1 document", () => {
  let stack: Stack;
  beforeAll(async () => {
    stack = await startStack({
      env: { PROFILING_ENABLED: "true", API_TITLE: "Tokens for Acme", API_VERSION: "2.3.4" },
    });
  });
  afterAll(() => stack.stop());

  test("JSON by default, valid per the OpenAPI 3.1 schema, with info from API_*", async () => {
    const response = await stack.fetch("/");
    expect(response.headers.get("content-type")).toBe("application/json");
    const document = (await response.json()) as Record<string, Json>;
    const result = await new Validator().validate(document);
    expect(result).toEqual({ valid: true });
    expect(document.openapi).toBe("3.1.0");
    expect(document.info).toMatchObject({
      title: "Tokens for Acme",
      version: "2.3.4",
      license: { identifier: "UNLICENSED" },
    });
    expect(document.components.securitySchemes.kongConsumer).toMatchObject({
      type: "apiKey",
      in: "header",
      name: "X-Consumer-ID",
    });
  });

  test("YAML for Accept: application/yaml and for ?format=yaml, the same document", async () => {
    const json = await (await stack.fetch("/")).json();
    const byAccept = await stack.fetch("/", { headers: { accept: "application/yaml" } });
    expect(byAccept.headers.get("content-type")).toBe("application/yaml");
    expect(parse(await byAccept.text())).toEqual(json);
    const byQuery = await stack.fetch("/?format=yaml");
    expect(parse(await byQuery.text())).toEqual(json);
  });

  test("it describes exactly the mounted endpoints, the Kong headers and the problem bodies", async () => {
    const document = (await (await stack.fetch("/")).json()) as Record<string, Json>;
    expect(Object.keys(document.paths).sort()).toEqual(
      [
        "/",
        "/tokens",
        "/health",
        "/health/live",
        "/health/ready",
        "/health/telemetry",
        "/health/metrics",
        "/metrics",
        "/debug/metrics/test",
        "/debug/metrics/export",
        "/debug/metrics/stats",
        "/debug/profiling/start",
        "/debug/profiling/stop",
        "/debug/profiling/status",
        "/debug/profiling/reports",
        "/debug/profiling/reports/{name}",
        "/debug/profiling/cleanup",
      ].sort(),
    );
    const tokens = document.paths["/tokens"].get;
    expect(tokens.parameters.map((parameter: { name: string }) => parameter.name)).toEqual([
      "X-Consumer-ID",
      "X-Consumer-Username",
      "X-Anonymous-Consumer",
    ]);
    expect(Object.keys(tokens.responses)).toEqual(["200", "401", "403", "429", "500", "503", "4XX", "5XX"]);
    expect(tokens.responses["503"].headers["Retry-After"]).toBeDefined();
    expect(tokens.responses["401"].content["application/problem+json"].schema.$ref).toBe(
      "#/components/schemas/Problem",
    );
  });

  test("production documents no debug endpoint, and the gateway secret scheme when one is set", async () => {
    const production = await startStack({
      env: {
        NODE_ENV: "production",
        KONG_ADMIN_URL: "https://kong.example.com",
        KONG_ADMIN_TOKEN: "a-production-admin-token-0123456789abcdef",
        TRUSTED_GATEWAY_SECRET: "a-gateway-secret-that-is-long-enough-000",
      },
    });
    try {
      const document = (await (await production.fetch("/")).json()) as Record<string, Json>;
      expect(Object.keys(document.paths).some((path) => path.startsWith("/debug"))).toBe(false);
      expect(document.components.securitySchemes.kongGateway).toMatchObject({ name: "X-Gateway-Secret" });
      expect(JSON.stringify(document)).not.toContain("a-gateway-secret-that-is-long-enough-000");
    } finally {
      await production.stop();
    }
  });

  test("the response check used by every integration test rejects what the document does not allow", async () => {
    const document = (await (await stack.fetch("/")).json()) as Record<string, unknown>;
    const check = createResponseChecker(document);
    const token = JSON.stringify({ access_token: "a.b.c", expires_in: 900, token_type: "Bearer" });
    expect(check("GET", "/tokens", 200, "application/json", token)).toEqual([]);
    expect(
      check("GET", "/tokens", 200, "application/json", JSON.stringify({ access_token: "a.b.c" })),
    ).not.toEqual([]);
    expect(check("GET", "/tokens", 200, "application/json", `${token.slice(0, -1)},"extra":1}`)).not.toEqual(
      [],
    );
    expect(check("GET", "/tokens", 401, "application/json", "{}")).not.toEqual([]);
    expect(
      check(
        "GET",
        "/tokens",
        401,
        "application/problem+json",
        JSON.stringify({ type: "x", title: "t", status: 401 }),
      ),
    ).toEqual([]);
    expect(
      check("GET", "/health/live", 200, "application/json", JSON.stringify({ status: "dead" })),
    ).not.toEqual([]);
    expect(check("GET", "/nowhere", 404, "text/plain", "nope")).not.toEqual([]);
  });
});

/** scripts/generate-docs.ts as CI runs it; `dir` replaces docs/. */
function generateDocs(...args: string[]) {
  const run = Bun.spawnSync(["bun", "scripts/generate-docs.ts", ...args], { stdout: "pipe", stderr: "pipe" });
  return { exitCode: run.exitCode, stdout: run.stdout.toString(), stderr: run.stderr.toString() };
}

describe("docs/openapi.json and docs/openapi.yaml", () => {
  test("are what bun run generate-docs writes (CI fails on drift)", () => {
    const run = generateDocs("--check");
    expect(run.stderr).toBe("");
    expect(run.exitCode).toBe(0);
  });

  describe("the drift check", () => {
    let dir: string;
    beforeAll(() => {
      dir = mkdtempSync(join(tmpdir(), "openapi-drift-"));
    });
    afterAll(() => rmSync(dir, { recursive: true, force: true }));

    test("passes on what generate-docs just wrote, and reports every drifted or missing file", () => {
      const written = generateDocs("--dir", dir);
      expect(written.exitCode).toBe(0);
      expect(written.stdout).toContain(`wrote ${dir}/openapi.json`);
      expect(written.stdout).toContain(`wrote ${dir}/openapi.yaml`);
      // The committed documents are the same generation.
      expect(readFileSync(join(dir, "openapi.json"), "utf8")).toBe(readRepoFile("docs/openapi.json"));
      expect(generateDocs("--check", "--dir", dir)).toEqual({ exitCode: 0, stdout: "", stderr: "" });

      // A document edited by hand (one description changed) and one deleted.
      const json = join(dir, "openapi.json");
      const drifted = readFileSync(json, "utf8").replace('"description": "', '"description": "Edited. ');
      expect(drifted).not.toBe(readRepoFile("docs/openapi.json"));
      writeFileSync(json, drifted);
      rmSync(join(dir, "openapi.yaml"));
      const check = generateDocs("--check", "--dir", dir);
      expect(check.exitCode).toBe(1);
      expect(check.stderr).toContain(`${dir}/openapi.json differs`);
      expect(check.stderr).toContain(`${dir}/openapi.yaml differs`);
      expect(check.stderr).toContain("run: bun run generate-docs");
      // --check writes nothing.
      expect(readFileSync(json, "utf8")).toBe(drifted);
      expect(existsSync(join(dir, "openapi.yaml"))).toBe(false);

      // --json and --yaml limit the check (and the writing) to one document.
      expect(generateDocs("--check", "--json", "--dir", dir).stderr).not.toContain("openapi.yaml");
      const yamlOnly = generateDocs("--yaml", "--dir", dir);
      expect(yamlOnly.stdout.trim()).toBe(`wrote ${dir}/openapi.yaml`);
      expect(generateDocs("--check", "--yaml", "--dir", dir).exitCode).toBe(0);
      expect(readFileSync(json, "utf8")).toBe(drifted);
    }, 30_000); // six runs of the generator, each a process of its own: over 5 s on a loaded machine
  });
});
