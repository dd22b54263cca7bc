import { test } from 'node:test';
import assert from 'node:assert/strict';
import { MinHeap } from '../src/daemon/heap.js';

test('pops in key order through interleaved pushes and pops, duplicates included', () => {
  let seed = 12345;
  const random = () => ((seed = (seed * 1103515245 + 12345) % 2 ** 31) / 2 ** 31);
  const heap = new MinHeap<{ at: number; id: number }>((e) => e.at);
  const model: { at: number; id: number }[] = [];
  let id = 0;
  for (let step = 0; step < 20_000; step++) {
    if (random() < 0.6 || model.length === 0) {
      const e = { at: Math.floor(random() * 500), id: id++ }; // few distinct keys: many ties
      heap.push(e);
      model.push(e);
    } else {
      const got = heap.pop()!;
      const least = Math.min(...model.map((e) => e.at));
      assert.equal(got.at, least);
      model.splice(model.indexOf(got), 1); // the very item pushed, once
    }
    assert.equal(heap.size, model.length);
    assert.equal(heap.peek()?.at, model.length ? Math.min(...model.map((e) => e.at)) : undefined);
  }
  const rest: number[] = [];
  for (let e = heap.pop(); e; e = heap.pop()) rest.push(e.at);
  assert.deepEqual(rest, model.map((e) => e.at).sort((a, b) => a - b));
  assert.equal(heap.pop(), undefined);
});

test('clear empties it', () => {
  const heap = new MinHeap<number>((n) => n);
  [3, 1, 2].forEach((n) => heap.push(n));
  heap.clear();
  assert.equal(heap.size, 0);
  assert.equal(heap.peek(), undefined);
});
