// The read side on SQLite, for `history`, `logs`, `status` and `list`: rows mapped to the
// domain types, each read consistent (one read transaction of the caller).

import type { Attempt, HistoryFilter, Occurrence } from '../backend.js';
import type { Connection } from './connection.js';
import { toAttempt, toOccurrence } from './rows.js';

export function attempts(conn: Connection, id: number, withOutput: boolean): Attempt[] {
  if (withOutput) return conn.occurrences.attempts(id).map(toAttempt);
  // A summary has no output at all, not an empty one.
  return conn.occurrences.attemptSummaries(id).map((r) => {
    const { output: _output, ...summary } = toAttempt(r);
    return summary;
  });
}

/** Occurrences, newest first, each with its attempts (without their output). */
export function history(conn: Connection, f: HistoryFilter): { occurrence: Occurrence; attempts: Attempt[] }[] {
  return conn.occurrences.history(f).map((o) => ({ occurrence: toOccurrence(o), attempts: attempts(conn, o.id, false) }));
}

export function recent(conn: Connection, job: string, n: number): Pick<Occurrence, 'state' | 'finishedAt' | 'scheduledAt'>[] {
  return conn.occurrences.recent(job, n).map((r) => ({ state: r.state, finishedAt: r.finished_at, scheduledAt: r.scheduled_at }));
}

export function occurrence(conn: Connection, id: number): Occurrence | undefined {
  const row = conn.occurrences.byId(id);
  return row && toOccurrence(row);
}

export function occurrenceByKey(conn: Connection, key: string): Occurrence | undefined {
  const row = conn.occurrences.byKey(key);
  return row && toOccurrence(row);
}
