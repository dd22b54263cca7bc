// What every role of the daemon shares: the store it awaits, who it is, the clock, the log,
// and two signals of the loop (stopping, and a wake-up for work that became possible).

import type { Backend } from '../store/backend.js';
import { TockError } from '../errors.js';
import type { Clock } from './clock.js';
import type { Logger } from './log.js';
import type { Observer } from '../observe/observer.js';

export interface RoleContext {
  backend: Backend;
  /** This daemon's runner id. */
  id: string;
  clock: Clock;
  log: Logger;
  leaseMs: number;
  stopping: () => boolean;
  /** Cuts the loop's sleep short: a slot was freed, or something became due. */
  wake: () => void;
  /** A daemon with --listen: told what happens, for /metrics and /healthz. */
  observer?: Observer;
}

/** A pending occurrence this daemon holds: waiting for a retry, or queued behind another. */
export interface Waiting {
  id: number;
  job: string;
  at: number;
  scheduledAt: number;
  /** Waiting for the job's previous occurrence to end, not for a retry delay. */
  queued?: boolean;
}

/** Trouble that passes by itself or once the machine is fixed (a lock, a full disk): worth waiting out. */
export function isTransient(err: unknown): boolean {
  return err instanceof TockError && err.transient; // StoreError is a TockError
}

export function describe(err: unknown): string {
  const e = err as { message?: string };
  return e?.message ?? String(err);
}

export function iso(ms: number): string {
  return new Date(ms).toISOString();
}
