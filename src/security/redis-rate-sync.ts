import type { RedisConnection } from "../cache/redis-connection.ts";
import type { RateLimitSync } from "./rate-limiter.ts";

// Atomic per call: every key is incremented by its argument (always above 0) and, when that created
// it, gets the expiry. Called with at most SYNC_CHUNK_KEYS keys, so one call stays well under 1 ms.
const PUSH = `
local totals = {}
for i, key in ipairs(KEYS) do
  local increment = tonumber(ARGV[i + 1])
  local total = redis.call('INCRBY', key, increment)
  if total == increment then redis.call('PEXPIRE', key, ARGV[1]) end
  totals[i] = total
end
return totals`;

/**
 * Rate-limit counts shared through Redis under `<prefix>:ratelimit:{<prefix>}:*`, one script call per
 * chunk. The braces are a hash tag: on a Cluster every counter hashes to one slot, so a chunk's keys
 * can go in one script (keys of several slots are refused with CROSSSLOT).
 */
export function redisRateSync(connection: RedisConnection, prefix: string): RateLimitSync {
  const namespace = `${prefix}:ratelimit:{${prefix}}`;
  return {
    async push(increments, windowMs) {
      const keys = [...increments.keys()];
      const reply = await connection.run(
        (client) =>
          client.eval(PUSH, {
            keys: keys.map((key) => `${namespace}:${key}`),
            arguments: [String(windowMs * 2), ...keys.map((key) => String(increments.get(key) ?? 0))],
          }),
        undefined,
      );
      if (!Array.isArray(reply)) return undefined;
      return new Map(keys.map((key, i) => [key, Number(reply[i] ?? 0)]));
    },
  };
}
