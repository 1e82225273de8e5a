import type { Resource } from "@opentelemetry/resources";
import type { Config } from "../config/index.ts";
import { histogramProducer } from "./histogram-producer.ts";
import { createPrometheusReader } from "./prometheus.ts";

/** The instrumentation scope of the service's own spans and metrics. */
export const SCOPE_NAME = "authentication-service";

/** The OpenTelemetry packages every mode's metrics need: loaded when first needed, not at start. */
export interface MetricsModules {
  readonly sdkMetrics: typeof import("@opentelemetry/sdk-metrics");
  readonly core: typeof import("@opentelemetry/core");
  readonly resources: typeof import("@opentelemetry/resources");
}

export async function loadMetricsModules(): Promise<MetricsModules> {
  const [sdkMetrics, core, resources] = await Promise.all([
    import("@opentelemetry/sdk-metrics"),
    import("@opentelemetry/core"),
    import("@opentelemetry/resources"),
  ]);
  return { sdkMetrics, core, resources };
}

export function serviceResource(
  { defaultResource, resourceFromAttributes }: MetricsModules["resources"],
  config: Config["telemetry"],
  environment: string,
): Resource {
  return defaultResource().merge(
    resourceFromAttributes({
      "service.name": config.serviceName,
      "service.version": config.serviceVersion,
      "service.instance.id": crypto.randomUUID(),
      "deployment.environment.name": environment,
    }),
  );
}

/** The reader GET /metrics scrapes, fed by the SDK's instruments and the service's own histograms. */
export function scrapedMetrics(modules: MetricsModules, config: Config["telemetry"], resource: Resource) {
  const histograms = histogramProducer(modules.sdkMetrics, modules.core, resource, {
    name: SCOPE_NAME,
    version: config.serviceVersion,
  });
  return { histograms, ...createPrometheusReader(modules.sdkMetrics, [histograms.producer]) };
}
