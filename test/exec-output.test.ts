import { test } from 'node:test';
import assert from 'node:assert/strict';
import { TailBuffer } from '../src/exec/output.js';
import { MB, measureRss } from './helpers/exec-fixtures.js';

test('keeps everything under the limit, without a marker', () => {
  const tail = new TailBuffer(100);
  tail.push(Buffer.from('hello '));
  tail.push(Buffer.from('world\n'));
  assert.equal(tail.text(), 'hello world\n');
  assert.equal(tail.truncated, false);
  assert.equal(tail.totalBytes, 12);
});

test('keeps exactly the last limit bytes across many small pushes and wraps', () => {
  const tail = new TailBuffer(10);
  let all = '';
  for (let i = 0; i < 37; i++) {
    const piece = `${i},`;
    all += piece;
    tail.push(Buffer.from(piece));
  }
  assert.equal(tail.truncated, true);
  assert.equal(tail.totalBytes, all.length);
  assert.equal(tail.text(), `[tock: ${all.length - 10} earlier bytes not kept]\n${all.slice(-10)}`);
});

test('a chunk larger than the limit keeps its own tail', () => {
  const tail = new TailBuffer(5);
  tail.push(Buffer.from('abc'));
  tail.push(Buffer.from('0123456789'));
  assert.equal(tail.text(), '[tock: 8 earlier bytes not kept]\n56789');
  tail.push(Buffer.from('xy'));
  assert.equal(tail.text(), '[tock: 10 earlier bytes not kept]\n789xy');
});

test('a multi-byte character cut at the start of the tail is dropped, not garbled', () => {
  const tail = new TailBuffer(7);
  tail.push(Buffer.from('aaé€€')); // 2 + 2 + 3 + 3 bytes; the last 7 start inside 'é'
  const text = tail.text();
  assert.equal(text, '[tock: 4 earlier bytes not kept]\n€€');
  assert.ok(!text.includes('\uFFFD'));
});

test('a limit of zero keeps nothing but still counts', () => {
  const tail = new TailBuffer(0);
  tail.push(Buffer.from('abc'));
  assert.equal(tail.totalBytes, 3);
  assert.equal(tail.truncated, true);
  assert.equal(tail.text(), '[tock: 3 earlier bytes not kept]\n');
});

test('200 MB pushed in 64 KiB chunks keeps memory flat', async () => {
  const limit = 64 * 1024;
  const tail = new TailBuffer(limit);
  const total = 200 * MB;
  const { growth } = await measureRss(async () => {
    for (let pushed = 0; pushed < total; pushed += 64 * 1024) {
      tail.push(Buffer.alloc(64 * 1024, 0x61 + ((pushed / (64 * 1024)) % 26)));
      if (pushed % (16 * MB) === 0) await new Promise((resolve) => setImmediate(resolve));
    }
  });
  assert.equal(tail.totalBytes, total);
  assert.equal(tail.truncated, true);
  const text = tail.text();
  assert.match(text, /^\[tock: \d+ earlier bytes not kept\]\n[a-z]+$/);
  assert.ok(text.length <= limit + 50);
  assert.ok(growth < 100 * MB, `RSS grew by ${(growth / MB).toFixed(1)} MB`);
});
