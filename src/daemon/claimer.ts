// The claimer: due firings (the backlog) to claims, through backend.claimFirings, which
// decides overlap inside its transaction. Never two claims in flight: one riding in the
// recorder's transaction and one of the loop's own exclude each other, since both walk the
// start of the backlog and apply what they decided to it.

import type { ClaimDecision, ClaimRequest, ClaimResult, FiringRequest } from '../store/backend.js';
import type { JobSpec } from '../types.js';
import { iso, type RoleContext } from './context.js';
import type { Slots } from './slots.js';
import type { DueFiring, Timetable } from './timetable.js';
import type { Waitlist } from './waiting.js';

/**
 * How many backlog entries one claim is sent. The loop's own claim walks far, past firings
 * lost to other daemons, in one transaction (and sends the next window if this one was
 * used up); a claim riding with every result is kept small, enough to fill the slots freed.
 */
const LOOP_WINDOW = 1_000;
const rideWindow = (slots: number) => Math.min(LOOP_WINDOW, 4 * slots + 32);

/** A claim sent and not yet answered: what it was made of, to apply its answer to the backlog. */
export interface InFlight {
  req: ClaimRequest;
  /** The backlog the claim was made from, the index in it of each firing sent, and where the window ended. */
  backlog: DueFiring[];
  at: number[];
  end: number;
  specs: JobSpec[];
}

export class Claimer {
  /** Due firings not yet claimed (no free slot, or the store was busy). Never dropped. */
  private backlog: DueFiring[] = [];
  private inFlight = false;

  constructor(
    private readonly ctx: RoleContext,
    private readonly timetable: Timetable,
    private readonly slots: Slots,
    private readonly waiting: Waitlist,
  ) {}

  get size(): number {
    return this.backlog.length;
  }

  add(e: DueFiring): void {
    this.backlog.push(e);
  }

  /** After jobs changed: firings of jobs that changed or went away are dropped. */
  dropStale(): void {
    this.backlog = this.backlog.filter((e) => this.timetable.current(e));
  }

  /** Claims due firings for the free slots in transactions of their own. */
  async claimBacklog(now: number): Promise<void> {
    for (;;) {
      const sent = this.prepare(now, this.slots.free(), LOOP_WINDOW);
      if (!sent) return;
      let result: ClaimResult;
      try {
        result = await this.ctx.backend.claimFirings(sent.req);
      } catch (err) {
        this.finish(sent, undefined);
        throw err;
      }
      this.finish(sent, result);
      // The window was walked to its end with slots left: the backlog beyond it is next
      // (firings left for their due time stay at its start: then it waits for them).
      if (result.walked < sent.at.length || sent.end >= sent.backlog.length) return;
      if (result.decisions.some((d) => d.kind === 'not-yet')) return;
    }
  }

  /**
   * A claim to ride in the transaction that records finished targets: the slots they free
   * are claimed in the same commit, so a busy daemon commits once per batch, not twice (on
   * a store shared by several daemons the write lock, held for each commit, is the limit).
   */
  ride(freed: number): InFlight | undefined {
    const slots = this.slots.free() + freed;
    return this.prepare(this.ctx.clock.now(), slots, rideWindow(slots));
  }

  /** The answer to a claim, or undefined if it failed (nothing was written; claimed again later). */
  settle(sent: InFlight | undefined, result: ClaimResult | undefined): void {
    if (!sent) return;
    this.finish(sent, result);
    if (this.backlog.length > 0) this.ctx.wake(); // the loop left the backlog to this claim
  }

  private finish(sent: InFlight, result: ClaimResult | undefined): void {
    this.inFlight = false;
    if (result) this.apply(sent, result);
  }

  /** When a firing left in the backlog with a slot free is due: claimed at its due time (see decideOverlap). */
  wakeAt(now: number): number {
    if (this.inFlight || this.slots.free() === 0 || this.backlog.length === 0) return Infinity;
    let first = Infinity;
    for (const e of this.backlog) {
      first = Math.min(first, e.fireAt);
      if (first <= now) break;
    }
    return Math.max(now, first);
  }

  private prepare(now: number, slots: number, cap: number): InFlight | undefined {
    if (this.inFlight || this.backlog.length === 0 || slots <= 0 || this.ctx.stopping()) return undefined;
    const backlog = this.backlog;
    const firings: FiringRequest[] = [];
    const sent: InFlight = { req: { runner: this.ctx.id, now, leaseMs: this.ctx.leaseMs, slots, firings }, backlog, at: [], end: 0, specs: [] };
    let i = 0;
    for (; i < backlog.length && firings.length < cap; i++) {
      const r = this.timetable.request(backlog[i]);
      if (!r) continue; // the job changed or went away: dropped with the entries dealt with
      firings.push(r.firing);
      sent.specs.push(r.spec);
      sent.at.push(i);
    }
    sent.end = i;
    if (firings.length === 0) {
      this.backlog = backlog.slice(i);
      return undefined;
    }
    this.inFlight = true;
    return sent;
  }

  private apply(sent: InFlight, result: ClaimResult): void {
    const { walked, decisions } = result;
    const dealtEnd = walked < sent.at.length ? sent.at[walked] : sent.end;
    const kept = sent.at.slice(0, walked).filter((_, j) => decisions[j].kind === 'not-yet').map((k) => sent.backlog[k]);
    // A claim is applied right after it answers, and nothing else claims meanwhile, so the
    // backlog is the one it walked: the entries dealt with are dropped from its start, in
    // time proportional to them (a filter over all of it, per pass, cost a daemon with
    // 20,000 due firings ~4 % of its time). Should the backlog have been replaced meanwhile
    // (jobs reloaded), by identity instead.
    if (this.backlog === sent.backlog) {
      if (kept.length === 0) this.backlog.splice(0, dealtEnd);
      else this.backlog = kept.concat(this.backlog.slice(dealtEnd));
    } else {
      const dealt = new Set(sent.backlog.slice(0, dealtEnd).filter((e) => !kept.includes(e)));
      this.backlog = this.backlog.filter((e) => !dealt.has(e));
    }
    const starts: (() => void)[] = [];
    decisions.forEach((d, j) => this.decided(d, sent.req.firings[j], sent.specs[j], starts));
    for (const start of starts) start();
  }

  /** Logs what a claim decided and notes it; targets are started after every line is logged. */
  private decided(d: ClaimDecision, f: FiringRequest, spec: JobSpec, starts: (() => void)[]): void {
    if (d.kind === 'lost') this.ctx.observer?.claimLost(f.job);
    if (d.kind === 'skipped') {
      this.ctx.log('skipped', `${f.job} #${d.occurrence.id} ${iso(f.scheduledAt)}: previous occurrence #${d.blocker.id} still ${d.blocker.state}`);
    } else if (d.kind === 'queued') {
      this.waiting.add({ id: d.occurrence.id, job: f.job, at: f.fireAt, scheduledAt: f.scheduledAt });
      this.ctx.log('queued', `${f.job} #${d.occurrence.id} ${iso(f.scheduledAt)}: behind occurrence #${d.blocker.id}`);
    } else if (d.kind === 'started') {
      for (const id of [...d.cancelled, ...d.ended]) {
        this.ctx.log('replaced', `${f.job} #${id} is being stopped: replaced by the firing at ${iso(f.scheduledAt)}`);
      }
      for (const id of d.ended) this.waiting.delete(id);
      this.slots.abort(d.cancelled, 'replaced by a newer occurrence');
      starts.push(() => this.slots.launch(d.occurrence, spec, 1));
    }
  }
}
