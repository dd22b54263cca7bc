// Overlap (SPEC §5): what a firing does while an earlier occurrence of its job is still
// active, and whether a waiting occurrence may start. Pure: the store calls these inside the
// transaction that reads the active occurrences, so several daemons decide alike.

import type { Overlap } from '../types.js';

/** An active (pending or running) occurrence of the job, as overlap sees it. */
export interface ActiveOccurrence {
  id: number;
  state: 'pending' | 'running';
  /** Attempts made so far: a pending one with attempts is waiting to retry. */
  attempts: number;
  scheduledAt: number;
}

export type OverlapDecision =
  /** Nothing in the way (or overlap: allow): claim it to run. */
  | { kind: 'run' }
  /** Claimed ahead of its due time with something in the way: judge again when it is due. */
  | { kind: 'not-yet' }
  /** Record it as skipped, because of `blocker`. */
  | { kind: 'skip'; blocker: ActiveOccurrence }
  /** Record it pending, to start when `blocker` ends. */
  | { kind: 'queue'; blocker: ActiveOccurrence }
  /** Stop the running ones, end the waiting ones, then run. */
  | { kind: 'replace'; cancel: ActiveOccurrence[]; end: ActiveOccurrence[] };

/**
 * "Still running": a running target, or one waiting to retry. Queued or caught-up
 * occurrences that have not started do not make a new firing overlap, except for queue,
 * where the new one lines up behind them.
 */
export function blockers(overlap: Overlap, active: readonly ActiveOccurrence[]): ActiveOccurrence[] {
  if (overlap === 'allow') return [];
  return active.filter((a) => a.state === 'running' || a.attempts > 0 || overlap === 'queue');
}

/** Decides a firing due at `fireAt`, judged at `now`, against its job's active occurrences. */
export function decideOverlap(overlap: Overlap, active: readonly ActiveOccurrence[], fireAt: number, now: number): OverlapDecision {
  const inTheWay = blockers(overlap, active);
  if (inTheWay.length === 0) return { kind: 'run' };
  // The previous occurrence may yet end before this one is due: decide at the due time.
  if (fireAt > now) return { kind: 'not-yet' };
  if (overlap === 'skip') return { kind: 'skip', blocker: inTheWay[0] };
  if (overlap === 'queue') return { kind: 'queue', blocker: inTheWay[0] };
  return {
    kind: 'replace',
    cancel: inTheWay.filter((a) => a.state === 'running'),
    end: inTheWay.filter((a) => a.state !== 'running'),
  };
}

/**
 * Whether a pending occurrence may start its next attempt now. A retry continues its own
 * run; a queued or caught-up one waits while another of its job runs or an earlier one is
 * still active.
 */
export function mayStart(
  overlap: Overlap,
  self: { id: number; attempts: number; scheduledAt: number },
  active: readonly ActiveOccurrence[],
): boolean {
  if (self.attempts > 0 || overlap === 'allow') return true;
  return !active.some((a) => a.id !== self.id && (a.state === 'running' || a.scheduledAt < self.scheduledAt));
}
