// Retention: the daemon deletes finished history beyond --keep-days and beyond --keep-runs
// per job, in small steps, on a real store seeded with history.

import { test } from 'node:test';
import assert from 'node:assert/strict';
import { seedHistory } from '../bench/lib/seed.js';
import { exited, tock, tockSpawn, waitFor, withSandbox } from './helpers/cli.js';
import type { HistoryOcc } from './helpers/store-env.js';

const DAY = 86_400_000;

test(
  'retention keeps the newest --keep-runs per job and nothing older than --keep-days, removed jobs included',
  withSandbox(async (sb) => {
    for (const name of ['a', 'b']) assert.equal(tock(sb, ['add', name, '--every', '1h', '--shell', 'true']).status, 0);
    const now = Date.now();
    assert.equal(seedHistory(sb.db, ['a'], 2_450, now - DAY), 2_450); // several steps' worth
    assert.equal(seedHistory(sb.db, ['b'], 20, now - DAY), 20);
    assert.equal(seedHistory(sb.db, ['gone'], 30, now - 100 * DAY), 30); // a removed job's, past 90 days
    const history = (job: string) => {
      const r = tock(sb, ['history', job, '--json', '--limit', '1000']);
      assert.equal(r.status, 0, r.stderr);
      return r.json() as HistoryOcc[];
    };
    // seedHistory puts row r of n at endAt - (n - r) minutes: the newest 100 are r = n-100 .. n-1.
    const newestOfA = Array.from({ length: 100 }, (_, i) => now - DAY - (i + 1) * 60_000);

    const d = tockSpawn(sb, ['daemon', '--keep-runs', '100', '--first-prune', '0s']);
    try {
      const line = await waitFor('the pruned line', () => /pruned +(\d+) occurrence/.exec(d.output()) ?? undefined, 30_000);
      assert.equal(Number(line[1]), 2_450 - 100 + 30);
      const keptA = history('a').map((o) => Date.parse(o.scheduled_at)).sort((x, y) => y - x);
      assert.deepEqual(keptA, newestOfA, 'a keeps exactly its newest 100');
      assert.equal(history('b').length, 20);
      const gone = tock(sb, ['history', 'gone', '--json']);
      assert.equal(gone.status, 3, 'a removed job with its history pruned is unknown');
      assert.match(gone.stderr, /no history/);
    } finally {
      d.kill('SIGTERM');
      assert.equal(await exited(d), 0, d.output());
    }
  }),
);
