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
  test("does not import node:crypto: HMAC keys, the gateway secret and the cache cipher use Bun's own", async () => {
    // node:crypto loads Node's stream modules with it: about 8 ms of every start on a 2-core machine
    // (docs/testing.md). Only service keys (SIGNING_MODE=service-keys) need it, and require it then.
    const { modules, builtins } = await startUpGraph();
    // The walk reaches what the token path is made of, and the built-ins it does import.
    for (const module of [
      "src/jwt/signer.ts",
      "src/jwt/service-keys.ts",
      "src/http/secret.ts",
      "src/cache/cipher.ts",
    ])
      expect(modules).toContain(module);
    expect(builtins).toContain("node:async_hooks");
    expect([...builtins].filter((name) => /^(node:)?crypto$/.test(name))).toEqual([]);
  }, 30_000);
});
