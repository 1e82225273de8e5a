/**
 * A minimal OTLP/HTTP sink for the benchmark's telemetry run: accepts and counts what the exporters
 * send without decoding it, so the receiver costs the machine as little as possible. TLS, because
 * production configuration refuses http:// endpoints.
 */
export function startBenchOtlpSink(tls: { address: string; cert: string; key: string }) {
  const received = { traces: 0, metrics: 0, logs: 0, bytes: 0 };
  const server = Bun.serve({
    hostname: tls.address,
    port: 0,
    tls: { cert: tls.cert, key: tls.key },
    async fetch(request) {
      const body = await request.arrayBuffer();
      received.bytes += body.byteLength;
      const signal = new URL(request.url).pathname.split("/").at(-1) as keyof typeof received;
      if (signal in received) received[signal]++;
      return new Response("{}", { headers: { "content-type": "application/json" } });
    },
  });
  return {
    endpoint: `https://${tls.address}:${server.port}`,
    received,
    stop: () => server.stop(true),
  };
}
