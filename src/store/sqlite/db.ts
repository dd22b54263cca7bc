// Opening the SQLite file: its permissions (guard.ts), its pragmas, its busy timeout.

import Database from 'better-sqlite3';
import { prepareStoreFile } from './guard.js';
import { storeFailure } from './failure.js';

export { busyTimeoutMs } from './failure.js';

export type DB = Database.Database;

export interface OpenOptions {
  busyTimeoutMs: number;
}

/**
 * Opens (creating on first use, 0600 in a 0700 directory) and configures the file, once it
 * is known to be the runner's own (prepareStoreFile).
 * Claims must survive power loss, so commits are synchronous (WAL + synchronous=FULL).
 */
export function openDatabase(file: string, opts: OpenOptions): DB {
  prepareStoreFile(file);
  let db: DB;
  try {
    db = new Database(file, { fileMustExist: true });
  } catch (err) {
    throw storeFailure(err, file);
  }
  try {
    db.pragma(`busy_timeout = ${opts.busyTimeoutMs}`);
    // Reading the header first tells "not a database" apart from "locked".
    db.pragma('schema_version');
    if (String(db.pragma('journal_mode', { simple: true })).toLowerCase() !== 'wal') {
      db.pragma('journal_mode = WAL');
    }
    db.pragma('synchronous = FULL');
    db.pragma('foreign_keys = ON');
    return db;
  } catch (err) {
    db.close();
    throw storeFailure(err, file);
  }
}
