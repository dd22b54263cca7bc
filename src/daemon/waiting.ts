// Pending occurrences this daemon holds: retries waiting out their backoff, firings queued
// behind another (overlap: queue), caught-up and taken-over ones. Started when due and a
// slot is free; handed back to the pool when the daemon stops.

import type { StartResult } from '../store/backend.js';
import type { JobSpec } from '../types.js';
import { describe, type RoleContext, type Waiting } from './context.js';
import type { Slots } from './slots.js';

export class Waitlist {
  private readonly waiting = new Map<number, Waiting>();

  constructor(
    private readonly ctx: RoleContext,
    private readonly spec: (job: string) => JobSpec | undefined,
  ) {}

  get size(): number {
    return this.waiting.size;
  }

  add(w: Waiting): void {
    this.waiting.set(w.id, w);
  }

  delete(id: number): void {
    this.waiting.delete(id);
  }

  /** An occurrence of `job` ended here: what was queued behind it may start now. */
  wakeQueued(job: string, now: number): void {
    for (const w of this.waiting.values()) if (w.job === job && w.at > now && w.queued) w.at = now;
  }

  /** Starts the due ones, oldest first, while slots are free: one transaction per slot-full. */
  async startDue(now: number, slots: Slots): Promise<void> {
    if (this.ctx.stopping() || this.waiting.size === 0) return;
    const due = [...this.waiting.values()].filter((w) => w.at <= now).sort((a, b) => a.scheduledAt - b.scheduledAt || a.id - b.id);
    for (let i = 0; i < due.length; ) {
      const batch = due.slice(i, i + slots.free());
      if (batch.length === 0) return;
      i += batch.length;
      const specs = batch.map((w) => this.spec(w.job));
      const reqs = batch.map((w, j) => ({ id: w.id, overlap: specs[j]?.overlap }));
      const results = await this.ctx.backend.startPending(this.ctx.id, now, this.ctx.leaseMs, reqs);
      results.forEach((r, j) => this.started(batch[j], r, now, slots, specs[j]));
    }
  }

  private started(w: Waiting, r: StartResult, now: number, slots: Slots, spec: JobSpec | undefined): void {
    if (r.kind === 'wait') {
      // Woken when an occurrence of this job ends here; the poll covers one ending elsewhere.
      w.queued = true;
      w.at = now + 1_000;
      return;
    }
    this.waiting.delete(w.id);
    if (r.kind === 'started' && spec) slots.launch(r.occurrence, spec, r.n);
  }

  /** When the next one is due; one due but not started (no slot) is looked at again in 250 ms. */
  wakeAt(now: number): number {
    let at = Infinity;
    for (const w of this.waiting.values()) at = Math.min(at, Math.max(w.at, now + (w.at <= now ? 250 : 0)));
    return at;
  }

  /** On shutdown: pending occurrences this daemon holds go back to the pool at once. */
  async release(now: number): Promise<void> {
    if (this.waiting.size === 0) return;
    const items = [...this.waiting.values()].map((w) => ({ kind: 'waiting' as const, occurrenceId: w.id, at: Math.max(w.at, now) }));
    try {
      await this.ctx.backend.release(this.ctx.id, now, items);
    } catch (err) {
      this.ctx.log('error', describe(err));
    }
    this.waiting.clear();
  }
}
