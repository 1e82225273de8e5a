/** A clock tests move by hand, so TTLs and stale windows pass without sleeping. */
export function manualClock(start = Date.now()) {
  let current = start;
  return {
    now: () => current,
    advance(ms: number) {
      current += ms;
    },
  };
}
