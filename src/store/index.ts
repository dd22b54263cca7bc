// The SQLite connection as code not yet on the Backend reaches it: the daemon of today
// (src/daemon/daemon.ts, attempt.ts, src/cli/daemon.ts), bench/ and test/faults/ (which seed
// and inspect a store file). Everything else opens a Backend (open.ts). Goes away once the
// daemon runs on the Backend (issue 14); bench and faults then import sqlite/connection.js.

import { applyPlan } from './sqlite/catalogue.js';
import type { Connection } from './sqlite/connection.js';
import type { JobSpec } from '../types.js';
import type { ApplyResult } from './backend.js';

export { Connection as Store } from './sqlite/connection.js';
export { storeFailure, isTransientStoreError } from './sqlite/failure.js';
export type { JobRow } from './sqlite/jobs.js';
export * from './sqlite/occurrences.js';
export type { RunnerRow } from './sqlite/runners.js';

/** Today's daemon's --jobs: applies already validated jobs in one write transaction. */
export function applyFile(
  conn: Connection,
  source: string,
  jobs: JobSpec[],
  opts: { prune: boolean; dryRun: boolean; pruneOwnOnly?: boolean },
  now: number,
): ApplyResult {
  return conn.write(() => applyPlan(conn, jobs, { ...opts, source, now }));
}
