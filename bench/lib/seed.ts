// Fills a store with finished history through the store's own statements, fast: big
// transactions and synchronous=OFF on this connection only (durability of the seed does
// not matter; the commands measured afterwards open the file with tock's own settings).

import { Connection as Store } from '../../src/store/sqlite/connection.js';

export function seedHistory(db: string, jobs: string[], perJob: number, endAt: number): number {
  const store = Store.open(db);
  store.db.pragma('synchronous = OFF');
  let rows = 0;
  try {
    for (let k = 0; k < perJob; k += 50) {
      store.write(() => {
        for (let r = k; r < Math.min(perJob, k + 50); r++) for (const job of jobs) seedOne(store, job, endAt - (perJob - r) * 60_000);
      });
      rows += jobs.length * Math.min(50, perJob - k);
    }
  } finally {
    store.close();
  }
  return rows;
}

function seedOne(store: Store, job: string, at: number): void {
  const occ = store.occurrences.claim({
    job,
    key: `${job}@${new Date(at).toISOString()}`,
    scheduledAt: at,
    fireAt: at,
    origin: 'schedule',
    delivery: 'at-least-once',
    jobVersion: 1,
    state: 'running',
    leaseOwner: 'seed',
    leaseExpiresAt: at + 30_000,
    now: at,
  });
  if (!occ) return;
  const failed = at % 7 === 0;
  store.occurrences.finishAttempt(occ.id, 1, {
    outcome: failed ? 'failed' : 'succeeded',
    retryable: failed,
    exitCode: failed ? 1 : 0,
    error: failed ? 'exit status 1' : undefined,
    output: '',
    outputTruncated: false,
    outputBytes: 0,
    startedAt: at,
    finishedAt: at + 12,
  });
  store.occurrences.finish(occ.id, failed ? 'failed' : 'succeeded', failed ? 'exit status 1' : null, at + 12);
}
