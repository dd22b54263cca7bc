// The one place the SQLite side of the Backend reaches today's Store (a connection and its
// SQL groups), so renaming or moving it touches only these lines.

import type { Connection as Store } from './connection.js';
import { isTransientStoreError, storeFailure } from './failure.js';
import { StoreError } from '../backend.js';

export { Connection } from './connection.js';
export type { JobRow } from './jobs.js';
export type { NewOccurrence, OccurrenceRow } from './occurrences.js';

/**
 * A SQLite or file-system failure as the Backend reports it, in the store's own words:
 * transient as storeFailure judges it, or, for `byCode`, as SQLite's code alone says (a
 * result is retried through any store trouble that may pass, as it always was).
 */
export function fail(err: unknown, conn: Store, byCode = false): StoreError {
  if (err instanceof StoreError) return err;
  const explained = storeFailure(err, conn.file);
  const transient = byCode ? isTransientStoreError(err) : explained.transient;
  return new StoreError(explained.message, transient, (err as { code?: string })?.code);
}

/** One write transaction (BEGIN IMMEDIATE), its failure a StoreError. */
export function writing<T>(conn: Store, fn: () => T): T {
  try {
    return conn.writeRaw(fn);
  } catch (err) {
    throw fail(err, conn);
  }
}

/** One consistent read, its failure a StoreError. */
export function reading<T>(conn: Store, fn: () => T): T {
  try {
    return conn.read(fn);
  } catch (err) {
    throw fail(err, conn);
  }
}
