// Timers for executor deadlines. setTimeout fires at once for delays past 2^31-1 ms
// (about 24.8 days), so a longer job timeout is reached in steps instead.

const MAX_DELAY = 2 ** 31 - 1;

/** Calls `fn` after `ms`; a non-finite or non-positive `ms` never fires. Returns a cancel function. */
export function after(ms: number, fn: () => void): () => void {
  if (!Number.isFinite(ms) || ms <= 0) return () => {};
  const due = Date.now() + ms;
  let timer: NodeJS.Timeout;
  const arm = (): void => {
    const left = due - Date.now();
    timer = left > MAX_DELAY ? setTimeout(arm, MAX_DELAY) : setTimeout(fn, Math.max(0, left));
  };
  arm();
  return () => clearTimeout(timer);
}

export function sleep(ms: number): Promise<void> {
  return new Promise((resolve) => setTimeout(resolve, ms));
}

/** Resolves with true if `promise` settles within `ms`, false otherwise; never rejects. */
export async function within(promise: Promise<unknown>, ms: number): Promise<boolean> {
  let timer: NodeJS.Timeout | undefined;
  const timeout = new Promise<false>((resolve) => (timer = setTimeout(resolve, ms, false)));
  try {
    return await Promise.race([promise.then(() => true, () => true), timeout]);
  } finally {
    clearTimeout(timer);
  }
}

export interface Deadline {
  /** Aborts when the outer signal aborts or the time is up, whichever comes first. */
  signal: AbortSignal;
  timedOut(): boolean;
  dispose(): void;
}

/**
 * One controller per attempt rather than AbortSignal.any([outer, timeout]): the daemon's signal
 * lives as long as the process, and AbortSignal.any keeps dependants of a long-lived signal
 * (nodejs/node#54614, #55351).
 */
export function deadline(ms: number, outer: AbortSignal): Deadline {
  const controller = new AbortController();
  let timedOut = false;
  const cancelTimer = after(ms, () => {
    if (controller.signal.aborted) return;
    timedOut = true;
    controller.abort(new Error('deadline'));
  });
  const onAbort = (): void => controller.abort(outer.reason);
  outer.addEventListener('abort', onAbort, { once: true });
  return {
    signal: controller.signal,
    timedOut: () => timedOut,
    dispose: () => {
      cancelTimer();
      outer.removeEventListener('abort', onAbort);
    },
  };
}
