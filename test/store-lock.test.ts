// The store's write lock as two processes' connections meet it: writeWhenFree waits for a
// busy lock without stopping the event loop (for its first 20 ms), runs its work once the lock is taken, and
// gives up with SQLITE_BUSY after the busy timeout, having changed nothing.

import { test } from 'node:test';
import assert from 'node:assert/strict';
import { Connection as Store } from '../src/store/sqlite/connection.js';
import { withSandbox } from './helpers/cli.js';

const count = (store: Store) => store.read(() => store.db.prepare('SELECT count(*) FROM runners').pluck().get() as number);

const runner = (id: string) => ({
  id, kind: 'daemon' as const, host: 'h', pid: 1, version: 'test', started_at: Date.now(), detail: '{}', boot_id: null, pid_ns: null, start_ticks: null,
});

test(
  'a busy lock is waited for on the event loop; the work runs once, when the holder commits',
  withSandbox(async (sb) => {
    const holder = Store.open(sb.db, { busyTimeoutMs: 5_000 });
    const waiter = Store.open(sb.db, { busyTimeoutMs: 5_000 });
    try {
      holder.db.exec('BEGIN IMMEDIATE');
      holder.runners.register(runner('holder'));
      let ran = 0;
      // The holder commits from a timer of this same process: were the waiter to stop the
      // thread, the timer could not run and the write would fail when the busy timeout passed.
      setTimeout(() => {
        assert.equal(ran, 0, 'nothing runs while another holds the lock');
        holder.db.exec('COMMIT');
      }, 10);
      const written = waiter.writeWhenFree(() => {
        ran++;
        waiter.runners.register(runner('waiter'));
        return count(waiter);
      });
      assert.equal(await written, 2, "the waiter's transaction sees the holder's row");
      assert.equal(ran, 1);
      assert.equal(count(holder), 2);
    } finally {
      holder.close();
      waiter.close();
    }
  }),
);

test(
  'a lock held past the busy timeout fails the write with SQLITE_BUSY and leaves the store as it was',
  withSandbox(async (sb) => {
    const holder = Store.open(sb.db, { busyTimeoutMs: 5_000 });
    const waiter = Store.open(sb.db, { busyTimeoutMs: 200 });
    try {
      holder.db.exec('BEGIN IMMEDIATE');
      const started = performance.now();
      let ran = false;
      await assert.rejects(
        waiter.writeWhenFree(() => {
          ran = true;
          waiter.runners.register(runner('waiter'));
        }),
        (err: { code?: string }) => err.code === 'SQLITE_BUSY',
      );
      const waited = performance.now() - started;
      assert.ok(waited >= 200, `gave up after ${waited.toFixed(0)} ms`);
      assert.equal(ran, false);
      assert.equal(waiter.db.inTransaction, false);
      holder.db.exec('ROLLBACK');
      assert.equal(count(waiter), 0);
      // Its next write works at once: nothing was left half-begun, and SQLite's own busy
      // wait, off while trying, is back on for reads.
      await waiter.writeWhenFree(() => waiter.runners.register(runner('later')));
      assert.equal(count(holder), 1);
      assert.equal(waiter.db.pragma('busy_timeout', { simple: true }), 200);
    } finally {
      holder.close();
      waiter.close();
    }
  }),
);

test(
  'a failure inside the work rolls it back and releases the lock',
  withSandbox(async (sb) => {
    const store = Store.open(sb.db, { busyTimeoutMs: 1_000 });
    const other = Store.open(sb.db, { busyTimeoutMs: 1_000 });
    try {
      await assert.rejects(
        store.writeWhenFree(() => {
          store.runners.register(runner('doomed'));
          throw new Error('boom');
        }),
        /boom/,
      );
      assert.equal(store.db.inTransaction, false);
      other.write(() => other.runners.register(runner('next'))); // the lock is free
      assert.equal(count(store), 1);
    } finally {
      store.close();
      other.close();
    }
  }),
);

test(
  '`committed` runs right after the commit, before the promise settles, on the waiting path too',
  withSandbox(async (sb) => {
    const holder = Store.open(sb.db, { busyTimeoutMs: 5_000 });
    const waiter = Store.open(sb.db, { busyTimeoutMs: 5_000 });
    try {
      const order: string[] = [];
      holder.db.exec('BEGIN IMMEDIATE');
      setTimeout(() => holder.db.exec('COMMIT'), 10);
      const written = waiter.writeWhenFree(
        () => waiter.runners.register(runner('waiter')),
        () => {
          assert.equal(waiter.db.inTransaction, false);
          assert.equal(count(holder), 1, 'visible to another connection: committed');
          order.push('committed');
        },
      );
      void written.then(() => order.push('settled'));
      await written;
      await Promise.resolve();
      assert.deepEqual(order, ['committed', 'settled']);
    } finally {
      holder.close();
      waiter.close();
    }
  }),
);
