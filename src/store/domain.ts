// The store's domain types, as every backend maps its rows to them (camelCase, numbers for
// instants), and the one error a backend throws. Callers import them through backend.ts.

import { EXIT, TockError } from '../errors.js';
import type { Delivery, JobSpec } from '../types.js';


export type OccurrenceState = 'pending' | 'running' | 'succeeded' | 'failed' | 'abandoned' | 'skipped' | 'missed';
export type Origin = 'schedule' | 'catchup' | 'manual';
export type Trigger = Origin | 'retry';
/** How an attempt came about: the occurrence's trigger, a retry after backoff, or a re-run after a crash. */
export type AttemptTrigger = Trigger | 'backoff' | 'recovery';

export interface Job {
  name: string;
  spec: JobSpec;
  paused: boolean;
  version: number;
  source: string;
  createdAt: number;
  updatedAt: number;
  /** Nothing at or before this instant is scheduled (creation, resume, schedule change). */
  cursorAt: number;
  doneAt: number | null;
  /** The job's next firing as last computed, for its version `version`. */
  next: { after: number; at: number | null; version: number } | null;
}

export interface Occurrence {
  id: number;
  job: string;
  key: string;
  scheduledAt: number;
  fireAt: number;
  origin: Origin;
  trigger: Trigger;
  state: OccurrenceState;
  delivery: Delivery;
  jobVersion: number;
  attempts: number;
  recoveries: number;
  nextAttemptAt: number | null;
  leaseOwner: string | null;
  leaseExpiresAt: number | null;
  cancelReason: string | null;
  reason: string | null;
  createdAt: number;
  finishedAt: number | null;
}

export interface Attempt {
  occurrenceId: number;
  n: number;
  trigger: AttemptTrigger;
  runner: string | null;
  startedAt: number;
  finishedAt: number | null;
  outcome: 'running' | 'succeeded' | 'failed' | 'timeout' | 'cancelled' | 'abandoned';
  exitCode: number | null;
  signal: string | null;
  httpStatus: number | null;
  error: string | null;
  /** Absent in summaries (history), present when one occurrence's attempts are read. */
  output?: string | null;
  outputTruncated: boolean;
  outputBytes: number;
}

export interface Runner {
  id: string;
  kind: 'daemon' | 'cli';
  host: string;
  pid: number;
  version: string;
  startedAt: number;
  heartbeatAt: number;
  stoppedAt: number | null;
  detail: string | null;
  /** Which process it is, beyond host and pid (see daemon/identity.ts); null where unknown. */
  bootId: string | null;
  pidNs: string | null;
  startTicks: number | null;
}

export const STATES: readonly OccurrenceState[] = ['pending', 'running', 'succeeded', 'failed', 'abandoned', 'skipped', 'missed'];
export const FINAL_STATES: readonly OccurrenceState[] = ['succeeded', 'failed', 'abandoned', 'skipped', 'missed'];

/**
 * Why a store operation failed: transient ones (locked, busy, full, unreachable) are
 * retried, others end the command. A TockError, so the CLI's one error path prints it and
 * exits with `exitCode`: 2 for a store that cannot be used (locked, corrupt, newer, refused),
 * 1 for trouble while running (a full disk, an I/O error).
 */
export class StoreError extends TockError {
  constructor(
    message: string,
    transient: boolean,
    readonly code?: string,
    exitCode: number = EXIT.usage,
  ) {
    super(message, exitCode === EXIT.usage ? 'store' : 'runtime', exitCode);
    this.transient = transient;
    this.name = 'StoreError';
  }
}
