// Opening the SQLite file: where it lives, its permissions, its pragmas, and the
// translation of SQLite's failures into errors a user can act on.

import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import Database from 'better-sqlite3';
import { runtimeError, storeError, TockError } from '../errors.js';
import { prepareStoreFile } from './guard.js';

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

/** Turns a SQLite or file-system failure into a TockError that says what to do. */
export function storeFailure(err: unknown, file: string): TockError {
  if (err instanceof TockError) return err;
  const e = err as { code?: string; message?: string };
  const code = e.code ?? '';
  const msg = e.message ?? String(err);
  if (code === 'SQLITE_BUSY' || code.startsWith('SQLITE_BUSY_') || code === 'SQLITE_LOCKED') {
    return transient(
      storeError(
        `the store ${file} is locked by another process (waited ${busyTimeoutMs()} ms); try again, or raise TOCK_BUSY_TIMEOUT_MS`,
      ),
    );
  }
  if (code === 'SQLITE_NOTADB' || code.startsWith('SQLITE_CORRUPT')) {
    return storeError(`${file} is not a usable tock store (${msg}); point --db at another file`);
  }
  if (code.startsWith('SQLITE_CANTOPEN') || code === 'SQLITE_PERM' || code === 'SQLITE_AUTH') {
    return storeError(`cannot open the store ${file} (${msg}); check the path and its permissions`);
  }
  if (code.startsWith('SQLITE_READONLY')) {
    if (fileSystemTrouble(file) === 'EROFS') {
      return transient(storeError(`the file system holding the store ${file} is read-only (${msg}); remount it read-write`));
    }
    return storeError(`the store ${file} is read-only (${msg}); check the file's and its directory's permissions`);
  }
  if (code === 'SQLITE_FULL') {
    return transient(runtimeError(`the disk holding ${file} is full; nothing was recorded: free some space and try again`));
  }
  if (code.startsWith('SQLITE_IOERR')) {
    // SQLite says only "disk I/O error"; ask the file system what it is.
    const cause = fileSystemTrouble(file);
    if (cause === 'EROFS') {
      return transient(
        runtimeError(`the file system holding the store ${file} is read-only (${msg}); nothing was recorded: remount it read-write`),
      );
    }
    if (cause === 'ENOSPC') {
      return transient(runtimeError(`the disk holding ${file} is full (${msg}); nothing was recorded: free some space and try again`));
    }
    return transient(runtimeError(`I/O error on the store ${file} (${msg})`));
  }
  if (code === 'ENOENT' || code === 'EACCES' || code === 'EISDIR' || code === 'ENOTDIR') {
    return storeError(`cannot open the store ${file} (${msg})`);
  }
  return runtimeError(`store error on ${file}: ${msg}`);
}

/** EROFS when the store's file system is read-only, ENOSPC when it has no space left, else undefined. */
function fileSystemTrouble(file: string): 'EROFS' | 'ENOSPC' | undefined {
  // Creating a file is what tells: access(W_OK) misses an ext4 that went read-only after an
  // error (errors=remount-ro). Never the store's own files: closing a second descriptor of
  // them would drop this process's POSIX locks on them, which SQLite relies on.
  const probe = path.join(path.dirname(file), `.tock-probe-${process.pid}`);
  try {
    fs.closeSync(fs.openSync(probe, 'wx'));
    fs.rmSync(probe, { force: true });
  } catch (err) {
    if ((err as NodeJS.ErrnoException).code === 'EROFS') return 'EROFS';
  }
  try {
    if (fs.statfsSync(path.dirname(file)).bavail === 0) return 'ENOSPC';
  } catch {
    // no answer: a plain I/O error
  }
  return undefined;
}

function transient(err: TockError): TockError {
  err.transient = true;
  return err;
}

/**
 * True for failures that pass by themselves or once the machine is fixed (a lock, a full
 * disk, an I/O error, a file system gone read-only): a daemon waits and retries. A raw
 * SQLite error is judged by its code, one already explained by storeFailure by its mark.
 * A store that is corrupt, foreign, newer, or read-only by its permissions is not: that
 * needs the operator, and a daemon starting on it exits.
 */
export function isTransientStoreError(err: unknown): boolean {
  if (err instanceof TockError) return err.transient;
  const code = (err as { code?: string })?.code ?? '';
  return /^SQLITE_(BUSY|LOCKED|FULL|IOERR|READONLY|CANTOPEN|PROTOCOL)/.test(code);
}
