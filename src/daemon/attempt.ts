// One attempt of an occurrence run by `tock run` / `tock retry` (src/daemon/inline.ts): runs
// the target and records its result, retrying a busy store. The daemon uses its own roles
// (slots, recorder) over the Backend; this stays for the CLI until it moves there too.

import type { OccurrenceRow, Store } from '../store/index.js';
import { isTransientStoreError, storeFailure } from '../store/index.js';
import { recordOne as recordOneSql } from '../store/sqlite/record.js';
import { toOccurrence } from '../store/sqlite/rows.js';
import type { Recorded } from '../store/backend.js';
import type { AttemptResult, JobSpec } from '../types.js';
import type { Clock } from './clock.js';
import { delay } from './clock.js';
import type { Logger } from './log.js';
import { faultPoint } from './fault.js';
import { startTarget, type Execute } from './target.js';

export type { Execute, Recorded };
export { failuresSince } from '../store/sqlite/record.js';

export interface AttemptDeps {
  store: Store;
  runnerId: string;
  clock: Clock;
  log: Logger;
  env: NodeJS.ProcessEnv;
  random: () => number;
  execute?: Execute;
  killGraceMs?: number;
}

export function runTarget(deps: AttemptDeps, occ: OccurrenceRow, spec: JobSpec, n: number, signal: AbortSignal): Promise<AttemptResult> {
  const runner = { storeId: deps.store.id, runnerId: deps.runnerId, env: deps.env, execute: deps.execute, killGraceMs: deps.killGraceMs };
  return startTarget(runner, toOccurrence(occ), spec, n, signal);
}

/** Records one attempt's result; a busy or full store is retried until the write lands. */
export async function record(
  deps: AttemptDeps,
  occ: OccurrenceRow,
  spec: JobSpec,
  n: number,
  result: AttemptResult,
  stopping: () => boolean = () => false,
): Promise<Recorded> {
  const { store } = deps;
  faultPoint('before-record'); // test-only: the target has ended, its result is not yet written
  const r = { occurrenceId: occ.id, n, result, spec, random: deps.random() };
  for (let wait = 50; ; wait = Math.min(wait * 2, 5_000)) {
    try {
      return await store.writeWhenFree(() => recordOneSql(store, deps.runnerId, deps.clock.now(), r));
    } catch (err) {
      // The store's own words (locked, read-only, full), not SQLite's bare "disk I/O error".
      if (!isTransientStoreError(err) || (stopping() && wait >= 5_000)) throw storeFailure(err, store.file);
      deps.log('error', `recording #${occ.id} ${occ.job}: ${storeFailure(err, store.file).message}; retrying in ${wait} ms`);
      await delay(wait);
    }
  }
}
