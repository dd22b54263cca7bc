// Retention, a little per turn of the loop: each step deletes at most PRUNE_BATCH rows in
// one short transaction, so firings due meanwhile are not held up (one pass over 1,000,000
// rows in a single statement stopped the loop for 1.3 s).

import type { PruneCursor } from '../store/backend.js';
import type { RoleContext } from './context.js';

const PRUNE_EVERY_MS = 10 * 60_000;
/** Retention deletes at most this many rows, and looks at most at this many jobs, per turn. */
const PRUNE_BATCH = 500;
const PRUNE_JOBS_PER_STEP = 200;

export interface RetentionOptions {
  keepDays: number;
  keepRuns: number;
  /** When the first pass starts after start-up (ready first, tidy later). */
  firstPruneMs: number;
}

export class Retention {
  private next = 0;
  private pass: { now: number; cursor: PruneCursor | undefined; total: number } | undefined;

  constructor(
    private readonly ctx: RoleContext,
    private readonly o: RetentionOptions,
  ) {}

  begin(now: number): void {
    this.next = now + this.o.firstPruneMs; // not on the start-up path
  }

  /** While a pass is under way, the loop comes back at once for its next step. */
  wakeAt(now: number): number {
    return this.pass ? now + 1 : Infinity;
  }

  async step(now: number): Promise<void> {
    if (!this.pass && now < this.next) return;
    if (!this.pass) {
      this.next = now + PRUNE_EVERY_MS;
      this.pass = { now, cursor: undefined, total: 0 };
    }
    const p = this.pass;
    const { keepDays, keepRuns } = this.o;
    const r = await this.ctx.backend.prune({ now: p.now, keepDays, keepRuns, cursor: p.cursor, batch: PRUNE_BATCH, jobsPerStep: PRUNE_JOBS_PER_STEP });
    p.total += r.deleted;
    p.cursor = r.cursor;
    if (r.cursor) return;
    this.pass = undefined;
    if (p.total) this.ctx.log('pruned', `${p.total} occurrence(s) beyond retention (${keepDays} days, ${keepRuns} per job)`);
  }
}
