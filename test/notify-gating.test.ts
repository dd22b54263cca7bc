// shouldNotify for every event: `after: N` fires a run of failures once, on the Nth, and
// `recovered` closes only a run that reached it; missed, late and long are not counted.

import { test } from 'node:test';
import assert from 'node:assert/strict';
import { channelsToNotify, shouldNotify } from '../src/semantics/notify.js';
import { NOTIFY_EVENTS, type NotifyChannel, type NotifyEvent } from '../src/types.js';

const all = { on: [...NOTIFY_EVENTS] };
const target = { kind: 'shell' as const, command: 'true' };

test('an event a channel does not list never fires it', () => {
  for (const event of NOTIFY_EVENTS) {
    const others = NOTIFY_EVENTS.filter((e) => e !== event);
    for (const failures of [0, 1, 3]) assert.equal(shouldNotify({ on: others }, event, failures), false, event);
  }
});

test('without after: every failed and abandoned fires, recovered fires after any failure', () => {
  for (const failures of [1, 2, 10]) {
    assert.equal(shouldNotify(all, 'failed', failures), true);
    assert.equal(shouldNotify(all, 'abandoned', failures), true);
    assert.equal(shouldNotify(all, 'recovered', failures), true);
  }
  assert.equal(shouldNotify(all, 'recovered', 0), false);
});

test('after: 3 fires on the third consecutive failure only, failed and abandoned alike', () => {
  const ch = { ...all, after: 3 };
  const seen = (event: NotifyEvent) => [1, 2, 3, 4, 5, 6].filter((n) => shouldNotify(ch, event, n));
  assert.deepEqual(seen('failed'), [3]);
  assert.deepEqual(seen('abandoned'), [3]);
});

test('after: 3 and recovered: only a run that reached 3 (an alert that was sent) is closed', () => {
  const ch = { ...all, after: 3 };
  assert.deepEqual([0, 1, 2, 3, 4, 9].filter((n) => shouldNotify(ch, 'recovered', n)), [3, 4, 9]);
});

test('after: 1 is the same as no after for failures', () => {
  assert.deepEqual([1, 2, 3].map((n) => shouldNotify({ ...all, after: 1 }, 'failed', n)), [true, false, false]);
});

test('missed, late and long fire every time they are listed; after: does not count them', () => {
  for (const event of ['missed', 'late', 'long'] as const) {
    for (const failures of [0, 1, 2, 5]) assert.equal(shouldNotify({ ...all, after: 3 }, event, failures), true, event);
  }
});

test('a run of results, as the recorder would report them, with after: 2', () => {
  const ch = { on: ['failed', 'recovered'] as NotifyEvent[], after: 2 };
  const results = ['fail', 'fail', 'fail', 'ok', 'fail', 'ok', 'fail', 'fail', 'ok'];
  let run = 0;
  const fired: string[] = [];
  results.forEach((r, i) => {
    if (r === 'fail') {
      run += 1;
      if (shouldNotify(ch, 'failed', run)) fired.push(`${i}:failed`);
    } else {
      if (run > 0 && shouldNotify(ch, 'recovered', run)) fired.push(`${i}:recovered`);
      run = 0;
    }
  });
  assert.deepEqual(fired, ['1:failed', '3:recovered', '7:failed', '8:recovered']);
});

test('channelsToNotify returns the indexes of the channels that fire', () => {
  const channels: NotifyChannel[] = [
    { on: ['failed'], target },
    { on: ['failed'], after: 2, target },
    { on: ['missed'], target },
  ];
  assert.deepEqual(channelsToNotify(channels, 'failed', 1), [0]);
  assert.deepEqual(channelsToNotify(channels, 'failed', 2), [0, 1]);
  assert.deepEqual(channelsToNotify(channels, 'missed', 0), [2]);
  assert.deepEqual(channelsToNotify(undefined, 'failed', 1), []);
});
