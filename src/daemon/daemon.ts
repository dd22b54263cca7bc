// The daemon loop: due firings -> claim -> execute -> record, turned by roles of their own
// (timetable, claimer, slots, waitlist, recorder, leases, retention) over an awaited
// Backend. It sleeps until the next due instant, re-reads the clock on waking, and polls
// one counter twice a second so a change made from another shell takes effect within a second.

import os from 'node:os';
import type { Backend } from '../store/backend.js';
import { formatDuration } from '../schedule/index.js';
import { VERSION } from '../types.js';
import { Claimer } from './claimer.js';
import { Sleeper, systemClock, type Clock } from './clock.js';
import { describe, isTransient, type RoleContext } from './context.js';
import { newRunnerId, selfProcess } from './identity.js';
import { Leases } from './leases.js';
import type { Logger } from './log.js';
import type { Observer } from '../observe/observer.js';
import { Recorder } from './recorder.js';
import { Retention } from './retention.js';
import { Slots } from './slots.js';
import type { Execute } from './target.js';
import { Timetable } from './timetable.js';
import { Waitlist } from './waiting.js';
import { Notifier } from './notifier.js';
import { Watch } from './watch.js';

export interface DaemonOptions {
  backend: Backend;
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
  applyJobs?: () => string | Promise<string>;
  /** Called after each turn of the loop with the instant it began: tests await it instead of sleeping. */
  onTurn?: (now: number) => void;
  /** With --listen: what the roles observe, for /metrics and /healthz (src/observe/). */
  observer?: Observer;
}

/**
 * Firings are claimed this long before they are due, and their targets started by a timer
 * at the due instant: the claim's synchronous commit (an fsync, up to tens of ms on a busy
 * disk) is then off the path between the timer and the target, and firings due close
 * together share one commit. A claim is still on disk before its target starts.
 */
const CLAIM_AHEAD_MS = 25;

export class Daemon {
  readonly id = newRunnerId();
  private readonly ctx: RoleContext;
  private readonly sleeper = new Sleeper();
  private readonly timetable: Timetable;
  private readonly waiting: Waitlist;
  private readonly slots: Slots;
  private readonly claimer: Claimer;
  private readonly leases: Leases;
  private readonly retention: Retention;
  private readonly notifier: Notifier;
  private readonly watch: Watch;
  private stopping = false;
  private nextPoll = 0;
  private errorDelay = 0;
  private reloadRequested = false;
  private loopDone: Promise<void> | undefined;

  constructor(private readonly o: DaemonOptions) {
    const clock = o.clock ?? systemClock;
    const ctx: RoleContext = {
      backend: o.backend,
      id: this.id,
      clock,
      log: o.log,
      leaseMs: o.leaseMs,
      stopping: () => this.stopping,
      wake: () => this.sleeper.interrupt(),
      observer: o.observer,
    };
    this.ctx = ctx;
    this.timetable = new Timetable(ctx);
    const spec = (job: string) => this.timetable.spec(job);
    this.waiting = new Waitlist(ctx, spec);
    const runner = { storeId: '', runnerId: this.id, env: o.env ?? process.env, execute: o.execute, killGraceMs: o.killGraceMs };
    let recorder: Recorder | undefined;
    this.slots = new Slots(ctx, o.concurrency, runner, this.waiting, (f) => recorder!.record(f));
    this.claimer = new Claimer(ctx, this.timetable, this.slots, this.waiting);
    recorder = new Recorder(ctx, this.claimer, this.slots, o.random ?? Math.random);
    this.leases = new Leases(ctx, this.slots, this.waiting, (job) => spec(job) !== undefined);
    this.retention = new Retention(ctx, { keepDays: o.keepDays, keepRuns: o.keepRuns, firstPruneMs: o.firstPruneMs ?? 60_000 });
    this.notifier = new Notifier(ctx, { env: runner.env, storeId: () => this.slots.runner.storeId });
    this.slots.watch = this.watch = new Watch(ctx);
  }

  /** Registers, loads the jobs and recovers what dead runners left (the loop's first turn), then returns. */
  async start(): Promise<void> {
    const { backend, clock, log } = this.ctx;
    const now = clock.now();
    this.timetable.begin(now);
    this.retention.begin(now);
    // The jobs file first: if the store refuses it (locked, full), no runner row is left behind.
    if (this.o.applyJobs) log('applied', await this.o.applyJobs());
    this.slots.runner.storeId = await backend.storeId();
    const detail = JSON.stringify({ concurrency: this.o.concurrency });
    const { pid, boot_id: bootId, pid_ns: pidNs, start_ticks: startTicks } = selfProcess();
    await backend.registerRunner({ id: this.id, kind: 'daemon', host: os.hostname(), pid, bootId, pidNs, startTicks, version: VERSION, startedAt: now, detail });
    log('started', `daemon ${this.id} (tock ${VERSION}, concurrency ${this.o.concurrency}, store ${backend.location})`);
    let firstTurn = () => {};
    const turned = new Promise<void>((resolve) => (firstTurn = resolve));
    this.loopDone = this.loop(firstTurn);
    this.notifier.start();
    await turned;
  }

  /** Cuts the loop's sleep short: its next turn runs now (tests that move a fake clock). */
  wake(): void {
    this.sleeper.interrupt();
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
    const { backend, clock, log } = this.ctx;
    this.stopping = true;
    log('stopping', `waiting up to ${formatDuration(this.o.graceMs)} for ${this.slots.size} running target(s)`);
    this.sleeper.interrupt();
    await this.loopDone;
    await this.slots.drain(this.o.graceMs);
    await this.waiting.release(clock.now());
    this.watch.stop();
    await this.notifier.stop();
    await backend.stopRunner(this.id, clock.now()).catch((err) => log('error', describe(err)));
    log('stopped', `daemon ${this.id}`);
  }

  private async loop(firstTurn: () => void): Promise<void> {
    while (!this.stopping) {
      let wakeAt: number;
      const began = this.ctx.clock.now();
      try {
        wakeAt = await this.turn(began);
        this.errorDelay = 0;
        this.o.observer?.turned(began);
      } catch (err) {
        this.o.observer?.turned(began, err);
        // Store trouble (a lock, a full disk) is retried often, so work resumes within seconds
        // of the fix; anything else backs off further so a persistent fault does not flood the log.
        const cap = isTransient(err) ? 2_000 : 30_000;
        this.errorDelay = Math.min(Math.max(this.errorDelay * 2, 250), cap);
        this.ctx.log('error', `${describe(err)}; retrying in ${formatDuration(this.errorDelay)}`);
        wakeAt = this.ctx.clock.now() + this.errorDelay;
      }
      firstTurn();
      this.o.onTurn?.(began);
      if (this.stopping) break;
      await this.sleeper.sleep(wakeAt - this.ctx.clock.now());
    }
    firstTurn();
  }

  /** One pass: notice clock jumps and job changes, claim what is due, start what waits. Returns when to wake. */
  private async turn(now: number): Promise<number> {
    if (this.timetable.watchClock(now)) this.nextPoll = 0;
    if (this.reloadRequested && this.o.applyJobs) await this.reapply();
    if (now >= this.nextPoll) await this.poll(now);
    await this.leases.tend(now);
    await this.retention.step(now);
    this.timetable.collectDue(now + CLAIM_AHEAD_MS, (e) => this.claimer.add(e));
    await this.claimer.claimBacklog(now);
    await this.waiting.startDue(now, this.slots);
    return this.wakeAt(now);
  }

  private async reapply(): Promise<void> {
    this.reloadRequested = false;
    try {
      this.ctx.log('applied', await this.o.applyJobs!());
    } catch (err) {
      this.ctx.log('error', `jobs file not applied, keeping the jobs as they are: ${describe(err)}`);
    }
  }

  /** The catalogue's generation (jobs changed: reload them) and the cancel requests. */
  private async poll(now: number): Promise<void> {
    this.nextPoll = now + (this.o.pollMs ?? 500);
    const { generation, cancels } = await this.ctx.backend.poll(this.id);
    if (this.timetable.changed(generation)) {
      for (const o of await this.timetable.load(now, generation)) {
        this.waiting.add({ id: o.id, job: o.job, at: now, scheduledAt: o.scheduledAt });
      }
      this.claimer.dropStale();
    }
    if (this.slots.size > 0) this.slots.cancel(cancels);
  }

  private wakeAt(now: number): number {
    const top = this.timetable.nextFireAt();
    return Math.min(
      this.nextPoll,
      this.leases.wakeAt(),
      this.retention.wakeAt(now),
      top === undefined ? Infinity : top - CLAIM_AHEAD_MS,
      // Left in the backlog with a slot free: firings claimed at their due time.
      this.claimer.wakeAt(now),
      this.waiting.wakeAt(now),
    );
  }

  /** For tests and `status`: what this daemon holds. */
  snapshot() {
    return { running: this.slots.size, waiting: this.waiting.size, backlog: this.claimer.size, jobs: this.timetable.size };
  }
}
