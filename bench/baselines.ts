// The raw rates tock's throughput is held against, measured in the same run on the same
// machine: Node's fetch against the same local server (the baseline the issue names), and
// node:http with a keep-alive agent (the client tock itself uses since fetch was dropped),
// `sh -c true` spawned by Node, and the store's own claim-and-record transactions with
// tock's durability settings.

import { spawn } from 'node:child_process';
import http from 'node:http';
import path from 'node:path';
import { Connection as Store } from '../src/store/sqlite/connection.js';
import { VERSION } from '../src/types.js';

/** Runs `worker` on `concurrency` lanes for `ms` and returns completions per second. */
async function lanes(concurrency: number, ms: number, worker: () => Promise<void>): Promise<number> {
  const until = performance.now() + ms;
  let done = 0;
  const t0 = performance.now();
  const lane = async () => {
    while (performance.now() < until) {
      await worker();
      done++;
    }
  };
  await Promise.all(Array.from({ length: concurrency }, lane));
  return done / ((performance.now() - t0) / 1000);
}

/** GETs with the headers tock sends, body read to the end, as tock does. */
export function fetchRate(url: string, concurrency: number, ms: number): Promise<number> {
  let n = 0;
  return lanes(concurrency, ms, async () => {
    const res = await fetch(url, {
      headers: { 'Idempotency-Key': `baseline@${n++}`, 'User-Agent': `tock/${VERSION}` },
    });
    await res.arrayBuffer();
  });
}

/** The same GETs through node:http with a keep-alive agent, body read to the end. */
export async function nodeHttpRate(url: string, concurrency: number, ms: number): Promise<number> {
  const agent = new http.Agent({ keepAlive: true });
  let n = 0;
  try {
    return await lanes(
      concurrency,
      ms,
      () =>
        new Promise<void>((resolve, reject) => {
          const headers = { 'Idempotency-Key': `baseline@${n++}`, 'User-Agent': `tock/${VERSION}`, accept: '*/*' };
          const req = http.request(url, { agent, headers }, (res) => {
            res.on('data', () => {});
            res.once('end', resolve);
            res.once('error', reject);
          });
          req.once('error', reject);
          req.end();
        }),
    );
  } finally {
    agent.destroy();
  }
}

/** `/bin/sh -c true`, waiting for it to exit. */
export function spawnRate(concurrency: number, ms: number): Promise<number> {
  return lanes(
    concurrency,
    ms,
    () =>
      new Promise<void>((resolve, reject) => {
        const child = spawn('/bin/sh', ['-c', 'true'], { stdio: 'ignore' });
        child.once('error', reject);
        child.once('exit', () => resolve());
      }),
  );
}

/**
 * One occurrence's worth of store work, through the store's own statements: a claim
 * transaction (occurrence + attempt 1) and a record transaction (attempt result + final
 * state), each a synchronous commit (WAL, synchronous=FULL), as the daemon does them.
 */
export function storeRate(dir: string, ms: number): number {
  const store = Store.open(path.join(dir, 'store-baseline.db'));
  try {
    const until = performance.now() + ms;
    const t0 = performance.now();
    let n = 0;
    while (performance.now() < until) {
      const now = Date.now();
      const occ = store.write(() =>
        store.occurrences.claim({
          job: 'baseline',
          key: `baseline@${n}`,
          scheduledAt: now,
          fireAt: now,
          origin: 'schedule',
          delivery: 'at-least-once',
          jobVersion: 1,
          state: 'running',
          leaseOwner: 'bench',
          leaseExpiresAt: now + 30_000,
          now,
        }),
      )!;
      store.write(() => {
        store.occurrences.finishAttempt(occ.id, 1, {
          outcome: 'succeeded',
          retryable: false,
          httpStatus: 200,
          output: '',
          outputTruncated: false,
          outputBytes: 0,
          startedAt: now,
          finishedAt: Date.now(),
        });
        store.occurrences.byId(occ.id);
        store.occurrences.finish(occ.id, 'succeeded', null, Date.now());
      });
      n++;
    }
    return n / ((performance.now() - t0) / 1000);
  } finally {
    store.close();
  }
}
