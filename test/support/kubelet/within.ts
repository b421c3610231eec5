/** Bounding a wait the way the kubelet bounds hooks and terminations: by a time, without cancelling the work. */
export const TIMED_OUT = Symbol('timed out');

/** The promise's value, or TIMED_OUT after `ms`; the timer is cleared either way, so nothing lingers. */
export async function within<T>(promise: Promise<T>, ms: number): Promise<T | typeof TIMED_OUT> {
  let timer: NodeJS.Timeout | undefined;
  const timeout = new Promise<typeof TIMED_OUT>((resolve) => (timer = setTimeout(() => resolve(TIMED_OUT), ms)));
  try {
    return await Promise.race([promise, timeout]);
  } finally {
    clearTimeout(timer);
  }
}
