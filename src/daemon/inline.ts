// Executing an occurrence inside a CLI process (`tock run`, `tock retry`): the same claim,
// attempt and record steps as the daemon, with retries waited out in place and a lease
// kept alive by a heartbeat, so a daemon recovers the occurrence if this process dies.

import os from 'node:os';
import type { OccurrenceRow, Store } from '../store/index.js';
import { VERSION, type AttemptResult, type JobSpec } from '../types.js';
import { record, runTarget, type AttemptDeps, type Recorded } from './attempt.js';
import { delay, systemClock } from './clock.js';
import { silentLogger } from './log.js';
import { newRunnerId, selfProcess } from './identity.js';

export const CLI_LEASE_MS = 30_000;

export interface InlineRunner {
  id: string;
  deps: AttemptDeps;
  close(): void;
}

/** Registers this process as a runner (kind cli) and keeps its leases alive. */
export function startInlineRunner(store: Store): InlineRunner {
  const id = newRunnerId('cli-');
  const now = Date.now();
  store.write(() =>
    store.runners.register({ id, kind: 'cli', host: os.hostname(), ...selfProcess(), version: VERSION, started_at: now, detail: null }),
  );
  const timer = setInterval(() => {
    try {
      store.write(() => {
        store.runners.heartbeat(id, Date.now());
        store.occurrences.renewLeases(id, Date.now() + CLI_LEASE_MS);
      });
    } catch {
      // A busy store: the next beat tries again; the lease is long enough for several misses.
    }
  }, CLI_LEASE_MS / 6);
  timer.unref();
  const deps: AttemptDeps = { store, runnerId: id, clock: systemClock, log: silentLogger, env: process.env, random: Math.random };
  return {
    id,
    deps,
    close() {
      clearInterval(timer);
      try {
        store.write(() => store.runners.stop(id, Date.now()));
      } catch {
        // Nothing to lose: a runner row that is not marked stopped is judged by its process, or its lease.
      }
    },
  };
}

export interface AttemptReport {
  n: number;
  result: AttemptResult;
  recorded: Recorded;
}

/**
 * Runs attempts until the occurrence is final: attempt `n` has already been started (by the
 * claim, or by the caller). `onAttempt` reports each one as it ends.
 */
export async function runToEnd(
  runner: InlineRunner,
  occ: OccurrenceRow,
  spec: JobSpec,
  n: number,
  signal: AbortSignal,
  onAttempt: (r: AttemptReport) => void,
): Promise<Recorded> {
  const { store } = runner.deps;
  for (;;) {
    const result = await runTarget(runner.deps, occ, spec, n, signal);
    if (result.outcome === 'cancelled') return interrupted(runner, occ, n, result);
    const recorded = await record(runner.deps, occ, spec, n, result);
    onAttempt({ n, result, recorded });
    if (recorded.kind !== 'retry') return recorded;
    await delay(recorded.delayMs, signal);
    if (signal.aborted) {
      store.write(() => store.occurrences.finish(occ.id, 'failed', 'interrupted while waiting to retry', Date.now()));
      return { kind: 'failed', reason: 'interrupted while waiting to retry' };
    }
    n++;
    store.write(() => store.occurrences.startAttempt(occ.id, n, 'backoff', runner.id, Date.now() + CLI_LEASE_MS, Date.now()));
  }
}

/** Ctrl-C on `tock run`: the person asked for it to stop, so it ends failed, not re-run. */
function interrupted(runner: InlineRunner, occ: OccurrenceRow, n: number, result: AttemptResult): Recorded {
  const { store } = runner.deps;
  const reason = 'interrupted (SIGINT/SIGTERM to the tock process running it)';
  store.write(() => {
    store.occurrences.finishAttempt(occ.id, n, { ...result, error: reason });
    store.occurrences.finish(occ.id, 'failed', reason, Date.now());
  });
  return { kind: 'failed', reason };
}

/** Waits until an occurrence someone else runs is final (a repeated idempotency key). */
export async function awaitFinal(store: Store, id: number, signal: AbortSignal): Promise<OccurrenceRow | undefined> {
  for (;;) {
    const occ = store.occurrences.byId(id);
    if (!occ || (occ.state !== 'running' && occ.state !== 'pending') || signal.aborted) return occ;
    await delay(200, signal);
  }
}

/** An AbortSignal tripped by SIGINT/SIGTERM while a CLI command executes a target. */
export function interruptSignal(): { signal: AbortSignal; dispose(): void } {
  const controller = new AbortController();
  const stop = (sig: NodeJS.Signals) => controller.abort(`${sig} received`);
  process.on('SIGINT', stop);
  process.on('SIGTERM', stop);
  return {
    signal: controller.signal,
    dispose() {
      process.off('SIGINT', stop);
      process.off('SIGTERM', stop);
    },
  };
}
