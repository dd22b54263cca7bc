// A daemon with --listen: /metrics after a known sequence of runs, parsed as Prometheus
// text and checked against the store's own record (`tock history --json`); duplicates
// avoided by two daemons on one store; /healthz turning 503 while another process holds
// the store's write lock, and 200 again once it lets go.

import { test } from 'node:test';
import assert from 'node:assert/strict';
import Database from 'better-sqlite3';
import { tock, waitFor, withSandbox, type Sandbox } from './helpers/cli.js';
import { get, listeningDaemon, parseProm, value } from './helpers/observe.js';

interface Occ {
  job: string;
  state: string;
  origin: string;
  finished_at: string | null;
  attempts: { n: number }[];
}

const history = (sb: Sandbox): Occ[] => tock(sb, ['history', '--json', '--limit', '100000']).json();

function add(sb: Sandbox, args: string[]): void {
  const r = tock(sb, ['add', ...args]);
  assert.equal(r.status, 0, r.stderr);
}

/** Pauses the jobs and waits until their history stops changing and nothing of them runs. */
async function settle(sb: Sandbox, jobs: string[]): Promise<Occ[]> {
  for (const j of jobs) assert.equal(tock(sb, ['pause', j]).status, 0);
  let last = '';
  return waitFor('the history to settle', () => {
    const h = history(sb);
    const text = JSON.stringify(h);
    const still = text === last && !h.some((o) => o.state === 'running' || o.state === 'pending');
    last = text;
    return still && h;
  }, 30_000, 1_500);
}

test(
  '/metrics after known runs: every series with its type, occurrences by state, last success and next fire as the store has them',
  withSandbox(async (sb) => {
    add(sb, ['ok', '--every', '1s', '--shell', 'true']);
    add(sb, ['bad', '--every', '1s', '--shell', 'exit 3', '--retries', '0']);
    add(sb, ['later', '--cron', '0 0 1 1 *', '--shell', 'true']);
    const d = await listeningDaemon(sb);
    try {
      await waitFor('two runs of each job', () => {
        const h = history(sb);
        return h.filter((o) => o.job === 'ok' && o.state === 'succeeded').length >= 2 && h.filter((o) => o.job === 'bad' && o.state === 'failed').length >= 2;
      }, 30_000, 200);
      const h = await settle(sb, ['ok', 'bad']);
      const res = await get(d.base, '/metrics');
      assert.equal(res.status, 200);
      assert.match(res.headers.get('content-type') ?? '', /^text\/plain/);
      const { types, samples } = parseProm(res.body);
      const expectedTypes: Record<string, string> = {
        tock_occurrences_total: 'counter',
        tock_attempt_duration_seconds: 'histogram',
        tock_firing_lateness_seconds: 'histogram',
        tock_last_success_timestamp_seconds: 'gauge',
        tock_next_fire_timestamp_seconds: 'gauge',
        tock_running: 'gauge',
        tock_missed_total: 'counter',
        tock_duplicates_avoided_total: 'counter',
        tock_store_errors_total: 'counter',
        tock_notification_outbox_depth: 'gauge',
        tock_notification_delivery_failures_total: 'counter',
      };
      for (const [name, kind] of Object.entries(expectedTypes)) assert.equal(types.get(name), kind, name);

      // Occurrences by job and state: exactly the store's counts, no more series.
      const counts = new Map<string, number>();
      for (const o of h) counts.set(`${o.job}/${o.state}`, (counts.get(`${o.job}/${o.state}`) ?? 0) + 1);
      const served = samples.filter((s) => s.name === 'tock_occurrences_total');
      assert.deepEqual(new Map(served.map((s) => [`${s.labels.job}/${s.labels.state}`, s.value])), counts);
      assert.ok((counts.get('ok/succeeded') ?? 0) >= 2 && (counts.get('bad/failed') ?? 0) >= 2);
      for (const job of ['ok', 'bad']) assert.equal(value(samples, 'tock_missed_total', { job }) ?? 0, counts.get(`${job}/missed`) ?? 0);

      // What this daemon observed: every attempt it ran, and the lateness of every scheduled first attempt.
      const attempts = h.reduce((n, o) => n + o.attempts.length, 0);
      const firsts = h.filter((o) => o.origin === 'schedule' && o.attempts.some((a) => a.n === 1)).length;
      assert.equal(value(samples, 'tock_attempt_duration_seconds_count'), attempts);
      assert.equal(value(samples, 'tock_firing_lateness_seconds_count'), firsts);
      assert.equal(value(samples, 'tock_firing_lateness_seconds_bucket', { le: '+Inf' }), firsts);
      assert.ok(value(samples, 'tock_firing_lateness_seconds_sum')! / firsts < 1, 'fired within a second of schedule on average');

      const lastOk = Math.max(...h.filter((o) => o.job === 'ok' && o.state === 'succeeded').map((o) => Date.parse(o.finished_at!)));
      assert.equal(value(samples, 'tock_last_success_timestamp_seconds', { job: 'ok' }), lastOk / 1000);
      assert.equal(value(samples, 'tock_last_success_timestamp_seconds', { job: 'bad' }), undefined, 'never succeeded');
      const next = Date.parse(tock(sb, ['show', 'later', '--json']).json().next_run);
      assert.equal(value(samples, 'tock_next_fire_timestamp_seconds', { job: 'later' }), next / 1000);
      assert.equal(value(samples, 'tock_next_fire_timestamp_seconds', { job: 'ok' }), undefined, 'paused: no next fire');
      assert.equal(value(samples, 'tock_running'), 0);
      assert.equal(value(samples, 'tock_duplicates_avoided_total'), 0);
      assert.equal(value(samples, 'tock_store_errors_total'), 0);
      assert.equal(value(samples, 'tock_notification_outbox_depth'), 0, 'no job notifies: nothing in the outbox');
      assert.equal(value(samples, 'tock_notification_delivery_failures_total'), 0);

      const head = await get(d.base, '/metrics', 'HEAD');
      assert.equal(head.status, 200);
      assert.equal(head.body, '');
    } finally {
      await d.stop();
    }
  }),
);

test(
  'two daemons on one store: each firing runs once, and the claims one lost are counted as duplicates avoided',
  withSandbox(async (sb) => {
    add(sb, ['dup', '--every', '1s', '--shell', 'true']);
    const a = await listeningDaemon(sb);
    const b = await listeningDaemon(sb).catch(async (err) => {
      await a.stop();
      throw err;
    });
    try {
      await waitFor('four runs', () => history(sb).filter((o) => o.state === 'succeeded').length >= 4, 30_000, 200);
      const h = await settle(sb, ['dup']);
      assert.ok(h.every((o) => o.attempts.length === 1), 'no firing ran twice');
      const avoided = async (base: string) => value(parseProm((await get(base, '/metrics')).body).samples, 'tock_duplicates_avoided_total')!;
      const total = (await avoided(a.base)) + (await avoided(b.base));
      assert.ok(total >= 1, `claims lost to the other daemon are counted (got ${total})`);
    } finally {
      await Promise.all([a.stop(), b.stop()]);
    }
  }),
);

test(
  '/healthz: 200 while the loop turns; 503 with the reason while another process holds the write lock; 200 again after',
  withSandbox(async (sb) => {
    const d = await listeningDaemon(sb, ['--lease', '3s'], { TOCK_BUSY_TIMEOUT_MS: '300' });
    try {
      await waitForAsync('healthy', async () => (await get(d.base, '/healthz')).status === 200);
      const healthy = (await get(d.base, '/healthz')).json();
      assert.equal(healthy.ok, true);
      assert.equal(healthy.store, sb.db);

      const holder = new Database(sb.db);
      holder.exec('BEGIN IMMEDIATE');
      try {
        let seen: { status: number; body: any } | undefined;
        await waitForAsync('503', async () => {
          const r = await get(d.base, '/healthz');
          seen = { status: r.status, body: r.json() };
          return r.status === 503;
        });
        assert.equal(seen!.body.ok, false);
        assert.match(seen!.body.reason, /locked/);
      } finally {
        holder.exec('ROLLBACK');
        holder.close();
      }
      await waitForAsync('200 again', async () => (await get(d.base, '/healthz')).status === 200);
    } finally {
      await d.stop();
    }
  }),
);

async function waitForAsync(what: string, fn: () => Promise<boolean>, timeoutMs = 20_000): Promise<void> {
  const until = Date.now() + timeoutMs;
  while (!(await fn())) {
    if (Date.now() > until) throw new Error(`timed out waiting for ${what}`);
    await new Promise((r) => setTimeout(r, 200));
  }
}
