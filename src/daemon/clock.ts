// Time, passed in: the daemon and the runners read the clock only through a Clock, so
// tests and benchmarks can watch or move it.

export interface Clock {
  /** Wall-clock time, ms since the epoch: what schedules are about. */
  now(): number;
  /** Monotonic ms: what elapsed time is about (tells a clock jump from a long sleep). */
  monotonic(): number;
}

export const systemClock: Clock = {
  now: () => Date.now(),
  monotonic: () => performance.now(),
};

/**
 * A sleep that stop() or an earlier wake-up can cut short. A wake-up while not asleep (the
 * loop's turn awaits the store, and a target may end meanwhile) makes the next sleep end at once.
 */
export class Sleeper {
  private timer: NodeJS.Timeout | undefined;
  private wake: (() => void) | undefined;
  private early = false;

  sleep(ms: number): Promise<void> {
    return new Promise((resolve) => {
      if (this.early) {
        this.early = false;
        return resolve();
      }
      this.wake = resolve;
      this.timer = setTimeout(resolve, Math.max(0, Math.min(ms, 2 ** 31 - 1)));
    });
  }

  interrupt(): void {
    if (this.timer) clearTimeout(this.timer);
    this.timer = undefined;
    const wake = this.wake;
    this.wake = undefined;
    if (wake) wake();
    else this.early = true;
  }
}

export function delay(ms: number, signal?: AbortSignal): Promise<void> {
  return new Promise((resolve) => {
    if (signal?.aborted) return resolve();
    const t = setTimeout(done, ms);
    function done() {
      clearTimeout(t);
      signal?.removeEventListener('abort', done);
      resolve();
    }
    signal?.addEventListener('abort', done, { once: true });
  });
}
