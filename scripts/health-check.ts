/**
 * `bun run health-check`: GET /health of a running service and print the answer; exits 0 when it is
 * healthy (200), 1 otherwise. Asks http://localhost:${PORT:-3000} unless HEALTH_CHECK_URL names
 * another base URL (a container, a staging host).
 */

// Top-level await and file-local names need a module.
export {};

const base = (process.env.HEALTH_CHECK_URL ?? `http://localhost:${process.env.PORT ?? 3000}`).replace(
  /\/$/,
  "",
);

let response: Response;
try {
  response = await fetch(`${base}/health`, { signal: AbortSignal.timeout(5_000) });
} catch (error) {
  console.error(
    `Nothing answers at ${base}/health (${(error as Error).message}). Start the service: bun run dev, or bun run local`,
  );
  process.exit(1);
}
const body = await response.text();
let shown = body;
try {
  shown = JSON.stringify(JSON.parse(body), null, 2);
} catch {}
console.log(`${base}/health answered ${response.status}\n${shown}`);
process.exit(response.status === 200 ? 0 : 1);
