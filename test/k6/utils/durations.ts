/**
 * k6 duration strings ("90s", "5m", "1m30s", "500ms", "1h") to seconds and back, so stages can be
 * derived from the K6_* durations. Plain TypeScript: no k6 import, so `bun test` checks it too.
 */
const UNIT_SECONDS: Record<string, number> = { ms: 0.001, s: 1, m: 60, h: 3600 };

export function parseDuration(text: string): number {
  const trimmed = text.trim();
  const parts = trimmed.match(/(\d+(?:\.\d+)?)(ms|s|m|h)/g);
  if (!parts || parts.join("") !== trimmed) throw new Error(`not a k6 duration: "${text}"`);
  let seconds = 0;
  for (const part of parts) {
    const match = /^(\d+(?:\.\d+)?)(ms|s|m|h)$/.exec(part);
    if (!match) throw new Error(`not a k6 duration: "${text}"`);
    seconds += Number(match[1]) * (UNIT_SECONDS[match[2] as string] as number);
  }
  return seconds;
}

/** Whole seconds, at least one: k6 stages shorter than that are pointless. */
export function formatSeconds(seconds: number): string {
  return `${Math.max(1, Math.round(seconds))}s`;
}

export function fraction(duration: string, share: number): string {
  return formatSeconds(parseDuration(duration) * share);
}
