import { describe, expect, test } from "bun:test";
import { exportedSeriesNames, metricNamesIn } from "../../support/exported-metrics.ts";
import { readRepoFile } from "./support/repo.ts";

interface Panel {
  id: number;
  title: string;
  datasource: { type: string; uid: string };
  targets: { expr: string; refId: string }[];
}
interface Dashboard {
  uid: string;
  panels: Panel[];
  templating: { list: { name: string; type: string; query: string | { query: string } }[] };
}

/** Grafana's reference to the dashboard's `datasource` variable, not a template string. */
const DATASOURCE_VARIABLE = ["$", "{datasource}"].join("");

const dashboard = JSON.parse(readRepoFile("grafana/kong-auth-service.json")) as Dashboard;
const queries = [
  ...dashboard.panels.flatMap((panel) =>
    panel.targets.map((target) => ({ where: panel.title, expr: target.expr })),
  ),
  ...dashboard.templating.list
    .filter((variable) => variable.type === "query")
    .map((variable) => {
      const query = typeof variable.query === "string" ? variable.query : variable.query.query;
      // label_values(<selector>, <label>): the selector is the query.
      return { where: `$${variable.name}`, expr: /^label_values\((.*),\s*\w+\)$/.exec(query)?.[1] ?? query };
    }),
];

describe("grafana/kong-auth-service.json", () => {
  test("every query names metrics the service's exposition holds, and only the service's series", async () => {
    const exported = await exportedSeriesNames();
    expect(queries.length).toBeGreaterThan(10);
    for (const { where, expr } of queries) {
      const names = metricNamesIn(expr);
      expect(names.length, where).toBeGreaterThan(0);
      for (const name of names) expect(exported.has(name), `${where}: ${name}`).toBe(true);
      expect(expr, where).toContain('otel_scope_name="authentication-service"');
    }
  });

  test("the dashboard shows what the alert rules watch", () => {
    const all = queries.map((query) => query.expr).join("\n");
    for (const name of [
      "jwt_tokens_generated_total",
      "http_response_time_seconds_bucket",
      "circuit_breaker_state",
      "circuit_breaker_fallback_total",
      "redis_connected",
      "kong_operations_total",
    ])
      expect(all).toContain(name);
  });

  test("panels read the dashboard's Prometheus data source variable, and have unique ids", () => {
    for (const panel of dashboard.panels)
      expect(panel.datasource, panel.title).toEqual({ type: "prometheus", uid: DATASOURCE_VARIABLE });
    const ids = dashboard.panels.map((panel) => panel.id);
    expect(new Set(ids).size).toBe(ids.length);
  });
});
