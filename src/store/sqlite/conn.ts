// The one place the SQLite side of the Backend reaches today's Store (a connection and its
// SQL groups), so renaming or moving it touches only these lines.

import { Store, storeFailure } from '../index.js';
import { StoreError } from '../backend.js';

export { Store as Connection } from '../index.js';
export type { JobRow, OccurrenceRow } from '../index.js';

/** A SQLite or file-system failure as the Backend reports it: transient or not, in the store's own words. */
export function fail(err: unknown, conn: Store): StoreError {
  if (err instanceof StoreError) return err;
  const explained = storeFailure(err, conn.file);
  return new StoreError(explained.message, explained.transient, (err as { code?: string })?.code);
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
