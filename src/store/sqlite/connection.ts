// The SQLite backend's one connection, private to src/store/sqlite/: the SQL of each table
// (jobs, occurrences, runners) and the transactions that run it. BEGIN IMMEDIATE with short
// pauses, a busy lock waited for on the event loop (writeWhenFree), synchronous=FULL commits.

import { openDatabase, busyTimeoutMs, type DB } from './db.js';
import { storeFailure } from './failure.js';
import { migrate } from './migrations.js';
import { Statements } from './statements.js';
import { JobsSql } from './jobs.js';
import { OccurrencesSql } from './occurrences.js';
import { RunnersSql } from './runners.js';
import { OutboxSql } from './outbox.js';

/** Something to wait on between tries for the write lock: Atomics.wait sleeps the thread. */
const PAUSE = new Int32Array(new SharedArrayBuffer(4));
/** How long writeWhenFree waits for a busy lock on the event loop before blocking for it. */
const LOOP_WAIT_MS = 20;

export class Connection {
  readonly jobs: JobsSql;
  readonly occurrences: OccurrencesSql;
  readonly runners: RunnersSql;
  readonly outbox: OutboxSql;
  private readonly statements: Statements;
  private storeId: string | undefined;

  private constructor(
    readonly db: DB,
    readonly file: string,
    private readonly busyTimeoutMs: number,
  ) {
    this.statements = new Statements(db);
    this.jobs = new JobsSql(this.statements);
    this.occurrences = new OccurrencesSql(this.statements);
    this.runners = new RunnersSql(this.statements);
    this.outbox = new OutboxSql(this.statements);
  }

  /** Random, made once per store: with a runner id it marks the processes of this store's attempts. */
  get id(): string {
    this.storeId ??= this.statements.get('SELECT id FROM store_identity').pluck().get() as string;
    return this.storeId;
  }

  static open(file: string, opts = { busyTimeoutMs: busyTimeoutMs() }): Connection {
    const db = openDatabase(file, opts);
    try {
      migrate(db, file);
    } catch (err) {
      db.close();
      throw storeFailure(err, file);
    }
    return new Connection(db, file, opts.busyTimeoutMs);
  }

  /**
   * Runs fn in one write transaction (BEGIN IMMEDIATE), so concurrent writers queue instead
   * of failing. Nested calls join the outer transaction (a savepoint).
   */
  write<T>(fn: () => T): T {
    try {
      return this.writeRaw(fn);
    } catch (err) {
      throw storeFailure(err, this.file);
    }
  }

  /** As write(), but throws SQLite's own error, for a caller that judges it itself. */
  writeRaw<T>(fn: () => T): T {
    if (this.db.inTransaction) return this.db.transaction(fn)();
    this.beginImmediate();
    return this.inBegun(fn);
  }

  /**
   * As writeRaw, but a busy write lock is waited for on the event loop, not by stopping the
   * thread: a daemon keeps reading its targets' results meanwhile, and `fn`, run once the
   * lock is taken, writes all that arrived (several daemons on one store take turns with
   * fewer, larger transactions). Throws SQLite's SQLITE_BUSY once the busy timeout passes.
   * `committed` runs synchronously right after the commit, before anything else of this
   * process can (awaiting the returned promise lets other callbacks run first); it must not
   * throw, since its caller would take the committed write for a failed one.
   */
  async writeWhenFree<T>(fn: () => T, committed: (result: T) => void = () => {}): Promise<T> {
    const started = performance.now();
    for (let tries = 0; ; tries++) {
      // Inside another's transaction (never across an await: those are synchronous), a
      // savepoint. Past LOOP_WAIT_MS, wait as every other writer does (beginImmediate's short
      // steps): a poller that looks once a millisecond must not be starved by ones that look
      // more often.
      const blocking = this.db.inTransaction || performance.now() - started >= LOOP_WAIT_MS;
      if (blocking || this.tryBegin()) {
        const result = blocking ? this.writeRaw(fn) : this.inBegun(fn);
        committed(result);
        return result;
      }
      // The holder commits within a millisecond or two: look again after this turn's I/O,
      // then every millisecond.
      await new Promise((resolve) => (tries < 2 ? setImmediate(resolve) : setTimeout(resolve, 1)));
    }
  }

  /** Runs fn in the transaction just begun, and commits; rolls back if fn throws. */
  private inBegun<T>(fn: () => T): T {
    let result: T;
    try {
      result = fn();
      this.statements.get('COMMIT').run();
    } catch (err) {
      if (this.db.inTransaction) this.statements.get('ROLLBACK').run();
      throw err;
    }
    return result;
  }

  /** Whether the write lock is free now: taken and let go at once, without waiting (the health probe). */
  writeLockFree(): boolean {
    if (this.db.inTransaction) return true;
    if (!this.tryBegin()) return false;
    this.statements.get('ROLLBACK').run();
    return true;
  }

  /** One try at BEGIN IMMEDIATE with SQLite's own wait off: false if another holds the lock. */
  private tryBegin(): boolean {
    this.waitForLock(false);
    try {
      return this.beginOnce() === undefined;
    } finally {
      this.waitForLock(true);
    }
  }

  /** BEGIN IMMEDIATE once: undefined if begun, SQLite's SQLITE_BUSY error if the lock is held; other errors thrown. */
  private beginOnce(): unknown {
    try {
      this.statements.get('BEGIN IMMEDIATE').run();
      return undefined;
    } catch (err) {
      if (!String((err as { code?: unknown }).code).startsWith('SQLITE_BUSY')) throw err;
      return err;
    }
  }

  /**
   * SQLite's own wait for the lock on (reads) or off (BEGIN IMMEDIATE, waited for here),
   * through prepared statements: db.pragma() compiles its statement on every call.
   */
  private waitForLock(on: boolean): void {
    this.statements.get(`PRAGMA busy_timeout = ${on ? this.busyTimeoutMs : 0}`).get();
  }

  /**
   * Takes the write lock, waiting up to the busy timeout. SQLite's own wait sleeps 1, 2, 5,
   * 10, 15, 20, 25... ms between tries, while another writer holds the lock for about one
   * fsync (1-2 ms): with several daemons on one store, the lock was often free while every
   * writer slept. Here the pause between tries starts at 0.05 ms and grows to at most 2 ms.
   * Only BEGIN waits: nothing is retried once fn has run.
   */
  private beginImmediate(): void {
    this.waitForLock(false);
    try {
      const deadline = performance.now() + this.busyTimeoutMs;
      for (let pause = 0.05; ; pause = Math.min(pause * 1.5, 2)) {
        const busy = this.beginOnce();
        if (busy === undefined) return;
        if (performance.now() >= deadline) throw busy;
        Atomics.wait(PAUSE, 0, 0, pause);
      }
    } finally {
      this.waitForLock(true);
    }
  }

  /** Runs fn as a consistent read. */
  read<T>(fn: () => T): T {
    try {
      return this.db.transaction(fn).deferred();
    } catch (err) {
      throw storeFailure(err, this.file);
    }
  }

  close(): void {
    if (this.db.open) this.db.close();
  }
}
