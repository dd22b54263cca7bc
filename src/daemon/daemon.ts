// The daemon loop: due occurrences -> claim -> execute -> record, with leases, catch-up,
// overlap, retries and shutdown. It sleeps until the next due instant (a heap of every
// job's next firing), re-reads the clock on waking, and polls one counter twice a second
// so a change made from another shell takes effect within a second.

import os from 'node:os';
import type { JobRow, NewOccurrence, OccurrenceRow, Store } from '../store/index.js';
import { isTransientStoreError } from '../store/index.js';
import { compileJob, firing, type Firing } from '../schedule/for-job.js';
import type { CompiledSchedule } from '../schedule/index.js';
import { planCatchup } from '../semantics/catchup.js';
import { onLeaseExpired, onShutdown } from '../semantics/delivery.js';
import { VERSION, type JobSpec } from '../types.js';
import { Recorder, runTarget, type AttemptDeps, type Execute, type Outcome, failuresSince } from './attempt.js';
import { Sleeper, delay, systemClock, type Clock } from './clock.js';
import { MinHeap } from './heap.js';
import type { LogEvent, Logger } from './log.js';
import { formatDuration } from '../schedule/index.js';
import { killOrphans } from '../exec/orphans.js';
import { judge, newRunnerId, selfProcess } from './identity.js';

export interface DaemonOptions {
  store: Store;
  log: Logger;
  clock?: Clock;
  env?: NodeJS.ProcessEnv;
  concurrency: number;
  graceMs: number;
  leaseMs: number;
  keepDays: number;
  keepRuns: number;
  pollMs?: number;
  /** When the first retention pass starts after start-up (default 60 s: ready first, tidy later). */
  firstPruneMs?: number;
  execute?: Execute;
  random?: () => number;
  killGraceMs?: number;
  /** Applied at start and on reload(); returns a line for the log. */
  applyJobs?: () => string;
}

interface JobState {
  row: JobRow;
  compiled: CompiledSchedule;
  /** Bumped whenever the job is (re)loaded, so stale heap entries are recognised. */
  seq: number;
}

interface HeapEntry extends Firing {
  job: string;
  seq: number;
}

interface Running {
  occ: OccurrenceRow;
  spec: JobSpec;
  n: number;
  controller: AbortController;
  done: Promise<void>;
}

/** What one claiming pass decided; applied to the daemon only after its transaction commits. */
interface ClaimPlan {
  /** The backlog the pass walked, and how many entries from its start it looked at. */
  backlog: HeapEntry[];
  walked: number;
  /** Looked at but left in the backlog: overlap is judged at their due time. */
  kept: HeapEntry[];
  toStart: { occ: OccurrenceRow; state: JobState }[];
  /** Running occurrences to stop (overlap: replace). */
  cancels: number[];
  queued: Waiting[];
  /** Waiting occurrences ended by a replacement. */
  replaced: number[];
  logs: [event: LogEvent, text: string][];
}

/** A pending occurrence this daemon holds: waiting for a retry, or queued behind another. */
interface Waiting {
  id: number;
  job: string;
  at: number;
  scheduledAt: number;
  /** Waiting for the job's previous occurrence to end, not for a retry delay. */
  queued?: boolean;
}

/**
 * A lease owner as recovery sees it: gone by its own word (stopped, or no row), proven dead
 * here (this boot and PID namespace, its process gone), or holding its lease until it lapses.
 */
type OwnerState = 'exited' | 'dead' | 'leased';

/** How far behind the monotonic clock the wall clock may get before it counts as a jump. */
const JUMP_MS = 5_000;
/** At most this many missed firings are looked at per job after downtime. */
const MISSED_SCAN_CAP = 1_000;
/** Heartbeat while holding leases; an idle daemon beats less often (each beat is a synced write). */
const HEARTBEAT_MS = 2_000;
const IDLE_HEARTBEAT_MS = 10_000;
const PRUNE_EVERY_MS = 10 * 60_000;
/** Retention deletes at most this many rows, and looks at most at this many jobs, per turn. */
const PRUNE_BATCH = 500;
const PRUNE_JOBS_PER_STEP = 200;
/**
 * Firings are claimed this long before they are due, and their targets started by a timer
 * at the due instant: the claim's synchronous commit (an fsync, up to tens of ms on a busy
 * disk) is then off the path between the timer and the target, and firings due close
 * together share one commit. A claim is still on disk before its target starts.
 */
const CLAIM_AHEAD_MS = 25;

export class Daemon {
  readonly id: string;
  private readonly store: Store;
  private readonly clock: Clock;
  private readonly log: Logger;
  private readonly host = os.hostname();
  private readonly jobs = new Map<string, JobState>();
  private readonly heap = new MinHeap<HeapEntry>((e) => e.fireAt);
  private readonly running = new Map<number, Running>();
  private readonly waiting = new Map<number, Waiting>();
  /** Due firings not yet claimed (no free slot, or the store was busy). Never dropped. */
  private backlog: HeapEntry[] = [];
  private readonly sleeper = new Sleeper();
  private readonly deps: AttemptDeps;
  private readonly recorder: Recorder;
  private stopping = false;
  private seq = 0;
  private generation = -1;
  private liveSince = 0;
  private lastWall = 0;
  private lastMono = 0;
  private nextPoll = 0;
  private nextHeartbeat = 0;
  private nextPrune = 0;
  private pruning: { before: number; oldDone: boolean; after: string; jobsDone: boolean; total: number } | undefined;
  private errorDelay = 0;
  private reloadRequested = false;
  private loopDone: Promise<void> | undefined;

  constructor(private readonly o: DaemonOptions) {
    this.store = o.store;
    this.clock = o.clock ?? systemClock;
    this.log = o.log;
    this.id = newRunnerId();
    this.deps = {
      store: o.store,
      runnerId: this.id,
      clock: this.clock,
      log: o.log,
      env: o.env ?? process.env,
      random: o.random ?? Math.random,
      execute: o.execute,
      killGraceMs: o.killGraceMs,
    };
    this.recorder = new Recorder(this.deps, () => this.stopping, (finished) => this.claimAlongside(finished));
  }

  /** Registers, recovers what dead runners left, loads the jobs, and starts the loop. */
  start(): void {
    const now = this.clock.now();
    this.liveSince = now;
    this.lastWall = now;
    this.lastMono = this.clock.monotonic();
    this.nextPrune = now + (this.o.firstPruneMs ?? 60_000); // not on the start-up path: ready first, tidy later
    // The jobs file first: if the store refuses it (locked, full), no runner row is left behind.
    if (this.o.applyJobs) this.log('applied', this.o.applyJobs());
    this.store.write(() =>
      this.store.runners.register({
        id: this.id,
        kind: 'daemon',
        host: this.host,
        ...selfProcess(),
        version: VERSION,
        started_at: now,
        detail: JSON.stringify({ concurrency: this.o.concurrency }),
      }),
    );
    this.log('started', `daemon ${this.id} (tock ${VERSION}, concurrency ${this.o.concurrency}, store ${this.store.file})`);
    this.loopDone = this.loop();
  }

  /** SIGHUP: re-apply the jobs file on the next turn of the loop. */
  reload(): void {
    this.reloadRequested = true;
    this.sleeper.interrupt();
  }

  /**
   * Stops claiming, lets running targets finish for up to graceMs, then stops them and
   * leaves every occurrence in a state its semantics recover from.
   */
  async stop(): Promise<void> {
    if (this.stopping) return this.loopDone;
    this.stopping = true;
    this.log('stopping', `waiting up to ${formatDuration(this.o.graceMs)} for ${this.running.size} running target(s)`);
    this.sleeper.interrupt();
    await this.loopDone;
    const all = () => Promise.all([...this.running.values()].map((r) => r.done));
    let timer: NodeJS.Timeout | undefined;
    const graceOver = new Promise<'timeout'>((resolve) => (timer = setTimeout(() => resolve('timeout'), this.o.graceMs)));
    if ((await Promise.race([all(), graceOver])) === 'timeout') {
      for (const r of this.running.values()) r.controller.abort('daemon stopping');
      await all();
    }
    clearTimeout(timer);
    this.releaseWaiting();
    this.safely(() => this.store.write(() => this.store.runners.stop(this.id, this.clock.now())));
    this.log('stopped', `daemon ${this.id}`);
  }

  private async loop(): Promise<void> {
    while (!this.stopping) {
      let wakeAt: number;
      try {
        wakeAt = this.turn();
        this.errorDelay = 0;
      } catch (err) {
        // Store trouble (a lock, a full disk) is retried often, so work resumes within seconds
        // of the fix; anything else backs off further so a persistent fault does not flood the log.
        const cap = isTransientStoreError(err) ? 2_000 : 30_000;
        this.errorDelay = Math.min(Math.max(this.errorDelay * 2, 250), cap);
        this.log('error', `${describe(err)}; retrying in ${formatDuration(this.errorDelay)}`);
        wakeAt = this.clock.now() + this.errorDelay;
      }
      if (this.stopping) break;
      await this.sleeper.sleep(wakeAt - this.clock.now());
    }
  }

  /** One pass: notice clock jumps and job changes, claim what is due, start what waits. Returns when to wake. */
  private turn(): number {
    const now = this.clock.now();
    this.watchClock(now);
    if (this.reloadRequested && this.o.applyJobs) {
      this.reloadRequested = false;
      try {
        this.log('applied', this.o.applyJobs());
      } catch (err) {
        this.log('error', `jobs file not applied, keeping the jobs as they are: ${describe(err)}`);
      }
    }
    if (now >= this.nextPoll) {
      this.nextPoll = now + (this.o.pollMs ?? 500);
      const generation = this.store.jobs.generation();
      if (generation !== this.generation) this.loadJobs(now, generation);
      if (this.running.size > 0) this.checkCancelRequests();
    }
    if (now >= this.nextHeartbeat) {
      const idle = this.running.size === 0 && this.waiting.size === 0;
      this.nextHeartbeat = now + Math.min(idle ? IDLE_HEARTBEAT_MS : HEARTBEAT_MS, this.o.leaseMs / 3);
      this.heartbeat(now);
      this.recover(now);
    }
    if (this.pruning || now >= this.nextPrune) this.pruneStep(now);
    this.collectDue(now + CLAIM_AHEAD_MS);
    this.claimBacklog(now);
    this.startWaiting(now);
    return this.wakeAt(now);
  }

  /** A wall clock that jumps forward makes the skipped span "missed while nobody watched". */
  private watchClock(now: number): void {
    const mono = this.clock.monotonic();
    const expected = this.lastWall + (mono - this.lastMono);
    this.lastWall = now;
    this.lastMono = mono;
    if (now > expected + JUMP_MS) {
      this.log('clock', `wall clock jumped forward by ${formatDuration(now - expected)}; firings in between are handled by each job's catch-up policy`);
      this.liveSince = now; // nothing between the jump's start and now was watched
      this.generation = -1; // reload every job from its cursor
      this.nextPoll = 0;
    } else if (now < expected - JUMP_MS) {
      this.log('clock', `wall clock jumped back by ${formatDuration(expected - now)}; firings already claimed are not repeated`);
    }
  }

  private wakeAt(now: number): number {
    let at = Math.min(this.nextPoll, this.nextHeartbeat, this.pruning ? now + 1 : Infinity);
    const top = this.heap.peek();
    if (top) at = Math.min(at, top.fireAt - CLAIM_AHEAD_MS);
    // Left in the backlog with a slot free: firings claimed at their due time (see claimBacklog).
    if (this.freeSlots() > 0 && this.backlog.length > 0) {
      let first = Infinity;
      for (const e of this.backlog) {
        first = Math.min(first, e.fireAt);
        if (first <= now) break;
      }
      at = Math.min(at, Math.max(now, first));
    }
    for (const w of this.waiting.values()) at = Math.min(at, Math.max(w.at, now + (w.at <= now ? 250 : 0)));
    return at;
  }

  // ---- jobs -------------------------------------------------------------------------

  /** Reads only names and versions, then the full rows of the jobs that changed. */
  private loadJobs(now: number, generation: number): void {
    const everything = this.generation === -1;
    const seen = new Set<string>();
    let changed = 0;
    if (everything) {
      // Start-up or a clock jump: every job is rescheduled, read in one query, and the
      // catch-up records of all of them are committed together.
      this.heap.clear();
      this.store.write(() => {
        for (const row of this.store.jobs.list()) {
          seen.add(row.name);
          changed++;
          this.schedule(row, now);
        }
      });
    } else {
      for (const v of this.store.jobs.versions()) {
        seen.add(v.name);
        const current = this.jobs.get(v.name);
        if (current && current.row.version === v.version && current.row.doneAt === v.doneAt) continue;
        const row = this.store.jobs.get(v.name);
        if (!row) continue;
        changed++;
        this.schedule(row, now);
      }
    }
    for (const name of this.jobs.keys()) {
      if (!seen.has(name)) {
        this.jobs.delete(name);
        changed++;
      }
    }
    this.backlog = this.backlog.filter((e) => this.jobs.get(e.job)?.seq === e.seq);
    if (!everything && changed > 0) this.log('reloaded', `${changed} job(s) changed; ${this.jobs.size} job(s) loaded`);
    this.generation = generation;
  }

  /** (Re)computes a job's timing from its cursor: missed firings, due ones, and the next. */
  private schedule(row: JobRow, now: number): void {
    let compiled: CompiledSchedule;
    try {
      compiled = compileJob(row);
    } catch (err) {
      this.log('error', `job ${row.name} cannot be scheduled: ${describe(err)}`);
      this.jobs.delete(row.name);
      return;
    }
    const state: JobState = { row, compiled, seq: ++this.seq };
    this.jobs.set(row.name, state);
    if (row.paused || row.doneAt !== null) return;
    // Firings that came due while no daemon watched go to the catch-up policy.
    const missedUntil = Math.min(this.liveSince, now);
    const scanned = this.scanMissed(state, row.cursorAt, missedUntil);
    let t = row.cursorAt;
    if (scanned.firings.length) {
      t = scanned.firings[scanned.firings.length - 1].scheduledAt;
      this.catchUp(state, scanned.firings, now, scanned.more);
    }
    const next = compiled.next(t);
    if (next !== null) this.pushFiring(state, next);
  }

  /** Missed firings in (from, until] by fire time, the latest MISSED_SCAN_CAP of them. */
  private scanMissed(state: JobState, from: number, until: number): { firings: Firing[]; more: boolean } {
    const { compiled, row } = state;
    const out: Firing[] = [];
    let t = from;
    for (;;) {
      const next = compiled.next(t);
      if (next === null) break;
      const f = firing(row.name, row.spec.jitterMs, next);
      if (f.fireAt > until) break;
      out.push(f);
      t = next;
      if (out.length > MISSED_SCAN_CAP) {
        // Too many to walk forward: take the latest ones, walking back from `until`.
        const latest: Firing[] = [];
        let b = until + 1;
        while (latest.length < MISSED_SCAN_CAP) {
          const prev = compiled.prev(b);
          if (prev === null || prev <= from) break;
          const pf = firing(row.name, row.spec.jitterMs, prev);
          if (pf.fireAt <= until) latest.unshift(pf);
          b = prev;
        }
        return { firings: latest, more: true };
      }
    }
    return { firings: out, more: false };
  }

  private pushFiring(state: JobState, scheduledAt: number): void {
    const { key, fireAt } = firing(state.row.name, state.row.spec.jitterMs, scheduledAt);
    this.heap.push({ scheduledAt, fireAt, key, job: state.row.name, seq: state.seq });
  }

  /** Pops every firing due by `until` into the backlog, pushing each job's following one. */
  private collectDue(until: number): void {
    for (let top = this.heap.peek(); top && top.fireAt <= until; top = this.heap.peek()) {
      this.heap.pop();
      const state = this.jobs.get(top.job);
      if (!state || state.seq !== top.seq) continue; // the job changed or went away
      this.backlog.push(top);
      const next = state.compiled.next(top.scheduledAt);
      if (next !== null && state.row.spec.schedule.kind !== 'at') this.pushFiring(state, next);
    }
  }

  // ---- claiming ---------------------------------------------------------------------

  private freeSlots(): number {
    return Math.max(0, this.o.concurrency - this.running.size);
  }

  /** Claims due firings for the free slots in one transaction of their own. */
  private claimBacklog(now: number): void {
    if (this.backlog.length === 0 || this.stopping) return;
    const slots = this.freeSlots();
    if (slots === 0) return; // the rest wait for a slot (another daemon may take them)
    this.applyClaims(this.store.write(() => this.claimDue(now, slots)));
  }

  /**
   * Rides in the transaction that records finished targets: the slots they free are
   * claimed in the same commit, so a busy daemon commits once per batch, not twice (on a
   * store shared by several daemons the write lock, held for each commit, is the limit).
   * Returns what to do once that transaction has committed.
   */
  private claimAlongside(finished: Outcome[]): (() => void) | undefined {
    if (this.backlog.length === 0 || this.stopping) return undefined;
    const slots = this.freeSlots() + finished.filter((o) => this.running.has(o.occ.id)).length;
    if (slots === 0) return undefined;
    let plan: ClaimPlan;
    try {
      // Nested in the results' transaction, so a savepoint: if claiming fails, it alone is
      // undone and the results still commit. The next turn's claimBacklog meets the same
      // trouble and reports it.
      plan = this.store.writeRaw(() => this.claimDue(this.clock.now(), slots));
    } catch {
      return undefined;
    }
    return () => this.applyClaims(plan);
  }

  /**
   * Claims due firings from the backlog for up to `slots` new targets, inside the caller's
   * transaction, deciding overlap inside it so several daemons agree. It changes nothing
   * but the store: the plan it returns is applied (targets launched, waits noted, lines
   * logged) only once the transaction has committed, so a rolled-back claim leaves no trace.
   */
  private claimDue(now: number, slots: number): ClaimPlan {
    const backlog = this.backlog;
    const plan: ClaimPlan = { backlog, walked: 0, kept: [], toStart: [], cancels: [], queued: [], replaced: [], logs: [] };
    // Stops when the slots are taken: the rest wait for a slot (another daemon may take them).
    for (; plan.walked < backlog.length && slots > 0; plan.walked++) {
      const e = backlog[plan.walked];
      const state = this.jobs.get(e.job);
      if (!state || state.seq !== e.seq) continue; // the job changed or went away
      const outcome = this.claimOne(state, e, now, plan);
      if (outcome === 'not-yet') plan.kept.push(e);
      else if (outcome && outcome.state === 'running') {
        slots--;
        plan.toStart.push({ occ: outcome, state });
      }
    }
    return plan;
  }

  private applyClaims(plan: ClaimPlan): void {
    // A plan is applied right after the commit it was made in, so the backlog is the one it
    // walked: the entries dealt with are dropped from its start, in time proportional to
    // them (a filter over all of it, per pass, cost a daemon with 20,000 due firings ~4 %
    // of its time). Should the backlog have been replaced meanwhile, by identity instead.
    if (this.backlog === plan.backlog) {
      if (plan.kept.length === 0) this.backlog.splice(0, plan.walked);
      else this.backlog = plan.kept.concat(this.backlog.slice(plan.walked));
    } else {
      const dealt = new Set(plan.backlog.slice(0, plan.walked).filter((e) => !plan.kept.includes(e)));
      this.backlog = this.backlog.filter((e) => !dealt.has(e));
    }
    for (const [event, text] of plan.logs) this.log(event, text);
    for (const id of plan.replaced) this.waiting.delete(id);
    for (const w of plan.queued) this.waiting.set(w.id, w);
    for (const id of plan.cancels) this.running.get(id)?.controller.abort(`replaced by a newer occurrence`);
    for (const { occ, state } of plan.toStart) this.launch(occ, state.row.spec, 1);
  }

  /**
   * Claims one firing under its key; returns the row if this daemon won it, undefined if
   * another process owns it, or 'not-yet' if it is claimed ahead of time but overlap must
   * be judged at its due time.
   */
  private claimOne(state: JobState, f: Firing, now: number, plan: ClaimPlan): OccurrenceRow | undefined | 'not-yet' {
    const { row } = state;
    const spec = row.spec;
    // Lost to another daemon already: one index probe, nothing more.
    if (this.store.occurrences.taken(f.key)) return undefined;
    // "Still running": a running target, or one waiting to retry. Queued or caught-up
    // occurrences that have not started do not make a new firing overlap.
    const active =
      spec.overlap === 'allow'
        ? []
        : this.store.occurrences
            .active(row.name)
            .filter((a) => a.state === 'running' || a.attempts > 0 || spec.overlap === 'queue');
    // The previous occurrence may yet end before this one is due: decide at the due time.
    if (active.length > 0 && f.fireAt > now) return 'not-yet';
    const base = {
      job: row.name,
      key: f.key,
      scheduledAt: f.scheduledAt,
      fireAt: f.fireAt,
      origin: 'schedule' as const,
      delivery: spec.delivery,
      jobVersion: row.version,
      leaseOwner: this.id,
      leaseExpiresAt: now + this.o.leaseMs,
      now,
    };
    let occ: OccurrenceRow | undefined;
    if (active.length > 0 && spec.overlap === 'skip') {
      occ = this.store.occurrences.claim({ ...base, state: 'skipped', reason: `occurrence #${active[0].id} was still ${active[0].state} (overlap: skip)` });
      if (occ) plan.logs.push(['skipped', `${row.name} #${occ.id} ${iso(f.scheduledAt)}: previous occurrence #${active[0].id} still ${active[0].state}`]);
    } else if (active.length > 0 && spec.overlap === 'queue') {
      occ = this.store.occurrences.claim({ ...base, state: 'pending', reason: `queued behind occurrence #${active[0].id}` });
      if (occ) {
        plan.queued.push({ id: occ.id, job: row.name, at: f.fireAt, scheduledAt: f.scheduledAt });
        plan.logs.push(['queued', `${row.name} #${occ.id} ${iso(f.scheduledAt)}: behind occurrence #${active[0].id}`]);
      }
    } else {
      for (const a of active) {
        // overlap: replace
        if (a.state === 'running') {
          this.store.occurrences.requestCancel(a.id, `replaced by ${f.key}`);
          plan.cancels.push(a.id);
        } else {
          this.store.occurrences.finish(a.id, 'failed', `replaced by ${f.key} before it ran again`, now);
          plan.replaced.push(a.id);
        }
        plan.logs.push(['replaced', `${row.name} #${a.id} is being stopped: replaced by the firing at ${iso(f.scheduledAt)}`]);
      }
      occ = this.store.occurrences.claim({ ...base, state: 'running', startsAt: Math.max(now, f.fireAt) });
    }
    // With the cursor, for `tock list`: the firing after this one (no schedule work for it).
    this.store.jobs.advance(row.name, row.version, f.scheduledAt, state.compiled.next(f.scheduledAt));
    if (spec.schedule.kind === 'at') this.store.jobs.markDone(row.name, now);
    return occ;
  }

  /** Records missed firings and queues the ones the catch-up policy executes. */
  private catchUp(state: JobState, missed: Firing[], now: number, more: boolean): void {
    const { row } = state;
    const plan = planCatchup(row.spec, missed, now);
    const claim = (f: Firing, rest: Pick<NewOccurrence, 'state' | 'reason' | 'leaseOwner' | 'leaseExpiresAt'>) =>
      this.store.occurrences.claim({
        job: row.name,
        key: f.key,
        scheduledAt: f.scheduledAt,
        fireAt: f.fireAt,
        origin: 'catchup',
        delivery: row.spec.delivery,
        jobVersion: row.version,
        now,
        ...rest,
      });
    let queued = 0;
    let recorded = 0;
    this.store.write(() => {
      for (const { firing: f, reason } of plan.missed) if (claim(f, { state: 'missed', reason })) recorded++;
      for (const f of plan.execute) {
        const lease = { leaseOwner: this.id, leaseExpiresAt: now + this.o.leaseMs };
        const occ = claim(f, { state: 'pending', reason: 'caught up after downtime', ...lease });
        if (!occ) continue;
        queued++;
        this.waiting.set(occ.id, { id: occ.id, job: row.name, at: now, scheduledAt: f.scheduledAt });
      }
      const last = missed[missed.length - 1].scheduledAt;
      this.store.jobs.advance(row.name, row.version, last, state.compiled.next(last));
      if (row.spec.schedule.kind === 'at') this.store.jobs.markDone(row.name, now);
    });
    const only = more ? '+ (only the latest are recorded)' : '';
    if (recorded) this.log('missed', `${row.name}: ${recorded}${only} firing(s) missed while no daemon ran (catchup: ${row.spec.catchup})`);
    if (queued) this.log('catchup', `${row.name}: ${queued} missed firing(s) will run now, oldest first`);
  }

  // ---- executing --------------------------------------------------------------------

  private launch(occ: OccurrenceRow, spec: JobSpec, n: number): void {
    const controller = new AbortController();
    const entry: Running = { occ, spec, n, controller, done: Promise.resolve() };
    this.running.set(occ.id, entry);
    // Claimed ahead (CLAIM_AHEAD_MS): the target starts at its due instant, on a timer of its own.
    const early = occ.fire_at - this.clock.now();
    const started = early > 0 ? delay(early) : Promise.resolve();
    entry.done = started
      .then(() => {
        this.log('fired', `${occ.job} #${occ.id} ${iso(occ.scheduled_at)} (${occ.origin}, attempt ${n}, key ${occ.idempotency_key})`);
        return this.execute(entry);
      })
      .finally(() => {
        this.running.delete(occ.id);
        // A slot is free, and what was queued behind this occurrence may start now.
        const now = this.clock.now();
        for (const w of this.waiting.values()) if (w.job === occ.job && w.at > now && w.queued) w.at = now;
        this.sleeper.interrupt();
      });
  }

  private async execute(r: Running): Promise<void> {
    const { occ, spec, n } = r;
    const result = await runTarget(this.deps, occ, spec, n, r.controller.signal);
    if (result.outcome === 'cancelled' && this.stopping) return this.afterShutdownCancel(r, result);
    let recorded;
    try {
      recorded = await this.recorder.record({ occ, spec, n, result });
    } catch (err) {
      this.log('error', `${occ.job} #${occ.id}: result not recorded (${describe(err)}); the lease will expire and the semantics decide`);
      return;
    }
    const took = formatDuration(Math.max(0, result.finishedAt - result.startedAt));
    switch (recorded.kind) {
      case 'succeeded':
        this.log('succeeded', `${occ.job} #${occ.id} in ${took}${result.httpStatus ? ` (HTTP ${result.httpStatus})` : ''}`);
        break;
      case 'failed':
        this.log('failed', `${occ.job} #${occ.id} after ${took}: ${recorded.reason}`);
        break;
      case 'retry':
        this.log('retrying', `${occ.job} #${occ.id} in ${formatDuration(recorded.delayMs)}: attempt ${n} ${recorded.reason}`);
        this.waiting.set(occ.id, { id: occ.id, job: occ.job, at: this.clock.now() + recorded.delayMs, scheduledAt: occ.scheduled_at });
        break;
      case 'lost':
        this.log('error', `${occ.job} #${occ.id}: attempt ${n} recorded, but ${recorded.reason}`);
        break;
    }
  }

  /** A target stopped because the daemon is stopping: at-most-once is abandoned, others handed back. */
  private async afterShutdownCancel(r: Running, result: import('../types.js').AttemptResult): Promise<void> {
    const { occ, spec, n } = r;
    const verdict = onShutdown(spec.delivery);
    this.safely(() =>
      this.store.write(() => {
        this.store.occurrences.finishAttempt(occ.id, n, { ...result, error: 'stopped: the daemon is shutting down' });
        if (verdict === 'abandon') {
          this.store.occurrences.finish(occ.id, 'abandoned', 'the daemon stopped while the target ran (at-most-once: never re-run)', this.clock.now());
        } else {
          this.store.occurrences.release(occ.id, 'released: the daemon stopped while the target ran; any daemon re-runs it', this.clock.now());
        }
      }),
    );
    this.log(verdict === 'abandon' ? 'abandoned' : 'released', `${occ.job} #${occ.id}: stopped by shutdown`);
  }

  /** Starts pending occurrences this daemon holds whose time has come: retries, queued, caught up. */
  private startWaiting(now: number): void {
    if (this.stopping || this.waiting.size === 0) return;
    const due = [...this.waiting.values()].filter((w) => w.at <= now).sort((a, b) => a.scheduledAt - b.scheduledAt || a.id - b.id);
    for (const w of due) {
      if (this.freeSlots() === 0) return;
      const started = this.store.write(() => this.startPending(w, now));
      if (started) this.launch(started.occ, started.spec, started.n);
    }
  }

  private startPending(w: Waiting, now: number): { occ: OccurrenceRow; spec: JobSpec; n: number } | undefined {
    const occ = this.store.occurrences.byId(w.id);
    if (!occ || occ.state !== 'pending' || occ.lease_owner !== this.id) {
      this.waiting.delete(w.id);
      return undefined;
    }
    const spec = this.jobs.get(occ.job)?.row.spec;
    if (!spec) {
      this.store.occurrences.finish(occ.id, 'failed', `job ${occ.job} was removed before the occurrence could run`, now);
      this.waiting.delete(w.id);
      return undefined;
    }
    const others = this.store.occurrences.active(occ.job).filter((a) => a.id !== occ.id);
    const isRetry = occ.attempts > 0;
    // A queued or caught-up occurrence waits for the one before it; a retry continues its own run.
    if (!isRetry && spec.overlap !== 'allow' && others.some((a) => a.state === 'running' || a.scheduled_at < occ.scheduled_at)) {
      // Woken when an occurrence of this job ends here; the poll covers one ending elsewhere.
      w.queued = true;
      w.at = now + 1_000;
      return undefined;
    }
    const n = occ.attempts + 1;
    const afterRunnerLoss = /^(recovered|released)/.test(occ.reason ?? '');
    const trigger = afterRunnerLoss ? 'recovery' : isRetry ? 'backoff' : occ.trigger;
    this.store.occurrences.startAttempt(occ.id, n, trigger, this.id, now + this.o.leaseMs, now);
    this.waiting.delete(w.id);
    return { occ: { ...occ, state: 'running', attempts: n }, spec, n };
  }

  private checkCancelRequests(): void {
    for (const c of this.store.occurrences.cancelRequests(this.id)) {
      const r = this.running.get(c.id);
      if (r && !r.controller.signal.aborted) r.controller.abort(c.cancel_reason);
    }
  }

  // ---- leases -----------------------------------------------------------------------

  private heartbeat(now: number): void {
    this.store.write(() => {
      this.store.runners.heartbeat(this.id, now);
      this.store.occurrences.renewLeases(this.id, now + this.o.leaseMs);
    });
  }

  /** Occurrences whose runner is gone: abandon (at-most-once) or re-run with the same key. */
  private recover(now: number): void {
    const owners = new Map<string, OwnerState>();
    for (const o of this.store.occurrences.allActive()) {
      if (o.lease_owner === this.id) continue;
      const lapse = this.lapse(o, now, owners);
      if (lapse) this.store.write(() => this.recoverOne(o, lapse, now));
    }
  }

  /** Why the occurrence's runner no longer holds it, or undefined while it does. */
  private lapse(o: OccurrenceRow, now: number, owners: Map<string, OwnerState>): string | undefined {
    if (o.lease_owner === null) return 'no runner held it';
    let owner = owners.get(o.lease_owner);
    if (owner === undefined) {
      owner = this.ownerState(o.lease_owner);
      owners.set(o.lease_owner, owner);
    }
    if (owner === 'exited') return `runner ${o.lease_owner} exited`;
    if (owner === 'dead') return `runner ${o.lease_owner} died`;
    // Alive but silent (stopped, hung), or out of our sight (another host, container or
    // PID namespace): the lease alone decides, and it cannot tell which.
    if ((o.lease_expires_at ?? 0) < now) return `runner ${o.lease_owner} stopped renewing its lease (dead or unresponsive)`;
    return undefined;
  }

  private ownerState(id: string): OwnerState {
    const owner = this.store.runners.byId(id);
    if (!owner || owner.stopped_at !== null) return 'exited';
    return judge(owner) === 'dead' ? 'dead' : 'leased';
  }

  private recoverOne(o: OccurrenceRow, lapse: string, now: number): void {
    const spec = this.jobs.get(o.job)?.row.spec;
    const previous = o.lease_owner;
    if (!this.store.occurrences.takeOver(o, this.id, now + this.o.leaseMs, o.state === 'running')) return;
    if (o.state === 'pending') {
      this.waiting.set(o.id, { id: o.id, job: o.job, at: Math.max(o.next_attempt_at ?? now, now), scheduledAt: o.scheduled_at });
      this.log('recovered', `${o.job} #${o.id}: pending occurrence taken over from ${previous ?? 'nobody'}`);
      return;
    }
    const verdict = onLeaseExpired(o.delivery, o.recoveries);
    const why = `${lapse} while the target ran`;
    this.store.occurrences.abandonAttempt(o.id, o.attempts, why, now);
    if (verdict === 'abandon') {
      this.store.occurrences.finish(o.id, 'abandoned', `${why}; at-most-once: never re-run`, now);
      this.log('abandoned', `${o.job} #${o.id}: ${why} (at-most-once: not re-run)`);
    } else if (verdict === 'give-up' || !spec) {
      const reason = spec ? `${why}; gave up after ${o.recoveries} re-runs` : `${why}; job ${o.job} no longer exists`;
      this.store.occurrences.finish(o.id, 'failed', reason, now);
      this.log('failed', `${o.job} #${o.id}: ${reason}`);
    } else {
      this.store.occurrences.waitForRetry(o.id, now, `recovered: ${why}`);
      this.waiting.set(o.id, { id: o.id, job: o.job, at: now, scheduledAt: o.scheduled_at });
      // Only what that runner of this store started for this occurrence: never another store's.
      const killed = previous === null ? 0 : killOrphans({ storeId: this.store.id, runnerId: previous, occurrenceId: o.id });
      const orphans = killed ? `; killed ${killed} leftover process group(s) of the previous attempt` : '';
      this.log('recovered', `${o.job} #${o.id}: ${why}; re-running with the same key ${o.idempotency_key}${orphans}`);
    }
  }

  /** On shutdown: pending occurrences this daemon holds go back to the pool at once. */
  private releaseWaiting(): void {
    if (this.waiting.size === 0) return;
    this.safely(() =>
      this.store.write(() => {
        for (const w of this.waiting.values()) {
          const occ = this.store.occurrences.byId(w.id);
          if (occ?.state === 'pending' && occ.lease_owner === this.id) {
            this.store.occurrences.release(occ.id, occ.reason ?? 'released by a stopping daemon', Math.max(w.at, this.clock.now()));
          }
        }
      }),
    );
    this.waiting.clear();
  }

  /**
   * Retention, a little per turn of the loop: each step deletes at most PRUNE_BATCH rows
   * in one short transaction, so firings due meanwhile are not held up (one pass over
   * 1,000,000 rows in a single statement stopped the loop for 1.3 s).
   */
  private pruneStep(now: number): void {
    if (!this.pruning) {
      this.nextPrune = now + PRUNE_EVERY_MS;
      this.pruning = { before: now - this.o.keepDays * 86_400_000, oldDone: false, after: '', jobsDone: false, total: 0 };
    }
    const p = this.pruning;
    this.store.write(() => {
      if (!p.oldDone) {
        const n = this.store.occurrences.pruneOld(p.before, PRUNE_BATCH);
        p.total += n;
        p.oldDone = n < PRUNE_BATCH;
        return;
      }
      let budget = PRUNE_BATCH;
      for (let jobs = 0; jobs < PRUNE_JOBS_PER_STEP && budget > 0; jobs++) {
        const job = this.store.occurrences.nextJobWithHistory(p.after);
        if (job === undefined) {
          p.jobsDone = true;
          return;
        }
        const n = this.store.occurrences.pruneJob(job, this.o.keepRuns, budget);
        p.total += n;
        budget -= n;
        if (budget === 0) return; // this job may have more: it is looked at again next step
        p.after = job;
      }
    });
    if (!p.jobsDone) return;
    this.pruning = undefined;
    this.store.write(() => this.store.runners.forget(now - 7 * 86_400_000));
    if (p.total) this.log('pruned', `${p.total} occurrence(s) beyond retention (${this.o.keepDays} days, ${this.o.keepRuns} per job)`);
  }

  private safely(fn: () => void): void {
    try {
      fn();
    } catch (err) {
      this.log('error', describe(err));
    }
  }

  /** For tests and `status`: what this daemon holds. */
  snapshot() {
    return { running: this.running.size, waiting: this.waiting.size, backlog: this.backlog.length, jobs: this.jobs.size };
  }
}

export { failuresSince };

function iso(ms: number): string {
  return new Date(ms).toISOString();
}

function describe(err: unknown): string {
  const e = err as { message?: string };
  return e?.message ?? String(err);
}
