// The timetable in-process with a fake clock: firings missed while no daemon ran go to each
// job's catch-up policy, and a wall clock that jumps forward or back neither loses nor
// repeats a firing. A real store in a temp dir; fake targets; states and keys asserted.

import { test } from 'node:test';
import assert from 'node:assert/strict';
import { idempotencyKey } from '../src/schedule/index.js';
import { withSandbox } from './helpers/cli.js';
import { FakeClock, MINUTE, T0, TestDaemon, addJobs, instant, openStore, settled } from './helpers/daemon-harness.js';

const key = (job: string, minutes: number) => idempotencyKey(job, T0 + minutes * MINUTE);

function summary(occs: { job: string; state: string; origin: string }[], job: string) {
  const mine = occs.filter((o) => o.job === job);
  const count = (f: (o: (typeof mine)[number]) => boolean) => mine.filter(f).length;
  return { missed: count((o) => o.state === 'missed'), ran: count((o) => o.origin === 'catchup' && o.state === 'succeeded') };
}

test(
  'missed firings after downtime follow each job\'s catch-up policy, and live firing resumes after them',
  withSandbox(async (sb) => {
    const store = await openStore(sb);
    const clock = new FakeClock(T0 + 10 * MINUTE + 30_000); // ten firings of each job missed
    const job = (name: string, extra: string) => `  - name: ${name}\n    every: 1m\n    shell: "true"\n${extra}`;
    await addJobs(
      store,
      'jobs:\n' +
        job('cu-skip', '    catchup: skip\n') +
        job('cu-latest', '    catchup: latest\n') +
        job('cu-limit', '    catchup: all\n    catchup_limit: 3\n') +
        job('cu-window', '    catchup: all\n    catchup_window: 2m\n'),
      T0,
    );
    const d = new TestDaemon(store, clock, instant(clock));
    try {
      await d.daemon.start();
      let occs = await settled(store, 'the catch-up to run');
      assert.deepEqual(summary(occs, 'cu-skip'), { missed: 10, ran: 0 });
      assert.deepEqual(summary(occs, 'cu-latest'), { missed: 9, ran: 1 });
      assert.deepEqual(summary(occs, 'cu-limit'), { missed: 7, ran: 3 });
      assert.deepEqual(summary(occs, 'cu-window'), { missed: 8, ran: 2 });
      const ran = (name: string) => occs.filter((o) => o.job === name && o.origin === 'catchup' && o.state === 'succeeded').map((o) => o.key);
      assert.deepEqual(ran('cu-latest'), [key('cu-latest', 10)], 'latest: the newest missed firing runs');
      assert.deepEqual(ran('cu-limit'), [8, 9, 10].map((m) => key('cu-limit', m)), 'all, limit 3: the newest three, oldest first');
      assert.ok(d.lines('missed').includes('cu-skip: 10 firing(s) missed while no daemon ran (catchup: skip)'), d.lines('missed').join('\n'));
      assert.ok(d.lines('catchup').includes('cu-limit: 3 missed firing(s) will run now, oldest first'));

      clock.set(T0 + 11 * MINUTE);
      await d.turn();
      occs = await settled(store);
      for (const name of ['cu-skip', 'cu-latest', 'cu-limit', 'cu-window']) {
        const live = occs.filter((o) => o.job === name && o.origin === 'schedule');
        assert.deepEqual(live.map((o) => [o.key, o.state]), [[key(name, 11), 'succeeded']], `${name}: live again`);
      }
    } finally {
      await d.daemon.stop();
      await store.close();
    }
  }),
);

test(
  'a wall clock that jumps forward hands the skipped span to the catch-up policy',
  withSandbox(async (sb) => {
    const store = await openStore(sb);
    const clock = new FakeClock(T0 + 30_000);
    await addJobs(store, 'jobs:\n  - name: j\n    every: 1m\n    shell: "true"\n    catchup: latest\n', T0);
    const d = new TestDaemon(store, clock, instant(clock));
    try {
      await d.daemon.start();
      clock.set(T0 + MINUTE);
      await d.turn();
      await settled(store);
      clock.jump(10 * MINUTE); // the wall clock alone: T0 + 11 min, with only a moment elapsed
      await d.turn();
      const occs = await settled(store, 'the catch-up after the jump');
      assert.equal(d.lines('clock').length, 1);
      assert.match(d.lines('clock')[0], /^wall clock jumped forward by 10m/);
      assert.deepEqual(summary(occs, 'j'), { missed: 9, ran: 1 }, 'firings at 2..11 min: nine missed, the latest run');
      assert.equal(occs.find((o) => o.origin === 'catchup' && o.state === 'succeeded')?.key, key('j', 11));

      clock.advance(MINUTE);
      await d.turn();
      const after = await settled(store);
      assert.equal(after.filter((o) => o.key === key('j', 12)).length, 1, 'live again at 12 min');
      assert.equal(after.length, 12, 'one occurrence per instant from 1 to 12 min');
    } finally {
      await d.daemon.stop();
      await store.close();
    }
  }),
);

test(
  'a wall clock that jumps back repeats no firing already claimed',
  withSandbox(async (sb) => {
    const store = await openStore(sb);
    const clock = new FakeClock(T0 + 30_000);
    await addJobs(store, 'jobs:\n  - name: j\n    every: 1m\n    shell: "true"\n', T0);
    const d = new TestDaemon(store, clock, instant(clock));
    try {
      await d.daemon.start();
      for (const m of [1, 2]) {
        clock.set(T0 + m * MINUTE);
        await d.turn();
        await settled(store);
      }
      clock.jump(-10 * MINUTE);
      await d.turn();
      assert.match(d.lines('clock').join('\n'), /^wall clock jumped back by 10m/);
      // Time passes again, over the instants already claimed, and on to the next one.
      for (const m of [1, 2, 3]) {
        clock.set(T0 + m * MINUTE);
        await d.turn();
        await settled(store);
      }
      const occs = await settled(store);
      assert.deepEqual(
        occs.map((o) => [o.key, o.state, o.attempts]),
        [1, 2, 3].map((m) => [key('j', m), 'succeeded', 1]),
      );
      assert.equal(d.lines('fired').length, 3, 'each instant fired once');
    } finally {
      await d.daemon.stop();
      await store.close();
    }
  }),
);
