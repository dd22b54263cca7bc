// Throwaway: a Backend over today's Store, for the daemon until the SqliteBackend exists.
// Its RunnerSide is daemonSide(); the catalogue reads the daemon needs are one-liners; the
// rest throws. Deleted at merge.

import type { Backend } from '../backend.js';
import { reading, type Connection } from './conn.js';
import { daemonSide } from './daemon-side.js';

function missing(name: string) {
  return () => Promise.reject(new Error(`interim backend: ${name} is not implemented`));
}

export function interimBackend(conn: Connection): Backend {
  return {
    location: conn.file,
    storeId: async () => reading(conn, () => conn.id),
    close: async () => conn.close(),
    listJobs: async () => reading(conn, () => conn.jobs.list()),
    getJob: async (name) => reading(conn, () => conn.jobs.get(name)),
    jobVersions: async () => reading(conn, () => conn.jobs.versions()),
    generation: async () => reading(conn, () => conn.jobs.generation()),
    applyJobs: missing('applyJobs'),
    addJob: missing('addJob'),
    setPaused: missing('setPaused'),
    removeJob: missing('removeJob'),
    rememberNext: missing('rememberNext'),
    claimManual: missing('claimManual'),
    retryOccurrence: missing('retryOccurrence'),
    startAttempt: missing('startAttempt'),
    failOccurrence: missing('failOccurrence'),
    occurrence: missing('occurrence'),
    occurrenceByKey: missing('occurrenceByKey'),
    attempts: missing('attempts'),
    history: missing('history'),
    recent: missing('recent'),
    counts: missing('counts'),
    ...daemonSide(conn),
  };
}
