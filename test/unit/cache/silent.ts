import { createClient, createCluster, createSentinel } from "redis";
import { RedisLink } from "../../../src/cache/redis-link.ts";
import { testConfig } from "../../support/config.ts";
import { waitFor } from "../../support/wait.ts";

/** Attempts go through a backoff and a handshake: slower on a loaded machine. */
const GIVE_UPS_WITHIN_MS = 15_000;

/** A listener that accepts connections and never says a word, counting sockets. */
export function silentListener() {
  const sockets = { opened: 0, open: 0 };
  const listener = Bun.listen({
    hostname: "127.0.0.1",
    port: 0,
    socket: {
      open() {
        sockets.opened++;
        sockets.open++;
      },
      data() {},
      close() {
        sockets.open--;
      },
    },
  });
  return { url: `redis://127.0.0.1:${listener.port}`, sockets, stop: () => listener.stop(true) };
}

/**
 * Resolves once `attempts` handshakes of a throwaway link started now, to a listener that never answers,
 * have been given up: every timer this process armed earlier with no longer a delay has fired by then
 * (timers fire in deadline order), so a test can say what did not happen without sleeping.
 */
export async function afterGiveUps(attempts: number, env: Record<string, string>) {
  const silent = silentListener();
  const config = testConfig({
    REDIS_URL: silent.url,
    REDIS_RETRY_DELAY_MS: "50",
    REDIS_MAX_RETRIES: "3",
    ...env,
  });
  let errors = 0;
  const link = new RedisLink({ createClient, createSentinel, createCluster }, config.redis, {
    ready: () => {},
    error: () => errors++,
  });
  try {
    link.open();
    await waitFor(() => errors >= attempts, `${attempts} give-ups of the reference link`, GIVE_UPS_WITHIN_MS);
  } finally {
    await link.close();
    silent.stop();
  }
}
