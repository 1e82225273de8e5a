import { describe, expect, test } from "bun:test";
import { serviceExposition } from "../../support/exported-metrics.ts";

describe("the service's Prometheus exposition", () => {
  test("promtool check metrics finds nothing against Prometheus's naming conventions but the documented quantile label", async () => {
    if (!Bun.which("promtool")) throw new Error("promtool is missing: bun scripts/prometheus.ts install");
    const text = await serviceExposition();
    const lint = Bun.spawnSync(["promtool", "check", "metrics"], { stdin: new TextEncoder().encode(text) });
    // 0: clean, 3: lint findings; anything else means promtool could not parse the text.
    expect([0, 3]).toContain(lint.exitCode);
    const problems = (lint.stdout.toString() + lint.stderr.toString()).split("\n").filter(Boolean);
    // nodejs.eventloop.delay keeps its `quantile` attribute (p99, mean) over OTLP and here
    // (docs/operations.md, Prometheus): the only finding.
    expect(problems).toEqual(
      problems.map(
        () => 'nodejs_eventloop_delay_seconds non-summary metrics should not have "quantile" label',
      ),
    );
  });
});
