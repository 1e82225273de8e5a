/**
 * The trace export worker: a thread of its own that runs the OpenTelemetry SDK's BatchSpanProcessor
 * and OTLP/HTTP trace exporter, so that OTLP serialization and the HTTP requests to the collector never
 * take time from a request. Spans arrive from WorkerSpanProcessor (span-handoff.ts) on the request
 * thread; export results go back to it for /health/telemetry and /debug/metrics/stats.
 *
 * A separate entry point: `bun build` is given it alongside src/server.ts (see the Dockerfile).
 */
import type { InstrumentationScope } from "@opentelemetry/core";
import { observeExporter } from "./export-stats.ts";
import { type FromWorker, readSpans, type ToWorker } from "./span-handoff.ts";

declare const self: Worker;

const post = (message: FromWorker) => self.postMessage(message);

type Pipeline = Awaited<ReturnType<typeof start>>;
let pipeline: Pipeline | undefined;
/** Messages that arrive while the SDK modules are still loading are handled in order afterwards. */
let queue: Promise<unknown> = Promise.resolve();

async function start(settings: Extract<ToWorker, { type: "init" }>["settings"]) {
  const [core, resources, sdkTrace, exporterModule] = await Promise.all([
    import("@opentelemetry/core"),
    import("@opentelemetry/resources"),
    import("@opentelemetry/sdk-trace"),
    import("@opentelemetry/exporter-trace-otlp-http"),
  ]);
  const exporter = observeExporter(
    new exporterModule.OTLPTraceExporter({ url: settings.url, timeoutMillis: settings.timeoutMillis }),
    (outcome) => post({ type: "exported", ...outcome }),
  );
  const processor = new sdkTrace.BatchSpanProcessor({
    exporter,
    maxExportBatchSize: settings.maxExportBatchSize,
    maxQueueSize: settings.maxQueueSize,
    exportTimeoutMillis: settings.timeoutMillis,
  });
  const scopes: InstrumentationScope[] = [];
  const context = {
    resource: resources.resourceFromAttributes(settings.resourceAttributes),
    scopes,
    parseTraceState: (serialized: string) => new core.TraceState(serialized),
  };
  return { processor, scopes, context };
}

async function handle(message: ToWorker): Promise<void> {
  switch (message.type) {
    case "init":
      pipeline = await start(message.settings);
      post({ type: "ready" });
      return;
    case "spans": {
      if (!pipeline) return;
      pipeline.scopes.push(...message.newScopes);
      const spans = readSpans(message, pipeline.context);
      for (const span of spans) pipeline.processor.onEnd(span);
      post({ type: "accepted", count: spans.length });
      return;
    }
    case "flush":
      await pipeline?.processor.forceFlush();
      post({ type: "done", id: message.id });
      return;
    case "shutdown":
      await pipeline?.processor.shutdown();
      post({ type: "done", id: message.id });
      return;
  }
}

self.onmessage = (event: MessageEvent<ToWorker>) => {
  queue = queue
    .then(() => handle(event.data))
    .catch((error: unknown) => post({ type: "error", message: `trace export worker: ${String(error)}` }));
};
