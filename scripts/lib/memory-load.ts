import { join } from "node:path";
import { KongEmulator } from "../../test/support/kong-emulator.ts";
import { benchServiceEnv } from "./service-env.ts";
import { benchTls } from "./tls.ts";
import { rotatingConsumersScript } from "./wrk.ts";

/**
 * What the memory scripts (measure-memory, compare-memory) load the service with: the Kong emulator
 * over https holding 1000 consumers with a credential each, a wrk script that rotates through them
 * (written into `dir`), and the service's environment in front of them (console mode, `warn`, a
 * memory tier that holds every consumer, no rate limit in the way).
 */
export async function startMemoryLoad(dir: string) {
  const tls = benchTls();
  const adminToken = `memory-admin-token-${crypto.randomUUID()}`;
  const gatewaySecret = `memory-gateway-secret-${crypto.randomUUID()}`;
  const emulator = KongEmulator.start({
    hostname: tls.address,
    adminToken,
    tls: { cert: await Bun.file(tls.certPath).text(), key: await Bun.file(tls.keyPath).text() },
  });
  const consumers = Array.from({ length: 1000 }, (_, i) => {
    const consumer = emulator.addConsumer({ username: `memory-${i}` });
    emulator.addCredential(consumer.id);
    return { id: consumer.id, username: consumer.username as string };
  });
  const script = join(dir, "rotating.lua");
  await Bun.write(script, rotatingConsumersScript(consumers, { "X-Gateway-Secret": gatewaySecret }));
  return {
    emulator,
    /** The wrk script sending each request as the next consumer. */
    script,
    serviceEnv: (port: number): Record<string, string> => ({
      ...benchServiceEnv({
        port,
        kongAdminUrl: emulator.adminUrl,
        kongAdminToken: adminToken,
        gatewaySecret,
        certPath: tls.certPath,
        logLevel: "warn",
      }),
      CACHE_MAX_SIZE: "2000",
      RATE_LIMIT_MAX_REQUESTS: "1000000",
    }),
  };
}
