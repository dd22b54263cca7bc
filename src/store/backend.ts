// The store as tock uses it: one asynchronous interface whose methods are the operations
// tock performs, each one transaction, arrays in and results out. No connection or
// transaction type and no callback into the caller crosses it: a backend (src/store/sqlite/
// today, PostgreSQL next) owns its connections and its SQL, maps rows to the domain types
// of domain.ts, and classifies its own errors into StoreError. Pure decisions the store must take
// inside a transaction (overlap, retries, lease expiry, the jobs-file plan) come from
// src/semantics/ and src/config/plan.ts, called by the backend, never by a callback.

import type { AttemptResult, Delivery, JobSpec, Overlap } from '../types.js';
import type { Attempt, Job, Occurrence, OccurrenceState, Runner } from './domain.js';
import type { DeliveryOutcome, Notice, NotificationFilter, OutboxEntry } from './notifications.js';
import type { JobStats, JobTotals, StatsFilter } from './observe-types.js';

export * from './domain.js';
export * from './observe-types.js';

// ---- operation arguments and results ---------------------------------------------------

/** One due firing of a job, as the timetable computed it. */
export interface FiringRequest {
  job: string;
  jobVersion: number;
  key: string;
  scheduledAt: number;
  fireAt: number;
  delivery: Delivery;
  overlap: Overlap;
  /** A one-shot (`at`) job: done once this firing is claimed. */
  once: boolean;
  /** The job's firing after this one, remembered for `tock list`. */
  following: number | null;
}

export interface ClaimRequest {
  runner: string;
  now: number;
  leaseMs: number;
  /** At most this many firings are started; the walk stops when they are taken. */
  slots: number;
  firings: FiringRequest[];
}

export type ClaimDecision =
  /** Another runner owns the key. */
  | { kind: 'lost' }
  /** Something is in the way and it is not yet due: left for its due time, nothing written. */
  | { kind: 'not-yet' }
  /** Claimed, attempt 1 opened: start the target at `occurrence.fireAt`. */
  | { kind: 'started'; occurrence: Occurrence; cancelled: number[]; ended: number[] }
  | { kind: 'skipped'; occurrence: Occurrence; blocker: { id: number; state: OccurrenceState } }
  | { kind: 'queued'; occurrence: Occurrence; blocker: { id: number; state: OccurrenceState } };

export interface ClaimResult {
  /** How many firings from the start of the request were looked at; decisions[i] is firings[i]'s. */
  walked: number;
  decisions: ClaimDecision[];
}

/** Firings missed while no daemon ran, for one job, as the catch-up policy planned them. */
export interface MissedRequest {
  job: string;
  jobVersion: number;
  delivery: Delivery;
  once: boolean;
  missed: { key: string; scheduledAt: number; fireAt: number; reason: string }[];
  /** To run now, oldest first: recorded pending, held by the runner. */
  execute: { key: string; scheduledAt: number; fireAt: number }[];
  /** The cursor moves to the last missed firing; `following` is the one after it. */
  following: number | null;
}

export interface MissedResult {
  job: string;
  recorded: number;
  queued: Occurrence[];
}

/** A finished attempt to record, with what the semantics need to decide what comes next. */
export interface AttemptRecord {
  occurrenceId: number;
  n: number;
  result: AttemptResult;
  spec: JobSpec;
  /** Drawn by the caller, for backoff jitter (the store draws nothing). */
  random: number;
}

export type Recorded =
  | { kind: 'succeeded' }
  | { kind: 'failed'; reason: string }
  | { kind: 'retry'; delayMs: number; reason: string }
  /** The attempt is recorded, but the lease had passed to another runner, which decides. */
  | { kind: 'lost'; reason: string };

export interface StartRequest {
  id: number;
  /** Its job's overlap, or undefined if the job is gone (the occurrence then fails). */
  overlap: Overlap | undefined;
}

export type StartResult =
  | { kind: 'started'; occurrence: Occurrence; n: number }
  /** No longer pending or no longer held by this runner. */
  | { kind: 'gone' }
  /** Its job was removed: failed. */
  | { kind: 'removed' }
  /** Queued behind another occurrence of its job. */
  | { kind: 'wait' };

export interface TakeOverRequest {
  /** The occurrence as read by activeOccurrences(): taken only if its lease is still as read. */
  occurrence: Occurrence;
  /** Why its runner no longer holds it, for the reasons written. */
  why: string;
  jobExists: boolean;
}

export type TakeOverResult =
  | { kind: 'raced' }
  | { kind: 'pending' }
  | { kind: 'abandoned'; reason: string }
  | { kind: 'failed'; reason: string }
  | { kind: 'rerun'; reason: string };

export type Release =
  /** A target stopped by shutdown: its attempt recorded, the occurrence abandoned (at-most-once) or handed back. */
  | { kind: 'stopped'; occurrenceId: number; n: number; result: AttemptResult; delivery: Delivery }
  /** A pending occurrence this runner held: handed back, due at `at`. */
  | { kind: 'waiting'; occurrenceId: number; at: number };

export interface PruneRequest {
  now: number;
  keepDays: number;
  keepRuns: number;
  /** Where the previous step stopped; undefined to start a pass. */
  cursor?: PruneCursor;
  /** At most this many rows deleted, and jobs looked at, in this step. */
  batch: number;
  jobsPerStep: number;
}

export interface PruneCursor {
  oldDone: boolean;
  after: string;
}

export interface PruneResult {
  deleted: number;
  /** Undefined once the pass is complete (runners not seen for 7 days are forgotten then too). */
  cursor: PruneCursor | undefined;
}

export interface HistoryFilter {
  job?: string;
  state?: OccurrenceState;
  sinceMs?: number;
  limit: number;
}

export interface ApplyResult {
  created: string[];
  updated: string[];
  unchanged: string[];
  removed: string[];
}

export interface ApplyOptions {
  source: string;
  prune: boolean;
  now: number;
  dryRun?: boolean;
  /** With prune, remove only the jobs that came from this same source (the daemon's --jobs). */
  pruneOwnOnly?: boolean;
}

export type RetryResult = { kind: 'started'; occurrence: Occurrence; n: number } | { kind: 'refused'; why: string };

export interface ManualClaim {
  job: string;
  key: string;
  runner: string;
  now: number;
  leaseMs: number;
}

export interface StatusCounts {
  byState: Record<string, number>;
}

// ---- the interface ----------------------------------------------------------------------

export interface Backend {
  /** What it is, for messages: a file path, or a URL without its password. */
  readonly location: string;
  /** Random, made once per store: with a runner id it marks the processes of this store's attempts. */
  storeId(): Promise<string>;
  close(): Promise<void>;

  // the job catalogue
  listJobs(): Promise<Job[]>;
  getJob(name: string): Promise<Job | undefined>;
  /** Names and versions only: what a daemon polls to see which jobs changed. */
  jobVersions(): Promise<{ name: string; version: number; doneAt: number | null }[]>;
  /** Bumped by every change to the catalogue. */
  generation(): Promise<number>;
  /** Plans against the stored jobs and writes the plan, in one transaction (src/config/plan.ts). */
  applyJobs(specs: JobSpec[], o: ApplyOptions): Promise<ApplyResult>;
  /** Adds one job; false if the name is taken. */
  addJob(spec: JobSpec, source: string, now: number): Promise<Job | undefined>;
  /** Whether it changed; undefined if there is no such job. */
  setPaused(name: string, paused: boolean, now: number): Promise<boolean | undefined>;
  removeJob(name: string): Promise<boolean>;
  /** Caches next fire times for `tock list`, for the versions they were computed for. */
  rememberNext(next: { job: string; version: number; after: number; at: number | null }[]): Promise<void>;

  // runners
  registerRunner(r: Omit<Runner, 'stoppedAt' | 'heartbeatAt'>): Promise<void>;
  /** Renews the runner and its leases; returns the cancel requests for its running occurrences. */
  heartbeat(runner: string, now: number, leaseMs: number): Promise<{ id: number; reason: string }[]>;
  /** Cheap, for the daemon's poll: the catalogue generation and the cancel requests. */
  poll(runner: string): Promise<{ generation: number; cancels: { id: number; reason: string }[] }>;
  stopRunner(runner: string, now: number): Promise<void>;
  runners(ids?: string[]): Promise<Runner[]>;

  // the daemon's writes
  claimFirings(req: ClaimRequest): Promise<ClaimResult>;
  recordMissed(runner: string, now: number, leaseMs: number, jobs: MissedRequest[]): Promise<MissedResult[]>;
  /** Records finished attempts in one commit; `claim`, if given, runs in the same transaction after them. */
  recordAttempts(runner: string, now: number, records: AttemptRecord[], claim?: ClaimRequest): Promise<{ recorded: Recorded[]; claimed?: ClaimResult }>;
  startPending(runner: string, now: number, leaseMs: number, reqs: StartRequest[]): Promise<StartResult[]>;
  activeOccurrences(): Promise<Occurrence[]>;
  takeOver(runner: string, now: number, leaseMs: number, reqs: TakeOverRequest[]): Promise<TakeOverResult[]>;
  release(runner: string, now: number, items: Release[]): Promise<void>;
  prune(req: PruneRequest): Promise<PruneResult>;

  // the CLI's writes
  /** The occurrence of a manual key: the one already there (existing), or a new one running attempt 1; undefined if the job is gone. */
  claimManual(c: ManualClaim): Promise<{ occurrence: Occurrence; existing: boolean } | undefined>;
  /**
   * `tock retry`: a new attempt (trigger retry) of a final occurrence, held by `runner`, if
   * mayRetry (src/semantics/delivery.ts) allows it; undefined if there is no such occurrence.
   */
  retryOccurrence(id: number, runner: string, now: number, leaseMs: number, force: boolean): Promise<RetryResult | undefined>;
  /** `tock run`'s own retries: starts attempt n (trigger backoff) if the runner still holds it. */
  startAttempt(id: number, n: number, runner: string, now: number, leaseMs: number): Promise<boolean>;
  /** Ends an occurrence as failed, recording attempt n's result if given. */
  failOccurrence(id: number, reason: string, now: number, attempt?: { n: number; result: AttemptResult }): Promise<void>;

  // the read side
  occurrence(id: number): Promise<Occurrence | undefined>;
  occurrenceByKey(key: string): Promise<Occurrence | undefined>;
  attempts(id: number, withOutput: boolean): Promise<Attempt[]>;
  history(f: HistoryFilter): Promise<{ occurrence: Occurrence; attempts: Attempt[] }[]>;
  recent(job: string, n: number): Promise<Pick<Occurrence, 'state' | 'finishedAt' | 'scheduledAt'>[]>;
  counts(): Promise<StatusCounts>;

  // ---- issue 15, notifications (the outbox): rows are written by the result-recording
  // methods above, in their own transactions; these deliver and show them.
  /** late and long, noticed by a daemon: written once per occurrence, event and channel (the key); how many were new. */
  noticeOccurrences(now: number, notices: Notice[]): Promise<number>;
  /** Up to `limit` due notifications whose lease is free or lapsed, leased to `runner` until now + leaseMs, each try counted. */
  claimNotifications(runner: string, now: number, leaseMs: number, limit: number): Promise<OutboxEntry[]>;
  /** Settles claimed notifications, each only while `runner` still holds it; how many were settled. */
  settleNotifications(runner: string, now: number, outcomes: DeliveryOutcome[]): Promise<number>;
  /** Newest first: what was sent, when, to which channel, and delivery errors. */
  notifications(f: NotificationFilter): Promise<OutboxEntry[]>;
  /** For /metrics: notifications not yet delivered, and those given up on. */
  outboxStats(): Promise<{ depth: number; failures: number }>;
  // ---- observability (issue 15, helper M: /metrics, /healthz, `tock stats`) ----
  /** Per job (every job, and every job name with history): occurrences by state, last success, next fire; one aggregate read. */
  jobTotals(): Promise<JobTotals[]>;
  /** `tock stats`: per job counts by state, retries, last success, and its latest finished attempts as samples. */
  jobStats(f: StatsFilter): Promise<JobStats[]>;
  /** Resolves if the store answers and its write lock can be taken within waitMs; else a StoreError saying why. */
  probe(waitMs: number): Promise<void>;
}

/** What a runner (the daemon, and `tock run` for its lease) does to the store. */
export type RunnerSide = Pick<
  Backend,
  | 'registerRunner'
  | 'heartbeat'
  | 'poll'
  | 'stopRunner'
  | 'runners'
  | 'claimFirings'
  | 'recordMissed'
  | 'recordAttempts'
  | 'startPending'
  | 'activeOccurrences'
  | 'takeOver'
  | 'release'
  | 'prune'
>;

// issue 15, notifications: the outbox's domain types.
export type * from './notifications.js';
