// `tock daemon [--jobs file] [--concurrency N]`: runs the loop until SIGINT/SIGTERM.
// The first signal drains gracefully; a second one stops at once (leases then expire and
// each occurrence's semantics decide, exactly as after a crash).

import { loadJobsFile } from '../config/file.js';
import { applyFile } from './apply.js';
import { Daemon } from '../daemon/daemon.js';
import { killRunningGroupsNow } from '../exec/index.js';
import { lineLogger } from '../daemon/log.js';
import { formatDuration, parseDuration, parsePositiveDuration } from '../schedule/index.js';
import { isTransientStoreError, type Store } from '../store/index.js';
import { StoreError } from '../store/backend.js';
import { interimBackend } from '../store/sqlite/interim.js';
import { storeError, usageError } from '../errors.js';
import type { GlobalOptions } from './program.js';
import { intFlag, openStore } from './io.js';
import type { JobSpec } from '../types.js';

export default async function daemon(_args: unknown[], o: Record<string, unknown>, global: GlobalOptions) {
  const concurrency = intFlag(o.concurrency, '--concurrency', 1, 10_000, 16);
  const graceMs = durationFlag(o.grace, '--grace', 30_000, parseDuration);
  const leaseMs = durationFlag(o.lease, '--lease', 30_000, parsePositiveDuration);
  const keepDays = intFlag(o.keepDays, '--keep-days', 1, 100_000, 90);
  const keepRuns = intFlag(o.keepRuns, '--keep-runs', 1, 10_000_000, 1000);
  const firstPruneMs = durationFlag(o.firstPrune, '--first-prune', 60_000, parseDuration);
  const jobsFile = o.jobs === undefined ? undefined : String(o.jobs);
  const firstFile = jobsFile === undefined ? undefined : loadJobsFile(jobsFile); // bad file: exit 2 before anything runs
  const log = lineLogger();
  let pending = firstFile;
  const applyJobs = (store: Store) =>
    firstFile
      ? () => {
          const file = pending ?? loadJobsFile(jobsFile!);
          pending = undefined;
          return applyOwned(store, file.path, file.jobs);
        }
      : undefined;

  let d: Daemon | undefined;
  let store: Store | undefined;
  let signals = 0;
  let wake = () => {};
  const stopped = new Promise<void>((resolve) => {
    const onSignal = (sig: NodeJS.Signals) => {
      if (++signals > 1) {
        const killed = killRunningGroupsNow();
        log('stopped', `second ${sig}: stopping now; killed ${killed} running target(s); their leases let the next daemon recover them`);
        process.exit(130);
      }
      log('stopping', `${sig} received`);
      if (!d) {
        log('stopped', 'before the store could be used; nothing was claimed');
        wake();
        return resolve();
      }
      d.stop().then(resolve, (err) => {
        log('error', `while stopping: ${(err as Error).message}`);
        resolve();
      });
    };
    process.on('SIGINT', onSignal);
    process.on('SIGTERM', onSignal);
    process.on('SIGHUP', () => {
      log('reloaded', `SIGHUP: re-reading ${jobsFile ?? 'nothing (no --jobs file)'}`);
      d?.reload();
    });
  });

  // A daemon started while the store is locked, its disk full or its file system read-only
  // waits for the trouble to pass, as a running one does, instead of exiting into a restart
  // loop. A store that needs the operator (corrupt, foreign, newer, no permission) exits 2.
  for (let wait = 250; signals === 0; wait = Math.min(wait * 2, 2_000)) {
    try {
      store = openStore(global);
      const backend = interimBackend(store);
      const candidate = new Daemon({ backend, log, concurrency, graceMs, leaseMs, keepDays, keepRuns, firstPruneMs, applyJobs: applyJobs(store) });
      await candidate.start();
      d = candidate;
      break;
    } catch (err) {
      store?.close();
      store = undefined;
      if (err instanceof StoreError && !err.transient) throw storeError(err.message); // exit 2: the operator must act
      if (!(err instanceof StoreError) && !isTransientStoreError(err)) throw err;
      log('error', `cannot start yet: ${(err as Error).message}; retrying in ${formatDuration(wait)}`);
      await new Promise<void>((resolve) => {
        const timer = setTimeout(resolve, wait);
        wake = () => {
          clearTimeout(timer);
          resolve();
        };
      });
    }
  }
  await stopped;
  store?.close();
}

/**
 * Applies the daemon's jobs file. It owns the jobs it created from that file: a job removed
 * from the file is removed from the store; jobs added with `tock add` or from other files stay.
 */
function applyOwned(store: Store, source: string, jobs: JobSpec[]): string {
  const r = applyFile(store, source, jobs, { prune: true, dryRun: false, pruneOwnOnly: true }, Date.now());
  return `${source}: ${r.created.length} created, ${r.updated.length} updated, ${r.unchanged.length} unchanged, ${r.removed.length} removed`;
}

function durationFlag(v: unknown, flag: string, fallback: number, parse: (s: string) => number): number {
  if (v === undefined) return fallback;
  try {
    return parse(String(v));
  } catch (err) {
    throw usageError(`${flag}: ${(err as Error).message}`);
  }
}
