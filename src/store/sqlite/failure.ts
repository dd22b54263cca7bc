// The one place that classifies the SQLite backend's failures: SQLite's SQLITE_* codes and
// the file system's errors become StoreErrors that say what to do, transient (a lock, a full
// disk, an I/O error, a file system gone read-only: retried) or not (exit 2 or 1).

import fs from 'node:fs';
import path from 'node:path';
import { EXIT, TockError } from '../../errors.js';
import { StoreError } from '../domain.js';

/** How long a write waits for a locked store: TOCK_BUSY_TIMEOUT_MS, else 5 s. */
export function busyTimeoutMs(env: NodeJS.ProcessEnv = process.env): number {
  const raw = env.TOCK_BUSY_TIMEOUT_MS;
  const ms = raw === undefined ? NaN : Number(raw);
  return Number.isInteger(ms) && ms >= 0 ? ms : 5_000;
}

/** Turns a SQLite or file-system failure into a StoreError that says what to do. */
export function storeFailure(err: unknown, file: string): TockError {
  if (err instanceof TockError) return err;
  const e = err as { code?: string; message?: string };
  const code = e.code ?? '';
  const msg = e.message ?? String(err);
  if (code === 'SQLITE_BUSY' || code.startsWith('SQLITE_BUSY_') || code === 'SQLITE_LOCKED') {
    return transient(
      `the store ${file} is locked by another process (waited ${busyTimeoutMs()} ms); try again, or raise TOCK_BUSY_TIMEOUT_MS`,
      code,
    );
  }
  if (code === 'SQLITE_NOTADB' || code.startsWith('SQLITE_CORRUPT')) {
    return new StoreError(`${file} is not a usable tock store (${msg}); point --db at another file`, false, code);
  }
  if (code.startsWith('SQLITE_CANTOPEN') || code === 'SQLITE_PERM' || code === 'SQLITE_AUTH') {
    return new StoreError(`cannot open the store ${file} (${msg}); check the path and its permissions`, false, code);
  }
  if (code.startsWith('SQLITE_READONLY')) {
    if (fileSystemTrouble(file) === 'EROFS') {
      return transient(`the file system holding the store ${file} is read-only (${msg}); remount it read-write`, code);
    }
    return new StoreError(`the store ${file} is read-only (${msg}); check the file's and its directory's permissions`, false, code);
  }
  if (code === 'SQLITE_FULL') {
    return transient(`the disk holding ${file} is full; nothing was recorded: free some space and try again`, code, EXIT.failed);
  }
  if (code.startsWith('SQLITE_IOERR')) {
    // SQLite says only "disk I/O error"; ask the file system what it is.
    const cause = fileSystemTrouble(file);
    if (cause === 'EROFS') {
      return transient(`the file system holding the store ${file} is read-only (${msg}); nothing was recorded: remount it read-write`, code, EXIT.failed);
    }
    if (cause === 'ENOSPC') {
      return transient(`the disk holding ${file} is full (${msg}); nothing was recorded: free some space and try again`, code, EXIT.failed);
    }
    return transient(`I/O error on the store ${file} (${msg})`, code, EXIT.failed);
  }
  if (code === 'ENOENT' || code === 'EACCES' || code === 'EISDIR' || code === 'ENOTDIR') {
    return new StoreError(`cannot open the store ${file} (${msg})`, false, code);
  }
  return new StoreError(`store error on ${file}: ${msg}`, false, code, EXIT.failed);
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

function transient(message: string, code: string, exitCode: number = EXIT.usage): StoreError {
  return new StoreError(message, true, code, exitCode);
}

/**
 * As storeFailure, for a result being recorded: transient wherever SQLite's code says the
 * trouble may pass (isTransientStoreError), so a result is retried through any store trouble
 * that may pass, as results always were; the message and exit status stay storeFailure's.
 */
export function resultFailure(err: unknown, file: string): TockError {
  const failure = storeFailure(err, file);
  if (failure.transient || !isTransientStoreError(err)) return failure;
  return new StoreError(failure.message, true, (err as { code?: string })?.code, failure.exitCode);
}

/** A store tock will not use as it is (another's file, a newer schema, not a tock store): exit 2, never retried. */
export function refused(message: string, code = 'refused'): StoreError {
  return new StoreError(message, false, code);
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
