// The shapes every layer shares: a validated job (JobSpec) and what execution returns.
// Instants are milliseconds since the epoch (UTC) everywhere inside tock; they become
// ISO-8601 strings only at the edges (JSON output, logs, the jobs file).

export type Delivery = 'at-most-once' | 'at-least-once' | 'exactly-once';
export type Overlap = 'skip' | 'allow' | 'queue' | 'replace';
export type Catchup = 'skip' | 'latest' | 'all';

export const DELIVERIES: readonly Delivery[] = ['at-most-once', 'at-least-once', 'exactly-once'];
export const OVERLAPS: readonly Overlap[] = ['skip', 'allow', 'queue', 'replace'];
export const CATCHUPS: readonly Catchup[] = ['skip', 'latest', 'all'];

export type Schedule =
  /** expr is the cron text as the user wrote it (5 or 6 fields, or a macro). */
  | { kind: 'cron'; expr: string; timezone: string }
  /** expr is the duration as written; everyMs its value. Anchored at the job's start or creation. */
  | { kind: 'every'; expr: string; everyMs: number; timezone: string }
  /** expr is the instant as written; atMs the resolved instant. */
  | { kind: 'at'; expr: string; atMs: number; timezone: string };

export interface ShellTarget {
  kind: 'shell';
  command: string;
  cwd?: string;
  env?: Record<string, string>;
  /**
   * Names passed through from the daemon's environment; absent, the whole environment is.
   * The job's `env:` (expanded from the whole environment) and TOCK_* are added either way.
   */
  inheritEnv?: string[];
}

export interface HttpTarget {
  kind: 'http';
  url: string;
  method: string;
  headers: Record<string, string>;
  body?: string;
  /** Statuses that count as success; default any 2xx. */
  expect?: number[];
}

export type Target = ShellTarget | HttpTarget;

export interface Backoff {
  initialMs: number;
  maxMs: number;
  multiplier: number;
}

/** What a notification channel can be told about (SPEC §9). */
export type NotifyEvent = 'failed' | 'abandoned' | 'missed' | 'recovered' | 'late' | 'long';
export const NOTIFY_EVENTS: readonly NotifyEvent[] = ['failed', 'abandoned', 'missed', 'recovered', 'late', 'long'];

/** Where a notification goes: a command (event as env and stdin), a webhook (JSON), or a mail through sendmail. */
export type NotifyTarget =
  | { kind: 'shell'; command: string }
  | { kind: 'http'; url: string; method: string; headers: Record<string, string> }
  | { kind: 'email'; to: string };

export interface NotifyChannel {
  on: NotifyEvent[];
  /** Fire failures only on the Nth consecutive one (and `recovered` only after such a streak). */
  after?: number;
  target: NotifyTarget;
}

export interface JobSpec {
  name: string;
  description?: string;
  schedule: Schedule;
  /** Window outside which nothing fires. */
  startMs?: number;
  endMs?: number;
  jitterMs: number;
  target: Target;
  delivery: Delivery;
  retries: number;
  backoff: Backoff;
  timeoutMs: number;
  overlap: Overlap;
  catchup: Catchup;
  catchupLimit: number;
  catchupWindowMs?: number;
  /** Bytes of output kept per attempt (the tail). */
  outputLimit: number;
  /** Notification channels; absent in specs stored before notifications existed. */
  notify?: NotifyChannel[];
  /** `late`: not started this long after the scheduled instant. */
  lateAfterMs?: number;
  /** `long`: still running this long after it started (less than the timeout). */
  warnAfterMs?: number;
  /**
   * Set only when the input says so. Pausing is runtime state kept beside the spec in the
   * store, so re-applying a file that does not mention `paused` leaves a `tock pause` alone.
   */
  paused?: boolean;
}

export type AttemptOutcome = 'succeeded' | 'failed' | 'timeout' | 'abandoned' | 'cancelled';

/** What an executor returns; executors never throw for an ordinary failure. */
export interface AttemptResult {
  outcome: 'succeeded' | 'failed' | 'timeout' | 'cancelled';
  /** May the semantics retry this failure? (404 may not; 503 and timeouts may.) */
  retryable: boolean;
  exitCode?: number;
  signal?: string;
  httpStatus?: number;
  /** One line saying why the attempt failed; absent on success. */
  error?: string;
  /** Tail of stdout+stderr (shell) or of the response body (http). */
  output: string;
  outputTruncated: boolean;
  /** Total bytes the target produced (output keeps only the last outputLimit of them). */
  outputBytes: number;
  /** A Retry-After the target asked for, in ms (already parsed), if any. */
  retryAfterMs?: number;
  /** When the executor took the attempt up, just before the spawn or the request: the attempt's recorded start. */
  startedAt: number;
  finishedAt: number;
}

/** What an executor knows about the attempt it runs. */
export interface AttemptContext {
  job: string;
  occurrenceId: number;
  /** The store and the runner executing the attempt: with occurrenceId, they mark its processes. */
  storeId: string;
  runnerId: string;
  idempotencyKey: string;
  scheduledAt: number;
  attempt: number;
  timeoutMs: number;
  outputLimit: number;
  /** Environment used for ${NAME} expansion and inherited by shell targets. */
  env: NodeJS.ProcessEnv;
  /** After SIGTERM to a shell target's process group, how long before SIGKILL. */
  killGraceMs: number;
  /** The largest delay a Retry-After may ask for (the job's maximum backoff). */
  maxRetryAfterMs: number;
}

export const DEFAULTS = {
  timezone: 'UTC',
  delivery: 'at-least-once' as Delivery,
  retriesAtMostOnce: 0,
  retries: 3,
  backoff: { initialMs: 1_000, maxMs: 5 * 60_000, multiplier: 2 } as Backoff,
  timeoutMs: 60 * 60_000,
  overlap: 'skip' as Overlap,
  catchupLimit: 100,
  outputLimit: 64 * 1024,
  killGraceMs: 5_000,
};

export const VERSION = '0.1.0';
