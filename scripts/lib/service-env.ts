/**
 * The service as the benchmarks run it: production mode in front of the Kong emulator over https with
 * an admin token and a gateway secret. Each script adds what it measures differently.
 */
export interface BenchServiceOptions {
  readonly port: number;
  readonly kongAdminUrl: string;
  readonly kongAdminToken: string;
  readonly gatewaySecret: string;
  /** The emulator's certificate, trusted through NODE_EXTRA_CA_CERTS. */
  readonly certPath: string;
  readonly logLevel: string;
}

export function benchServiceEnv(o: BenchServiceOptions): Record<string, string> {
  return {
    NODE_ENV: "production",
    LOG_LEVEL: o.logLevel,
    HOST: "127.0.0.1",
    PORT: String(o.port),
    KONG_MODE: "API_GATEWAY",
    KONG_ADMIN_URL: o.kongAdminUrl,
    KONG_ADMIN_TOKEN: o.kongAdminToken,
    KONG_JWT_AUTHORITY: "https://sts.bench.example.com/",
    KONG_JWT_AUDIENCE: "https://api.bench.example.com/",
    TRUSTED_GATEWAY_SECRET: o.gatewaySecret,
    // No balancer sends here: stop without the drain window.
    SHUTDOWN_DRAIN_MS: "0",
    NODE_EXTRA_CA_CERTS: o.certPath,
  };
}
