import { describe, expect, test } from "bun:test";
import { exportedSeriesNames, metricNamesIn } from "../../support/exported-metrics.ts";
import { loadYaml, ROOT, readRepoFile } from "./support/repo.ts";

interface Rule {
  alert: string;
  expr: string;
  for?: string;
  labels: { severity: string };
  annotations: { summary: string; description: string };
}
interface RuleTest {
  alert_rule_test: { alertname: string; exp_alerts: unknown[] }[];
}

const rules = loadYaml<{ groups: { rules: Rule[] }[] }>("prometheus/alerts.yml").groups.flatMap(
  (group) => group.rules,
);
const ruleTests = loadYaml<{ tests: RuleTest[] }>("prometheus/alerts.test.yml").tests.flatMap(
  (group) => group.alert_rule_test,
);

function promtool(...args: string[]) {
  if (!Bun.which("promtool")) throw new Error("promtool is missing: bun scripts/prometheus.ts install");
  const run = Bun.spawnSync(["promtool", ...args], { cwd: ROOT });
  return { ok: run.success, output: run.stdout.toString() + run.stderr.toString() };
}

describe("prometheus/alerts.yml", () => {
  test("promtool accepts the rules", () => {
    const check = promtool("check", "rules", "prometheus/alerts.yml");
    expect(check.output).toContain(`SUCCESS: ${rules.length} rules found`);
    expect(check.ok).toBe(true);
  });

  test("promtool's unit tests pass: each alert fires on its failure series and stays quiet otherwise", () => {
    const run = promtool("test", "rules", "prometheus/alerts.test.yml");
    expect(run.output).toContain("SUCCESS");
    expect(run.ok).toBe(true);
  });

  test("every alert is tested both firing and quiet", () => {
    for (const { alert } of rules) {
      const cases = ruleTests.filter((test) => test.alertname === alert);
      expect(
        cases.some((test) => test.exp_alerts.length > 0),
        `${alert} fires`,
      ).toBe(true);
      expect(
        cases.some((test) => test.exp_alerts.length === 0),
        `${alert} stays quiet`,
      ).toBe(true);
    }
  });

  test("every expression selects the service's own series, by names its exposition holds", async () => {
    const exported = await exportedSeriesNames();
    for (const { alert, expr } of rules) {
      const names = metricNamesIn(expr);
      expect(names.length, alert).toBeGreaterThan(0);
      for (const name of names) expect(exported.has(name), `${alert}: ${name}`).toBe(true);
      const selectors = expr.match(/[a-z_]+\{[^}]*\}/g) ?? [];
      for (const selector of selectors)
        expect(selector, alert).toContain('otel_scope_name="authentication-service"');
    }
  });

  test("docs/operations.md names every alert, and the recommended ones exist", () => {
    const operations = readRepoFile("docs/operations.md");
    for (const { alert } of rules) expect(operations.includes(`\`${alert}\``), alert).toBe(true);
    const names = rules.map((rule) => rule.alert);
    for (const expected of [
      "KongAuthTokensUnavailable",
      "KongAuthCircuitBreakerOpen",
      "KongAuthServingStaleCredentials",
      "KongAuthRedisDown",
      "KongAuthTokenLatencyHigh",
    ])
      expect(names).toContain(expected);
  });
});
