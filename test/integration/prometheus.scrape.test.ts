import { afterEach, describe, expect, test } from "bun:test";
import { readFileSync } from "node:fs";
import { parse } from "yaml";
import { type SpawnedScript, spawnScript } from "../support/process.ts";
import { type Stack, startStack } from "../support/stack.ts";
import { waitFor } from "../support/wait.ts";

/**
 * A real Prometheus (Debian's package, started by scripts/prometheus.ts on a loopback port) scrapes
 * the service every second; what the service counted is read back through Prometheus's query API.
 */

let stack: Stack | undefined;
let prometheus: SpawnedScript | undefined;
afterEach(async () => {
  prometheus?.kill();
  await stack?.stop();
  stack = undefined;
  prometheus = undefined;
});

interface Sample {
  metric: Record<string, string>;
  value: [number, string];
}

async function query(url: string, promql: string): Promise<Sample[]> {
  const response = await fetch(`${url}/api/v1/query?query=${encodeURIComponent(promql)}`);
  const body = (await response.json()) as { status: string; data: { result: Sample[] } };
  expect(body.status).toBe("success");
  return body.data.result;
}

/** Starts the script and resolves with Prometheus's URL and process id once it answers. */
async function startPrometheus(target: string): Promise<{ url: string; pid: number; script: SpawnedScript }> {
  const script = spawnScript("scripts/prometheus.ts", {}, ["run", "--target", target]);
  prometheus = script;
  await waitFor(() => /^ready /m.test(script.output.stdout), "Prometheus to be ready", 60_000, script);
  const [, url, pid] = /^ready (\S+) (\d+)$/m.exec(script.output.stdout) ?? [];
  return { url: url as string, pid: Number(pid), script };
}

describe("Prometheus scrapes GET /metrics", () => {
  test("the token counter driven here is what Prometheus's query API answers, OpenMetrics metadata included", async () => {
    stack = await startStack();
    const { url, pid, script } = await startPrometheus(`127.0.0.1:${new URL(stack.url).port}`);
    const consumer = stack.emulator.addConsumer({ username: "scraped-by-prometheus" });
    for (let i = 0; i < 5; i++) expect((await stack.tokens(consumer)).status).toBe(200);
    expect((await stack.tokens({ id: "not-a-uuid", username: "x" })).status).toBe(401);

    const issued = 'jwt_tokens_generated_total{job="kong-auth-service",outcome="success",algorithm="HS256"}';
    let samples: Sample[] = [];
    await waitFor(
      async () => {
        samples = await query(url, issued);
        return samples[0]?.value[1] === "5";
      },
      "Prometheus to hold the 5 tokens issued",
      30_000,
      script,
    );
    expect(samples).toHaveLength(1);
    expect(samples[0]?.metric).toMatchObject({
      otel_scope_name: "authentication-service",
      instance: `127.0.0.1:${new URL(stack.url).port}`,
    });
    const refused = await query(url, 'jwt_tokens_generated_total{reason="invalid_headers"}');
    expect(refused.map((sample) => sample.value[1])).toEqual(["1"]);
    expect((await query(url, "up"))[0]?.value[1]).toBe("1");
    expect(await query(url, "target_info")).toHaveLength(1);

    // Prometheus asked for OpenMetrics and parsed it: the family and its unit are known by their names.
    const metadata = (await (
      await fetch(`${url}/api/v1/metadata?metric=http_response_time_seconds`)
    ).json()) as { data: Record<string, { type: string; unit: string }[]> };
    expect(metadata.data.http_response_time_seconds?.[0]).toMatchObject({
      type: "histogram",
      unit: "seconds",
    });
    // The alert rules load into it, and none fires on a healthy service (an event-loop or latency
    // rule may be pending on a loaded machine; every `for` outlasts this test).
    const rules = (await (await fetch(`${url}/api/v1/rules`)).json()) as {
      data: { groups: { rules: { name: string; state: string }[] }[] };
    };
    const loaded = rules.data.groups.flatMap((group) => group.rules);
    const alertsFile = readFileSync(new URL("../../prometheus/alerts.yml", import.meta.url), "utf8");
    const shipped = (parse(alertsFile) as { groups: { rules: { alert: string }[] }[] }).groups.flatMap(
      (group) => group.rules.map((rule) => rule.alert),
    );
    expect(loaded.map((rule) => rule.name).sort()).toEqual(shipped.sort());
    expect(loaded.filter((rule) => rule.state === "firing")).toEqual([]);
    const tokenRules = ["KongAuthTokensUnavailable", "KongAuthMisconfigured", "KongAuthInternalErrors"];
    expect(loaded.filter((rule) => tokenRules.includes(rule.name)).map((rule) => rule.state)).toEqual([
      "inactive",
      "inactive",
      "inactive",
    ]);

    // The script stops the Prometheus it started, and cleans up after it.
    script.child.kill("SIGTERM");
    expect(await script.child.exited).toBe(0);
    expect(() => process.kill(pid, 0)).toThrow();
    expect(script.output.stdout).toContain("stopped");
  }, 90_000);
});
