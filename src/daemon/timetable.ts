// The timetable: every job's schedule, a heap of their next firings, the firings missed
// while no daemon watched (handed to each job's catch-up policy), and the wall clock
// watched for jumps. It decides what is due when; the claimer decides who runs it.

import type { FiringRequest, Job, MissedRequest, Occurrence } from '../store/backend.js';
import { compileJob, firing, type Firing } from '../schedule/for-job.js';
import { formatDuration, type CompiledSchedule } from '../schedule/index.js';
import { planCatchup } from '../semantics/catchup.js';
import type { JobSpec } from '../types.js';
import { describe, type RoleContext } from './context.js';
import { MinHeap } from './heap.js';
import { scanMissed } from './missed.js';

interface JobState {
  job: Job;
  compiled: CompiledSchedule;
  /** Bumped whenever the job is (re)loaded, so stale heap entries are recognised. */
  seq: number;
}

/** A firing of a job as loaded (seq), with the one after it, remembered for `tock list`. */
export interface DueFiring extends Firing {
  job: string;
  seq: number;
  following: number | null;
}

/** A job (re)scheduled by a load, applied once its missed firings are recorded. */
interface Staged {
  state: JobState;
  next: number | null;
  missed?: MissedRequest;
  more?: boolean;
}

/** How far behind the monotonic clock the wall clock may get before it counts as a jump. */
const JUMP_MS = 5_000;

export class Timetable {
  private readonly jobs = new Map<string, JobState>();
  private readonly heap = new MinHeap<DueFiring>((e) => e.fireAt);
  private seq = 0;
  private generation = -1;
  private liveSince = 0;
  private lastWall = 0;
  private lastMono = 0;

  constructor(private readonly ctx: RoleContext) {}

  begin(now: number): void {
    this.liveSince = now;
    this.lastWall = now;
    this.lastMono = this.ctx.clock.monotonic();
  }

  get size(): number {
    return this.jobs.size;
  }

  spec(job: string): JobSpec | undefined {
    return this.jobs.get(job)?.job.spec;
  }

  /**
   * A wall clock that jumps forward makes the skipped span "missed while nobody watched":
   * true when every job must be reloaded from its cursor.
   */
  watchClock(now: number): boolean {
    const mono = this.ctx.clock.monotonic();
    const expected = this.lastWall + (mono - this.lastMono);
    this.lastWall = now;
    this.lastMono = mono;
    if (now > expected + JUMP_MS) {
      this.ctx.log('clock', `wall clock jumped forward by ${formatDuration(now - expected)}; firings in between are handled by each job's catch-up policy`);
      this.liveSince = now; // nothing between the jump's start and now was watched
      this.generation = -1; // reload every job from its cursor
      return true;
    }
    if (now < expected - JUMP_MS) {
      this.ctx.log('clock', `wall clock jumped back by ${formatDuration(expected - now)}; firings already claimed are not repeated`);
    }
    return false;
  }

  changed(generation: number): boolean {
    return generation !== this.generation;
  }

  /**
   * Start-up or a clock jump: every job, read in one query, their catch-up records committed
   * together. Otherwise names and versions only, then the jobs that changed. Returns the
   * caught-up occurrences to run now.
   */
  async load(now: number, generation: number): Promise<Occurrence[]> {
    const everything = this.generation === -1;
    const { jobs, seen } = everything ? await this.all() : await this.changedJobs();
    let changed = jobs.length;
    const staged = jobs.map((j) => this.stage(j, now)).filter((s) => s !== undefined);
    const requests = staged.flatMap((s) => (s.missed ? [s.missed] : []));
    const results = requests.length ? await this.ctx.backend.recordMissed(this.ctx.id, now, this.ctx.leaseMs, requests) : [];
    // Written: only now does the timetable change, so a failed write is simply loaded again.
    if (everything) this.heap.clear();
    for (const name of jobs.map((j) => j.name)) this.jobs.delete(name);
    for (const s of staged) this.apply(s);
    for (const name of [...this.jobs.keys()]) {
      if (!seen.has(name)) {
        this.jobs.delete(name);
        changed++;
      }
    }
    if (!everything && changed > 0) this.ctx.log('reloaded', `${changed} job(s) changed; ${this.jobs.size} job(s) loaded`);
    this.generation = generation;
    return this.logMissed(staged, results);
  }

  private async all(): Promise<{ jobs: Job[]; seen: Set<string> }> {
    const jobs = await this.ctx.backend.listJobs();
    return { jobs, seen: new Set(jobs.map((j) => j.name)) };
  }

  private async changedJobs(): Promise<{ jobs: Job[]; seen: Set<string> }> {
    const seen = new Set<string>();
    const jobs: Job[] = [];
    for (const v of await this.ctx.backend.jobVersions()) {
      seen.add(v.name);
      const current = this.jobs.get(v.name);
      if (current && current.job.version === v.version && current.job.doneAt === v.doneAt) continue;
      const job = await this.ctx.backend.getJob(v.name);
      if (job) jobs.push(job);
    }
    return { jobs, seen };
  }

  /** (Re)computes a job's timing from its cursor: missed firings, and the next. */
  private stage(job: Job, now: number): Staged | undefined {
    let compiled: CompiledSchedule;
    try {
      compiled = compileJob(job);
    } catch (err) {
      this.ctx.log('error', `job ${job.name} cannot be scheduled: ${describe(err)}`);
      return undefined;
    }
    const state: JobState = { job, compiled, seq: ++this.seq };
    if (job.paused || job.doneAt !== null) return { state, next: null };
    // Firings that came due while no daemon watched go to the catch-up policy.
    const scanned = scanMissed(compiled, job, job.cursorAt, Math.min(this.liveSince, now));
    if (scanned.firings.length === 0) return { state, next: compiled.next(job.cursorAt) };
    const last = scanned.firings[scanned.firings.length - 1].scheduledAt;
    const next = compiled.next(last);
    const plan = planCatchup(job.spec, scanned.firings, now);
    const missed: MissedRequest = {
      job: job.name,
      jobVersion: job.version,
      delivery: job.spec.delivery,
      once: job.spec.schedule.kind === 'at',
      missed: plan.missed.map(({ firing: f, reason }) => ({ key: f.key, scheduledAt: f.scheduledAt, fireAt: f.fireAt, reason })),
      execute: plan.execute.map((f) => ({ key: f.key, scheduledAt: f.scheduledAt, fireAt: f.fireAt })),
      following: next,
    };
    return { state, next, missed, more: scanned.more };
  }

  private apply(s: Staged): void {
    this.jobs.set(s.state.job.name, s.state);
    if (s.next !== null && !s.state.job.paused && s.state.job.doneAt === null) this.pushFiring(s.state, s.next);
  }

  private logMissed(staged: Staged[], results: { job: string; recorded: number; queued: Occurrence[] }[]): Occurrence[] {
    const byJob = new Map(staged.map((s) => [s.state.job.name, s]));
    const queued: Occurrence[] = [];
    for (const r of results) {
      const s = byJob.get(r.job)!;
      const only = s.more ? '+ (only the latest are recorded)' : '';
      if (r.recorded) this.ctx.log('missed', `${r.job}: ${r.recorded}${only} firing(s) missed while no daemon ran (catchup: ${s.state.job.spec.catchup})`);
      if (r.queued.length) this.ctx.log('catchup', `${r.job}: ${r.queued.length} missed firing(s) will run now, oldest first`);
      queued.push(...r.queued);
    }
    return queued;
  }

  private pushFiring(state: JobState, scheduledAt: number): void {
    const { key, fireAt } = firing(state.job.name, state.job.spec.jitterMs, scheduledAt);
    this.heap.push({ scheduledAt, fireAt, key, job: state.job.name, seq: state.seq, following: null });
  }

  /** When the earliest firing in the heap is due, if any. */
  nextFireAt(): number | undefined {
    return this.heap.peek()?.fireAt;
  }

  /** Pops every firing due by `until` into `due`, pushing each job's following one. */
  collectDue(until: number, due: (e: DueFiring) => void): void {
    for (let top = this.heap.peek(); top && top.fireAt <= until; top = this.heap.peek()) {
      this.heap.pop();
      const state = this.jobs.get(top.job);
      if (!state || state.seq !== top.seq) continue; // the job changed or went away
      const next = state.compiled.next(top.scheduledAt);
      top.following = next;
      due(top);
      if (next !== null && state.job.spec.schedule.kind !== 'at') this.pushFiring(state, next);
    }
  }

  /** Whether the firing belongs to the job as loaded now. */
  current(e: DueFiring): boolean {
    return this.jobs.get(e.job)?.seq === e.seq;
  }

  /** The claim request for a firing, with the spec it was made for; undefined if the job changed or went away. */
  request(e: DueFiring): { firing: FiringRequest; spec: JobSpec } | undefined {
    const state = this.jobs.get(e.job);
    if (!state || state.seq !== e.seq) return undefined;
    const { spec, version } = state.job;
    const f: FiringRequest = {
      job: e.job,
      jobVersion: version,
      key: e.key,
      scheduledAt: e.scheduledAt,
      fireAt: e.fireAt,
      delivery: spec.delivery,
      overlap: spec.overlap,
      once: spec.schedule.kind === 'at',
      following: e.following,
    };
    return { firing: f, spec };
  }
}
