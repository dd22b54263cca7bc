// The claimer in-process with a fake clock: overlap is decided at a firing's due time, not
// when it is claimed ahead, and two daemons in one process on one store claim each firing
// once. A real store in a temp dir; fake targets; states and keys asserted.

import { test } from 'node:test';
import assert from 'node:assert/strict';
import { idempotencyKey } from '../src/schedule/index.js';
import { waitFor, withSandbox } from './helpers/cli.js';
import { FakeClock, MINUTE, T0, TestDaemon, addJobs, endless, idle, instant, occurrences, openStore, settled, turnAll } from './helpers/daemon-harness.js';

const key = (job: string, minutes: number) => idempotencyKey(job, T0 + minutes * MINUTE);

test(
  'overlap skip, queue, replace and allow: judged at the due instant against a target still running',
  withSandbox(async (sb) => {
    const store = await openStore(sb);
    const clock = new FakeClock(T0 + 30_000);
    const jobs = ['skip', 'queue', 'replace', 'allow'];
    await addJobs(store, 'jobs:\n' + jobs.map((p) => `  - name: o-${p}\n    every: 1m\n    shell: "true"\n    overlap: ${p}\n`).join(''), T0);
    const d = new TestDaemon(store, clock, endless(clock), 8);
    const byKey = async (k: string) => (await occurrences(store)).find((o) => o.key === k);
    try {
      await d.daemon.start();
      clock.set(T0 + MINUTE);
      await d.turn();
      for (const p of jobs) assert.equal((await byKey(key(`o-${p}`, 1)))?.state, 'running', `o-${p}: first firing runs`);
      const firsts = new Map<string, number>();
      for (const p of jobs) firsts.set(p, (await byKey(key(`o-${p}`, 1)))!.id);
      const first = (p: string) => firsts.get(p)!;

      // Within the claim-ahead: the second firings are looked at, but only allow's is claimed.
      clock.set(T0 + 2 * MINUTE - 10);
      await d.turn();
      for (const p of ['skip', 'queue', 'replace']) assert.equal((await byKey(key(`o-${p}`, 2))), undefined, `o-${p}: nothing written before its due time`);
      assert.equal((await byKey(key('o-allow', 2)))?.state, 'running', 'allow: claimed ahead');

      clock.set(T0 + 2 * MINUTE);
      await d.turn();
      const skipped = (await byKey(key('o-skip', 2)))!;
      assert.equal(skipped.state, 'skipped');
      assert.equal(skipped.reason, `occurrence #${first('skip')} was still running (overlap: skip)`);
      const queued = (await byKey(key('o-queue', 2)))!;
      assert.equal(queued.state, 'pending');
      assert.equal(queued.reason, `queued behind occurrence #${first('queue')}`);
      assert.equal((await byKey(key('o-replace', 2)))?.state, 'running', 'replace: the new firing runs');
      const replaced = await waitFor('the replaced target to be recorded', async () => {
        const o = (await byKey(key('o-replace', 1)))!;
        return o.state !== 'running' && o;
      });
      assert.equal(replaced.state, 'failed');
      assert.equal(replaced.reason, `cancelled: replaced by ${key('o-replace', 2)}`);
      assert.equal((await byKey(key('o-allow', 1)))?.state, 'running', 'allow: both run');
      assert.equal((await byKey(key('o-skip', 1)))?.state, 'running', 'skip: the first one is left alone');
      assert.deepEqual(d.lines('replaced'), [`o-replace #${first('replace')} is being stopped: replaced by the firing at ${new Date(T0 + 2 * MINUTE).toISOString()}`]);
    } finally {
      await d.daemon.stop();
      await store.close();
    }
  }),
);

test(
  'two daemons in one process on one store: every firing claimed and run exactly once',
  withSandbox(async (sb) => {
    const stores = [await openStore(sb), await openStore(sb)];
    const clock = new FakeClock(T0 + 30_000);
    const names = Array.from({ length: 6 }, (_, i) => `j${i}`);
    await addJobs(stores[0], 'jobs:\n' + names.map((n) => `  - name: ${n}\n    every: 1m\n    shell: "true"\n`).join(''), T0);
    const daemons = stores.map((s) => new TestDaemon(s, clock, instant(clock), 2));
    try {
      for (const d of daemons) await d.daemon.start();
      for (let m = 1; m <= 5; m++) {
        clock.set(T0 + m * MINUTE);
        await turnAll(daemons);
        await idle(daemons);
        await settled(stores[0], `the firings at ${m} min`);
      }
      const occs = (await occurrences(stores[0]));
      const expected = names.flatMap((n) => [1, 2, 3, 4, 5].map((m) => key(n, m))).sort();
      assert.deepEqual(occs.map((o) => o.key).sort(), expected, 'one occurrence per firing');
      for (const o of occs) assert.deepEqual([o.state, o.attempts], ['succeeded', 1], o.key);
      const fired = daemons.flatMap((d) => d.lines('fired').map((l) => /key (\S+)\)$/.exec(l)![1]));
      assert.deepEqual(fired.sort(), expected, 'each firing executed by one daemon, once');
    } finally {
      for (const d of daemons) await d.daemon.stop();
      for (const s of stores) await s.close();
    }
  }),
);
