/**
 * Memory the rate limiter holds without Redis after many distinct consumers (issue 12, item 3):
 * heap and RSS after a forced GC, before and after `ids` distinct consumers in one window, then after
 * the window has passed and one more request came.
 *
 *   bun scripts/measure-rate-limiter-memory.ts [ids=500000] [maxConsumers=100000]
 */
import { RateLimiter } from "../src/security/rate-limiter.ts";

const ids = Number(process.argv[2] ?? 500_000);
const maxTrackedConsumers = Number(process.argv[3] ?? 100_000);
const clock = { now: 0 };
const limiter = new RateLimiter({
  maxRequests: 1000,
  windowMs: 60_000,
  syncMs: 100,
  maxTrackedConsumers,
  now: () => clock.now,
});

function snapshot(label: string) {
  Bun.gc(true);
  const { heapUsed, rss } = process.memoryUsage();
  const mib = (bytes: number) => `${(bytes / 2 ** 20).toFixed(1)} MiB`.padStart(10);
  console.log(
    `${label.padEnd(44)} heap ${mib(heapUsed)}  rss ${mib(rss)}  tracked ${limiter.trackedConsumers}`,
  );
}

console.log(`RateLimiter without Redis, RATE_LIMIT_MAX_CONSUMERS=${maxTrackedConsumers}\n`);
snapshot("before");
for (let i = 0; i < ids; i++) limiter.take(crypto.randomUUID());
snapshot(`after ${ids} distinct ids in one window`);
clock.now += 60_000;
limiter.take("next-window");
snapshot("next window, one request");
