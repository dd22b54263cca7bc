// The store: one SQLite connection and every SQL statement tock runs, grouped by table.
// Nothing outside src/store/ writes SQL.

import { openDatabase, busyTimeoutMs, storeFailure, defaultStorePath, type DB } from './db.js';
import { migrate } from './migrations.js';
import { Statements } from './statements.js';
import { JobsSql } from './jobs.js';
import { OccurrencesSql } from './occurrences.js';
import { RunnersSql } from './runners.js';

export { defaultStorePath, storeFailure, isTransientStoreError } from './db.js';
export type { JobRow } from './jobs.js';
export * from './occurrences.js';
export type { RunnerRow } from './runners.js';

export class Store {
  readonly jobs: JobsSql;
  readonly occurrences: OccurrencesSql;
  readonly runners: RunnersSql;
  private readonly statements: Statements;

  private constructor(
    readonly db: DB,
    readonly file: string,
  ) {
    this.statements = new Statements(db);
    this.jobs = new JobsSql(this.statements);
    this.occurrences = new OccurrencesSql(this.statements);
    this.runners = new RunnersSql(this.statements);
  }

  static open(file = defaultStorePath(), opts = { busyTimeoutMs: busyTimeoutMs() }): Store {
    const db = openDatabase(file, opts);
    try {
      migrate(db, file);
    } catch (err) {
      db.close();
      throw storeFailure(err, file);
    }
    return new Store(db, file);
  }

  /** Runs fn in one write transaction (BEGIN IMMEDIATE), so concurrent writers queue instead of failing. */
  write<T>(fn: () => T): T {
    try {
      return this.db.transaction(fn).immediate();
    } catch (err) {
      throw storeFailure(err, this.file);
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
