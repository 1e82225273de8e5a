export const TIMED_OUT = Symbol("timed out");
export const FAILED = Symbol("failed");

export type Bounded<T> = { value: T } | typeof TIMED_OUT | typeof FAILED;

/** How `pending` settled within `ms`: its value, FAILED, or TIMED_OUT (it is then left to settle on its own). */
export async function withinDeadline<T>(pending: Promise<T>, ms: number): Promise<Bounded<T>> {
  let timer: ReturnType<typeof setTimeout> | undefined;
  const deadline = new Promise<typeof TIMED_OUT>((resolve) => {
    timer = setTimeout(() => resolve(TIMED_OUT), ms);
  });
  try {
    return await Promise.race([
      pending.then(
        (value) => ({ value }),
        (): typeof FAILED => FAILED,
      ),
      deadline,
    ]);
  } finally {
    clearTimeout(timer);
  }
}
