// Opening the SQLite file: where it lives, its permissions, its pragmas, and the
// translation of SQLite's failures into errors a user can act on.

import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import Database from 'better-sqlite3';
import { runtimeError, storeError, TockError } from '../errors.js';

export type DB = Database.Database;

/** `--db`, else TOCK_DB, else $XDG_STATE_HOME/tock/tock.db, else ~/.local/state/tock/tock.db. */
export function defaultStorePath(env: NodeJS.ProcessEnv = process.env): string {
  if (env.TOCK_DB) return path.resolve(env.TOCK_DB);
  const state = env.XDG_STATE_HOME || path.join(os.homedir(), '.local', 'state');
  return path.join(state, 'tock', 'tock.db');
}

export function busyTimeoutMs(env: NodeJS.ProcessEnv = process.env): number {
  const raw = env.TOCK_BUSY_TIMEOUT_MS;
  const ms = raw === undefined ? NaN : Number(raw);
  return Number.isInteger(ms) && ms >= 0 ? ms : 5_000;
}

export interface OpenOptions {
  busyTimeoutMs: number;
}

/**
 * Opens (creating on first use, 0600 in a 0700 directory) and configures the file.
 * Claims must survive power loss, so commits are synchronous (WAL + synchronous=FULL).
 */
export function openDatabase(file: string, opts: OpenOptions): DB {
  createIfMissing(file);
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

function createIfMissing(file: string): void {
  if (fs.existsSync(file)) return;
  const dir = path.dirname(file);
  try {
    fs.mkdirSync(dir, { recursive: true, mode: 0o700 });
    fs.closeSync(fs.openSync(file, 'wx', 0o600));
  } catch (err) {
    const e = err as NodeJS.ErrnoException;
    if (e.code === 'EEXIST') return; // another process created it first
    throw storeError(`cannot create the store ${file}: ${e.message}`);
  }
}

/** Turns a SQLite or file-system failure into a TockError that says what to do. */
export function storeFailure(err: unknown, file: string): TockError {
  if (err instanceof TockError) return err;
  const e = err as { code?: string; message?: string };
  const code = e.code ?? '';
  const msg = e.message ?? String(err);
  if (code === 'SQLITE_BUSY' || code.startsWith('SQLITE_BUSY_') || code === 'SQLITE_LOCKED') {
    return storeError(
      `the store ${file} is locked by another process (waited ${busyTimeoutMs()} ms); try again, or raise TOCK_BUSY_TIMEOUT_MS`,
    );
  }
  if (code === 'SQLITE_NOTADB' || code.startsWith('SQLITE_CORRUPT')) {
    return storeError(`${file} is not a usable tock store (${msg}); point --db at another file`);
  }
  if (code.startsWith('SQLITE_CANTOPEN') || code === 'SQLITE_PERM' || code === 'SQLITE_AUTH') {
    return storeError(`cannot open the store ${file} (${msg}); check the path and its permissions`);
  }
  if (code.startsWith('SQLITE_READONLY')) {
    return storeError(`the store ${file} is read-only (${msg}); check the file's and its directory's permissions`);
  }
  if (code === 'SQLITE_FULL') {
    return runtimeError(`the disk holding ${file} is full; nothing was recorded: free some space and try again`);
  }
  if (code.startsWith('SQLITE_IOERR')) {
    return runtimeError(`I/O error on the store ${file} (${msg})`);
  }
  if (code === 'ENOENT' || code === 'EACCES' || code === 'EISDIR' || code === 'ENOTDIR') {
    return storeError(`cannot open the store ${file} (${msg})`);
  }
  return runtimeError(`store error on ${file}: ${msg}`);
}

/** True for failures that pass by themselves (locks, full disk, I/O): the daemon waits and retries. */
export function isTransientStoreError(err: unknown): boolean {
  const code = (err as { code?: string })?.code ?? '';
  return /^SQLITE_(BUSY|LOCKED|FULL|IOERR|READONLY|CANTOPEN|PROTOCOL)/.test(code);
}
