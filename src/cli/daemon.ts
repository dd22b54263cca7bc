// `tock daemon [--jobs file] [--concurrency N]`: runs the loop until SIGINT/SIGTERM.
// The first signal drains gracefully; a second one stops at once (leases then expire and
// each occurrence's semantics decide, exactly as after a crash).

import { loadJobsFile, type JobsFile } from '../config/file.js';
import { applyJobsFile } from '../catalogue/apply.js';
import { Daemon, type DaemonOptions } from '../daemon/daemon.js';
import { killRunningGroupsNow } from '../exec/index.js';
import { lineLogger, type Logger } from '../daemon/log.js';
import { formatDuration, parseDuration, parsePositiveDuration } from '../schedule/index.js';
import { StoreError, type Backend } from '../store/backend.js';
import { openBackend } from '../store/open.js';
import { storeError, usageError } from '../errors.js';
import type { GlobalOptions } from './program.js';
import { intFlag } from './io.js';
import { parseListen } from '../observe/listen.js';

export default async function daemon(_args: unknown[], o: Record<string, unknown>, global: GlobalOptions) {
  const concurrency = intFlag(o.concurrency, '--concurrency', 1, 10_000, 16);
  const graceMs = durationFlag(o.grace, '--grace', 30_000, parseDuration);
  const leaseMs = durationFlag(o.lease, '--lease', 30_000, parsePositiveDuration);
  const keepDays = intFlag(o.keepDays, '--keep-days', 1, 100_000, 90);
  const keepRuns = intFlag(o.keepRuns, '--keep-runs', 1, 10_000_000, 1000);
  const firstPruneMs = durationFlag(o.firstPrune, '--first-prune', 60_000, parseDuration);
  const listen = o.listen === undefined ? undefined : parseListen(String(o.listen));
  const jobsFile = o.jobs === undefined ? undefined : String(o.jobs);
  const firstFile = jobsFile === undefined ? undefined : loadJobsFile(jobsFile); // bad file: exit 2 before anything runs
  const log = lineLogger();
  // Bound before the store is opened: a port in use is exit 2 with nothing started.
  const server = listen ? await (await import('../observe/server.js')).startServer(listen, log) : undefined;
  try {
    await runDaemon(global, log, { concurrency, graceMs, leaseMs, keepDays, keepRuns, firstPruneMs, observer: server?.observer }, firstFile, jobsFile, server?.attach);
  } finally {
    await server?.close();
  }
}

type Settings = Pick<DaemonOptions, 'concurrency' | 'graceMs' | 'leaseMs' | 'keepDays' | 'keepRuns' | 'firstPruneMs' | 'observer'>;

async function runDaemon(
  global: GlobalOptions,
  log: Logger,
  settings: Settings,
  firstFile: JobsFile | undefined,
  jobsFile: string | undefined,
  attach: (backend: Backend | undefined) => void = () => {},
) {
  let pending = firstFile;
  // The daemon owns the jobs it created from its file: a job removed from the file is removed
  // from the store; jobs added with `tock add` or from other files stay.
  const applyJobs = (backend: Backend) =>
    firstFile
      ? () => {
          const file = pending ?? loadJobsFile(jobsFile!);
          pending = undefined;
          return applyJobsFile(backend, file, { prune: true, pruneOwnOnly: true });
        }
      : undefined;

  let d: Daemon | undefined;
  let backend: Backend | undefined;
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
      backend = await openBackend(global.db);
      const candidate = new Daemon({ backend, log, ...settings, applyJobs: applyJobs(backend) });
      attach(backend);
      await candidate.start();
      d = candidate;
      break;
    } catch (err) {
      attach(undefined);
      await backend?.close().catch(() => {});
      backend = undefined;
      if (!(err instanceof StoreError)) throw err;
      if (!err.transient) throw storeError(err.message); // exit 2: the operator must act
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
  attach(undefined);
  await backend?.close();
}

function durationFlag(v: unknown, flag: string, fallback: number, parse: (s: string) => number): number {
  if (v === undefined) return fallback;
  try {
    return parse(String(v));
  } catch (err) {
    throw usageError(`${flag}: ${(err as Error).message}`);
  }
}
