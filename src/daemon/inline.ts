// Executing an occurrence inside a CLI process (`tock run`, `tock retry`): the claim,
// attempt and record steps of the daemon, through the Backend, with retries waited out in
// place and a lease kept alive by a heartbeat, so a daemon recovers the occurrence if this
// process dies.

import os from 'node:os';
import { StoreError, type AttemptRecord, type Backend, type Occurrence, type Recorded } from '../store/backend.js';
import { VERSION, type AttemptResult, type JobSpec } from '../types.js';
import { startTarget } from './target.js';
import { delay, systemClock, type Clock } from './clock.js';
import { faultPoint } from './fault.js';
import { newRunnerId, selfProcess } from './identity.js';

export const CLI_LEASE_MS = 30_000;

export interface InlineRunner {
  id: string;
  backend: Backend;
  storeId: string;
  clock: Clock;
  close(): Promise<void>;
}

/** Registers this process as a runner (kind cli) and keeps its leases alive. */
export async function startInlineRunner(backend: Backend, clock: Clock = systemClock): Promise<InlineRunner> {
  const id = newRunnerId('cli-');
  const me = selfProcess();
  const identity = { pid: me.pid, bootId: me.boot_id, pidNs: me.pid_ns, startTicks: me.start_ticks };
  await backend.registerRunner({ id, kind: 'cli', host: os.hostname(), ...identity, version: VERSION, startedAt: clock.now(), detail: null });
  // A busy store: the next beat tries again; the lease is long enough for several misses.
  const beat = () => backend.heartbeat(id, clock.now(), CLI_LEASE_MS).catch(() => {});
  const timer = setInterval(beat, CLI_LEASE_MS / 6);
  timer.unref();
  const storeId = await backend.storeId();
  return {
    id,
    backend,
    storeId,
    clock,
    async close() {
      clearInterval(timer);
      // Nothing to lose: a runner row that is not marked stopped is judged by its process, or its lease.
      await backend.stopRunner(id, clock.now()).catch(() => {});
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
  occ: Occurrence,
  spec: JobSpec,
  n: number,
  signal: AbortSignal,
  onAttempt: (r: AttemptReport) => void,
): Promise<Recorded> {
  const { backend, clock } = runner;
  for (;;) {
    const result = await startTarget({ storeId: runner.storeId, runnerId: runner.id, env: process.env }, occ, spec, n, signal);
    if (result.outcome === 'cancelled') return interrupted(runner, occ, n, result);
    const recorded = await record(runner, { occurrenceId: occ.id, n, result, spec, random: Math.random() });
    onAttempt({ n, result, recorded });
    if (recorded.kind !== 'retry') return recorded;
    await delay(recorded.delayMs, signal);
    if (signal.aborted) {
      const reason = 'interrupted while waiting to retry';
      await backend.failOccurrence(occ.id, reason, clock.now());
      return { kind: 'failed', reason };
    }
    n++;
    if (!(await backend.startAttempt(occ.id, n, runner.id, clock.now(), CLI_LEASE_MS))) {
      return { kind: 'lost', reason: 'the lease passed to another runner while waiting to retry' };
    }
  }
}

/** Records one attempt; a busy or full store is retried until the write lands: a result is never dropped. */
async function record(runner: InlineRunner, rec: AttemptRecord): Promise<Recorded> {
  faultPoint('before-record'); // test-only: the target has ended, its result is not yet written
  for (let wait = 50; ; wait = Math.min(wait * 2, 5_000)) {
    try {
      return (await runner.backend.recordAttempts(runner.id, runner.clock.now(), [rec])).recorded[0];
    } catch (err) {
      if (!(err instanceof StoreError) || !err.transient) throw err;
      await delay(wait);
    }
  }
}

/** Ctrl-C on `tock run`: the person asked for it to stop, so it ends failed, not re-run. */
async function interrupted(runner: InlineRunner, occ: Occurrence, n: number, result: AttemptResult): Promise<Recorded> {
  const reason = 'interrupted (SIGINT/SIGTERM to the tock process running it)';
  await runner.backend.failOccurrence(occ.id, reason, runner.clock.now(), { n, result: { ...result, error: reason } });
  return { kind: 'failed', reason };
}

/** Waits until an occurrence someone else runs is final (a repeated idempotency key). */
export async function awaitFinal(backend: Backend, id: number, signal: AbortSignal): Promise<Occurrence | undefined> {
  for (;;) {
    const occ = await backend.occurrence(id);
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
