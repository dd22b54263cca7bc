// The slots: targets this daemon runs, at most `concurrency` at once. A claimed occurrence
// is launched at its due instant, its result handed to the recorder and logged; targets
// are stopped on request (overlap: replace, `tock cancel`) and at shutdown after a grace.

import type { Occurrence, Recorded } from '../store/backend.js';
import { formatDuration } from '../schedule/index.js';
import { onShutdown } from '../semantics/delivery.js';
import type { AttemptResult, JobSpec } from '../types.js';
import { delay } from './clock.js';
import { describe, iso, type RoleContext } from './context.js';
import { startTarget, type TargetRunner } from './target.js';
import type { Waitlist } from './waiting.js';

interface Running {
  occ: Occurrence;
  spec: JobSpec;
  n: number;
  controller: AbortController;
  done: Promise<void>;
}

/** A finished attempt, on its way to the store. */
export interface Finished {
  occ: Occurrence;
  spec: JobSpec;
  n: number;
  result: AttemptResult;
}

export class Slots {
  private readonly running = new Map<number, Running>();
  /** Told as each target starts and ends (the watch: late and long). */
  watch?: { started(occ: Occurrence, spec: JobSpec, n: number): void; ended(id: number): void };

  constructor(
    private readonly ctx: RoleContext,
    private readonly concurrency: number,
    /** Filled in at start with the store's id: it marks the processes of this daemon's attempts. */
    readonly runner: TargetRunner,
    private readonly waiting: Waitlist,
    private readonly record: (f: Finished) => Promise<Recorded>,
  ) {}

  get size(): number {
    return this.running.size;
  }

  has(id: number): boolean {
    return this.running.has(id);
  }

  free(): number {
    return Math.max(0, this.concurrency - this.running.size);
  }

  launch(occ: Occurrence, spec: JobSpec, n: number): void {
    const controller = new AbortController();
    const entry: Running = { occ, spec, n, controller, done: Promise.resolve() };
    this.running.set(occ.id, entry);
    // Claimed ahead (CLAIM_AHEAD_MS): the target starts at its due instant, on a timer of its own.
    const early = occ.fireAt - this.ctx.clock.now();
    const started = early > 0 ? delay(early) : Promise.resolve();
    entry.done = started
      .then(() => {
        this.ctx.log('fired', `${occ.job} #${occ.id} ${iso(occ.scheduledAt)} (${occ.origin}, attempt ${n}, key ${occ.key})`);
        this.watch?.started(occ, spec, n);
        return this.execute(entry);
      })
      .finally(() => {
        this.watch?.ended(occ.id);
        this.running.delete(occ.id);
        // A slot is free, and what was queued behind this occurrence may start now.
        this.waiting.wakeQueued(occ.job, this.ctx.clock.now());
        this.ctx.wake();
      });
  }

  /** Cancel requests from the store: each target stopped once, with the reason given. */
  cancel(requests: { id: number; reason: string }[]): void {
    for (const c of requests) {
      const r = this.running.get(c.id);
      if (r && !r.controller.signal.aborted) r.controller.abort(c.reason);
    }
  }

  abort(ids: number[], reason: string): void {
    for (const id of ids) this.running.get(id)?.controller.abort(reason);
  }

  /** Shutdown: running targets may finish for up to graceMs, then they are stopped. */
  async drain(graceMs: number): Promise<void> {
    // Re-read after each wait: a claim answered during shutdown may have launched one more.
    const all = async () => {
      while (this.running.size > 0) await Promise.all([...this.running.values()].map((r) => r.done));
    };
    let timer: NodeJS.Timeout | undefined;
    const graceOver = new Promise<'timeout'>((resolve) => (timer = setTimeout(() => resolve('timeout'), graceMs)));
    if ((await Promise.race([all(), graceOver])) === 'timeout') {
      for (const r of this.running.values()) r.controller.abort('daemon stopping');
      await all();
    }
    clearTimeout(timer);
  }

  private async execute(r: Running): Promise<void> {
    const { occ, spec, n } = r;
    const result = await startTarget(this.runner, occ, spec, n, r.controller.signal);
    if (result.outcome === 'cancelled' && this.ctx.stopping()) return this.afterShutdownCancel(r, result);
    let recorded: Recorded;
    try {
      recorded = await this.record({ occ, spec, n, result });
    } catch (err) {
      this.ctx.log('error', `${occ.job} #${occ.id}: result not recorded (${describe(err)}); the lease will expire and the semantics decide`);
      return;
    }
    this.logRecorded(r, result, recorded);
  }

  private logRecorded({ occ, n }: Running, result: AttemptResult, recorded: Recorded): void {
    const took = formatDuration(Math.max(0, result.finishedAt - result.startedAt));
    switch (recorded.kind) {
      case 'succeeded':
        this.ctx.log('succeeded', `${occ.job} #${occ.id} in ${took}${result.httpStatus ? ` (HTTP ${result.httpStatus})` : ''}`);
        break;
      case 'failed':
        this.ctx.log('failed', `${occ.job} #${occ.id} after ${took}: ${recorded.reason}`);
        break;
      case 'retry':
        this.ctx.log('retrying', `${occ.job} #${occ.id} in ${formatDuration(recorded.delayMs)}: attempt ${n} ${recorded.reason}`);
        this.waiting.add({ id: occ.id, job: occ.job, at: this.ctx.clock.now() + recorded.delayMs, scheduledAt: occ.scheduledAt });
        break;
      case 'lost':
        this.ctx.log('error', `${occ.job} #${occ.id}: attempt ${n} recorded, but ${recorded.reason}`);
        break;
    }
  }

  /** A target stopped because the daemon is stopping: at-most-once is abandoned, others handed back. */
  private async afterShutdownCancel(r: Running, result: AttemptResult): Promise<void> {
    const { occ, spec, n } = r;
    const release = { kind: 'stopped' as const, occurrenceId: occ.id, n, result, delivery: spec.delivery };
    try {
      await this.ctx.backend.release(this.ctx.id, this.ctx.clock.now(), [release]);
    } catch (err) {
      this.ctx.log('error', describe(err));
    }
    this.ctx.log(onShutdown(spec.delivery) === 'abandon' ? 'abandoned' : 'released', `${occ.job} #${occ.id}: stopped by shutdown`);
  }
}
