import { type DecodedSpan, decodeTraceRequest } from "./otlp-proto.ts";

/**
 * A real OTLP/HTTP receiver for tests: a Bun server on /v1/traces, /v1/metrics and /v1/logs that
 * decodes what the exporters send (OTLP/JSON, and OTLP/protobuf for traces) and keeps it for
 * assertions.
 */
type AnyValue = {
  stringValue?: string;
  intValue?: string | number;
  doubleValue?: number;
  boolValue?: boolean;
};
type KeyValue = { key: string; value: AnyValue };

export interface ReceivedSpan {
  traceId: string;
  spanId: string;
  parentSpanId?: string;
  name: string;
  kind: number;
  attributes: Record<string, unknown>;
  status?: { code?: number; message?: string };
  resource: Record<string, unknown>;
  /** Present for protobuf exports: the whole decoded span. */
  decoded?: DecodedSpan;
}

export interface ReceivedMetric {
  name: string;
  /** OTLP's AggregationTemporality: 1 delta, 2 cumulative (sums and histograms only). */
  temporality?: number;
  dataPoints: {
    attributes: Record<string, unknown>;
    value?: number;
    count?: number;
    sum?: number;
    bucketCounts?: number[];
    explicitBounds?: number[];
  }[];
}

export interface ReceivedLog {
  body: unknown;
  severityText?: string;
  traceId?: string;
  spanId?: string;
  attributes: Record<string, unknown>;
}

export const SPAN_KIND = { INTERNAL: 1, SERVER: 2, CLIENT: 3 } as const;

function value(v: AnyValue | undefined): unknown {
  if (!v) return undefined;
  if (v.stringValue !== undefined) return v.stringValue;
  if (v.intValue !== undefined) return Number(v.intValue);
  if (v.doubleValue !== undefined) return v.doubleValue;
  if (v.boolValue !== undefined) return v.boolValue;
  return v;
}

export function attributesOf(list: KeyValue[] | undefined): Record<string, unknown> {
  return Object.fromEntries((list ?? []).map(({ key, value: v }) => [key, value(v)]));
}

export class OtlpReceiver {
  readonly spans: ReceivedSpan[] = [];
  readonly metrics: ReceivedMetric[] = [];
  readonly logs: ReceivedLog[] = [];
  readonly requests: { path: string; contentType: string | null; headers: Headers }[] = [];
  private readonly server: ReturnType<typeof Bun.serve>;

  constructor() {
    this.server = Bun.serve({ port: 0, hostname: "127.0.0.1", fetch: (request) => this.receive(request) });
  }

  get endpoint(): string {
    return `http://127.0.0.1:${this.server.port}`;
  }

  get total(): number {
    return this.requests.length;
  }

  metricNames(): Set<string> {
    return new Set(this.metrics.map((metric) => metric.name));
  }

  async stop(): Promise<void> {
    await this.server.stop(true);
  }

  private async receive(request: Request): Promise<Response> {
    const path = new URL(request.url).pathname;
    const contentType = request.headers.get("content-type");
    this.requests.push({ path, contentType, headers: request.headers });
    if (contentType === "application/x-protobuf") {
      if (path !== "/v1/traces") return new Response("unsupported media type", { status: 415 });
      for (const span of decodeTraceRequest(new Uint8Array(await request.arrayBuffer()))) {
        this.spans.push({ ...span, decoded: span });
      }
      return new Response(new Uint8Array(), { headers: { "content-type": "application/x-protobuf" } });
    }
    const body = (await request.json()) as Record<string, unknown[]>;
    if (path === "/v1/traces") this.addSpans(body);
    else if (path === "/v1/metrics") this.addMetrics(body);
    else if (path === "/v1/logs") this.addLogs(body);
    else return new Response("not found", { status: 404 });
    return Response.json({});
  }

  private addSpans(body: Record<string, unknown[]>) {
    for (const rs of (body.resourceSpans ?? []) as {
      resource?: { attributes?: KeyValue[] };
      scopeSpans: { spans: never[] }[];
    }[]) {
      const resource = attributesOf(rs.resource?.attributes);
      for (const scope of rs.scopeSpans ?? []) {
        for (const span of scope.spans as (Omit<ReceivedSpan, "attributes" | "resource"> & {
          attributes?: KeyValue[];
        })[]) {
          this.spans.push({ ...span, attributes: attributesOf(span.attributes), resource });
        }
      }
    }
  }

  private addMetrics(body: Record<string, unknown[]>) {
    for (const rm of (body.resourceMetrics ?? []) as {
      scopeMetrics: { metrics: Record<string, unknown>[] }[];
    }[]) {
      for (const scope of rm.scopeMetrics ?? []) {
        for (const metric of scope.metrics) {
          const data = (metric.sum ?? metric.gauge ?? metric.histogram) as
            | {
                aggregationTemporality?: number;
                dataPoints?: {
                  attributes?: KeyValue[];
                  asInt?: string;
                  asDouble?: number;
                  count?: string;
                  sum?: number;
                  bucketCounts?: string[];
                  explicitBounds?: number[];
                }[];
              }
            | undefined;
          this.metrics.push({
            name: metric.name as string,
            temporality: data?.aggregationTemporality,
            dataPoints: (data?.dataPoints ?? []).map((point) => ({
              attributes: attributesOf(point.attributes),
              value: point.asDouble ?? (point.asInt !== undefined ? Number(point.asInt) : undefined),
              count: point.count !== undefined ? Number(point.count) : undefined,
              sum: point.sum,
              bucketCounts: point.bucketCounts?.map(Number),
              explicitBounds: point.explicitBounds,
            })),
          });
        }
      }
    }
  }

  private addLogs(body: Record<string, unknown[]>) {
    for (const rl of (body.resourceLogs ?? []) as {
      scopeLogs: { logRecords: Record<string, unknown>[] }[];
    }[]) {
      for (const scope of rl.scopeLogs ?? []) {
        for (const record of scope.logRecords) {
          this.logs.push({
            body: value(record.body as AnyValue),
            severityText: record.severityText as string | undefined,
            traceId: record.traceId as string | undefined,
            spanId: record.spanId as string | undefined,
            attributes: attributesOf(record.attributes as KeyValue[]),
          });
        }
      }
    }
  }
}
