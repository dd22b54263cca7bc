// /healthz: 200 while the daemon's loop turns (its last turn ended well, recently) and the
// store answers with its write lock within a second; else 503 with the reason. A locked
// store, a full disk or a stuck loop all turn it 503 within seconds.

import type { Backend } from '../store/backend.js';
import { describe } from '../daemon/context.js';

/** The loop turns at least twice a second (its poll); this long without a good turn is a stuck loop. */
export const STALE_MS = 10_000;
/** How long the probe waits for the store's write lock. */
export const PROBE_MS = 1_000;

export interface HealthReport {
  status: 200 | 503;
  body: { ok: boolean; reason?: string; last_turn: string | null; store: string | null };
}

export class Health {
  private lastOk: number | undefined;
  private failure: string | undefined;

  /** From the loop (Observer.turned). */
  turned(began: number, error?: unknown): void {
    if (error === undefined) {
      this.lastOk = began;
      this.failure = undefined;
    } else {
      this.failure = describe(error);
    }
  }

  async check(backend: Backend | undefined, now: number, storeError: () => void): Promise<HealthReport> {
    const base = { last_turn: this.lastOk === undefined ? null : new Date(this.lastOk).toISOString(), store: backend?.location ?? null };
    const unhealthy = (reason: string): HealthReport => ({ status: 503, body: { ok: false, reason, ...base } });
    if (!backend) return unhealthy('starting: the store is not open yet');
    if (this.failure !== undefined) return unhealthy(`the last turn of the loop failed: ${this.failure}`);
    if (this.lastOk === undefined) return unhealthy('starting: the loop has not turned yet');
    if (now - this.lastOk > STALE_MS) return unhealthy(`the loop has not turned for ${Math.round((now - this.lastOk) / 1000)} s`);
    try {
      await backend.probe(PROBE_MS);
    } catch (err) {
      storeError();
      return unhealthy(describe(err));
    }
    return { status: 200, body: { ok: true, ...base } };
  }
}
