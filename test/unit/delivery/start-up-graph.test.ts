import { describe, expect, test } from "bun:test";
import { join, relative, resolve } from "node:path";
import { ROOT } from "./support/repo.ts";

/**
 * What every start of the service loads, whatever its configuration: the modules src/server.ts
 * reaches through static `import` statements (a `require()` inside a function, or an `import()`,
 * runs only when that code does). Read from Bun's own bundler graph of the entry, as the image's
 * build sees it.
 */
async function startUpGraph() {
  const built = await Bun.build({
    entrypoints: [join(ROOT, "src/server.ts")],
    target: "bun",
    format: "esm",
    splitting: true,
    metafile: true,
  });
  expect(built.success).toBe(true);
  const inputs = built.metafile?.inputs ?? {};
  // The metafile names modules relative to the working directory; these are relative to the repository.
  const ofRepo = (path: string) => relative(ROOT, resolve(path));
  const modules = new Set<string>();
  const builtins = new Set<string>();
  const pending = [relative(process.cwd(), join(ROOT, "src/server.ts"))];
  for (let path = pending.pop(); path !== undefined; path = pending.pop()) {
    if (modules.has(ofRepo(path))) continue;
    modules.add(ofRepo(path));
    for (const edge of inputs[path]?.imports ?? []) {
      if (edge.kind !== "import-statement") continue;
      if (edge.external) builtins.add(edge.original ?? edge.path);
      else pending.push(edge.path);
    }
  }
  return { modules, builtins };
}

describe("start-up's module graph", () => {
  test("imports none of the built-ins only some configurations need: node:crypto, node:fs, node:os, node:net", async () => {
    // Each costs start-up time to load (docs/testing.md, on a 2-core machine): node:crypto, which
    // brings Node's stream modules, about 8 ms; node:fs 3–4; node:net about 6. Only service keys
    // (SIGNING_MODE=service-keys: key parsing, a key file, the signing workers' count from the CPU
    // quota) and CIDR settings need them, and require them then. HMAC keys, the gateway secret's
    // comparison and the cache key's fingerprint use Bun's own.
    const { modules, builtins } = await startUpGraph();
    // The walk reaches what the token path is made of, and the built-ins it does import.
    for (const module of [
      "src/jwt/signer.ts",
      "src/jwt/service-keys.ts",
      "src/http/secret.ts",
      "src/cache/cipher.ts",
      "src/composition/cpu-budget.ts",
      "src/config/values.ts",
    ])
      expect(modules).toContain(module);
    expect(builtins).toContain("node:async_hooks");
    const deferred = /^(node:)?(crypto|fs|os|net)$/;
    expect([...builtins].filter((name) => deferred.test(name))).toEqual([]);
  }, 30_000);
});
