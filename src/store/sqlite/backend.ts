// The SQLite backend: the Backend interface over one better-sqlite3 connection. Each method
// is one transaction of today's synchronous kind (BEGIN IMMEDIATE for writes, synchronous=FULL
// commits) and resolves at once; rows become domain types (rows.ts) and failures StoreErrors
// (failure.ts) before anything leaves. The runner/daemon side lives in daemon-side.ts, loaded
// on first use so that `tock list` never initialises it.

import type { JobSpec } from '../../types.js';
import type { ApplyOptions, Backend, HistoryFilter, ManualClaim, RunnerSide, StatsFilter } from '../backend.js';
import { addJob, applyPlan, setPaused } from './catalogue.js';
import { claimManual, failOccurrence, retryOccurrence, startAttempt } from './cli-writes.js';
import { Connection } from './connection.js';
import { storeFailure } from './failure.js';
import * as reads from './reads.js';
import { notifyNotices } from './notify-writes.js';
import type { DeliveryOutcome, NotificationFilter, Notice } from '../notifications.js';
import * as observe from './observe.js';

/** The runner/daemon methods, passed on to daemon-side.ts. */
const RUNNER_SIDE = [
  'registerRunner',
  'heartbeat',
  'poll',
  'stopRunner',
  'runners',
  'claimFirings',
  'recordMissed',
  'recordAttempts',
  'startPending',
  'activeOccurrences',
  'takeOver',
  'release',
  'prune',
] as const satisfies readonly (keyof RunnerSide)[];

// Fails to compile when RunnerSide gains a method that RUNNER_SIDE does not list.
const everyMethod: Exclude<keyof RunnerSide, (typeof RUNNER_SIDE)[number]> extends never ? true : never = true;
void everyMethod;

// The RunnerSide methods are made in the constructor, one per name in RUNNER_SIDE.
export interface SqliteBackend extends RunnerSide {}

export class SqliteBackend implements Backend {
  private side: Promise<RunnerSide> | undefined;

  private constructor(private readonly conn: Connection) {
    for (const method of RUNNER_SIDE) {
      Object.defineProperty(this, method, { value: (...args: unknown[]) => this.delegate(method, args) });
    }
  }

  /** Opens (creating and migrating on first use) the store file; refuses one that is not safe to use. */
  static open(file: string, busyTimeoutMs: number): SqliteBackend {
    return new SqliteBackend(Connection.open(file, { busyTimeoutMs }));
  }

  /**
   * A backend over a connection the caller opened: for tests of this adapter itself, which
   * watch or hold its connection's write lock. Everything else opens through open.ts.
   */
  static onConnection(conn: Connection): SqliteBackend {
    return new SqliteBackend(conn);
  }

  get location(): string {
    return this.conn.file;
  }

  storeId = () => this.now(() => this.conn.id);

  close = async () => this.conn.close();

  // ---- the job catalogue

  listJobs = () => this.now(() => this.conn.jobs.list());
  getJob = (name: string) => this.now(() => this.conn.jobs.get(name));
  jobVersions = () => this.now(() => this.conn.jobs.versions());
  generation = () => this.now(() => this.conn.jobs.generation());
  applyJobs = (specs: JobSpec[], o: ApplyOptions) => this.write(() => applyPlan(this.conn, specs, o));
  addJob = (spec: JobSpec, source: string, now: number) => this.write(() => addJob(this.conn, spec, source, now));
  setPaused = (name: string, paused: boolean, now: number) => this.write(() => setPaused(this.conn, name, paused, now));
  removeJob = (name: string) => this.write(() => this.conn.jobs.remove(name));

  rememberNext = (next: { job: string; version: number; after: number; at: number | null }[]) =>
    this.write(() => {
      for (const n of next) this.conn.jobs.rememberNext(n.job, n.version, n.after, n.at);
    });

  // ---- the CLI's writes

  claimManual = (c: ManualClaim) => this.write(() => claimManual(this.conn, c));
  retryOccurrence = (id: number, runner: string, now: number, leaseMs: number, force: boolean) =>
    this.write(() => retryOccurrence(this.conn, id, runner, now, leaseMs, force));
  startAttempt = (id: number, n: number, runner: string, now: number, leaseMs: number) =>
    this.write(() => startAttempt(this.conn, id, n, runner, now, leaseMs));
  failOccurrence = (id: number, reason: string, now: number, attempt?: Parameters<typeof failOccurrence>[4]) =>
    this.write(() => failOccurrence(this.conn, id, reason, now, attempt));

  // ---- the read side

  occurrence = (id: number) => this.now(() => reads.occurrence(this.conn, id));
  occurrenceByKey = (key: string) => this.now(() => reads.occurrenceByKey(this.conn, key));
  attempts = (id: number, withOutput: boolean) => this.now(() => reads.attempts(this.conn, id, withOutput));
  history = (f: HistoryFilter) => this.now(() => this.conn.read(() => reads.history(this.conn, f)));
  recent = (job: string, n: number) => this.now(() => reads.recent(this.conn, job, n));
  counts = () => this.now(() => ({ byState: this.conn.occurrences.countsByState() }));

  // ---- issue 15, notifications (the outbox)

  noticeOccurrences = (now: number, notices: Notice[]) => this.write(() => notifyNotices(this.conn, now, notices));
  claimNotifications = (runner: string, now: number, leaseMs: number, limit: number) =>
    this.now(() => this.conn.outbox.anyDue(now)).then((due) => (due ? this.write(() => this.conn.outbox.claim(runner, now, now + leaseMs, limit)) : []));
  settleNotifications = (runner: string, now: number, outcomes: DeliveryOutcome[]) =>
    this.write(() => outcomes.filter((o) => this.conn.outbox.settle(o.id, runner, o.kind === 'retry' ? 'pending' : o.kind, o.kind === 'retry' ? o.at : null, o.kind === 'sent' ? null : o.error, now)).length);
  notifications = (f: NotificationFilter) => this.now(() => this.conn.outbox.list(f));
  outboxStats = () => this.now(() => this.conn.outbox.stats());
  // ---- observability (issue 15: metrics, health, stats)

  jobTotals = () => this.now(() => observe.jobTotals(this.conn));
  jobStats = (f: StatsFilter) => this.now(() => observe.jobStats(this.conn, f));
  probe = (waitMs: number) => observe.probe(this.conn, waitMs);

  /** Calls daemon-side.ts (loaded on first use), its failures as StoreErrors. */
  private async delegate(method: keyof RunnerSide, args: unknown[]): Promise<unknown> {
    this.side ??= import('./daemon-side.js').then((m) => m.daemonSide(this.conn));
    const side = await this.side;
    try {
      return await (side[method] as (...a: unknown[]) => Promise<unknown>)(...args);
    } catch (err) {
      throw storeFailure(err, this.location);
    }
  }

  /** Runs fn (synchronous) now: its result, or its failure as a StoreError, in a settled promise. */
  private now<T>(fn: () => T): Promise<T> {
    try {
      return Promise.resolve(fn());
    } catch (err) {
      return Promise.reject(storeFailure(err, this.location));
    }
  }

  /** Runs fn in one write transaction (BEGIN IMMEDIATE, the lock waited for in short pauses). */
  private write<T>(fn: () => T): Promise<T> {
    return this.now(() => this.conn.write(fn));
  }
}
