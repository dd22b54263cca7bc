// The daemon's read-only API against the CLI's --json for the same store, its 405/404/400
// answers, `tock stats` numbers for a known history, and --listen values refused (exit 2,
// nothing started, no store created).

import { test } from 'node:test';
import assert from 'node:assert/strict';
import fs from 'node:fs';
import net from 'node:net';
import path from 'node:path';
import { exited, isCleanError, tock, tockSpawn, waitFor, withSandbox, writeFile, type Sandbox } from './helpers/cli.js';
import { get, listeningDaemon } from './helpers/observe.js';
import { parseListen } from '../src/observe/listen.js';

/** good: 3 runs that succeed; flaky: 2 runs failing twice each (one retry). */
function knownHistory(sb: Sandbox): void {
  const ok = (args: string[]) => {
    const r = tock(sb, args);
    assert.equal(r.status, args[0] === 'run' && args[1] === 'flaky' ? 1 : 0, r.stderr);
  };
  ok(['add', 'good', '--every', '1h', '--shell', 'echo hi']);
  ok(['add', 'flaky', '--every', '1h', '--shell', 'echo no; exit 1', '--retries', '1', '--backoff', '100ms:100ms']);
  for (const key of ['g1', 'g2', 'g3']) ok(['run', 'good', '--idempotency-key', key]);
  for (const key of ['f1', 'f2']) ok(['run', 'flaky', '--idempotency-key', key]);
}

const cli = (sb: Sandbox, args: string[]) => {
  const r = tock(sb, [...args, '--json']);
  assert.equal(r.status, 0, r.stderr);
  return r.json();
};

/** Nearest rank, as `tock stats` defines its percentiles. */
const rank = (sorted: number[], p: number) => sorted[Math.max(1, Math.ceil((p / 100) * sorted.length)) - 1];

test(
  'tock stats: runs by state, success rate, duration percentiles, retries and last success for a known history',
  withSandbox(async (sb) => {
    knownHistory(sb);
    const h: any[] = cli(sb, ['history', '--limit', '100']);
    const doc = cli(sb, ['stats']);
    assert.equal(doc.since, null);
    assert.deepEqual(doc.jobs.map((j: any) => j.job), ['flaky', 'good']);
    const [flaky, good] = doc.jobs;
    const zero = { pending: 0, running: 0, succeeded: 0, failed: 0, abandoned: 0, skipped: 0, missed: 0 };
    assert.deepEqual(good.runs, { ...zero, succeeded: 3 });
    assert.deepEqual(flaky.runs, { ...zero, failed: 2 });
    assert.equal(good.total, 3);
    assert.equal(good.success_rate, 1);
    assert.equal(flaky.success_rate, 0);
    assert.equal(good.retries, 0);
    assert.equal(flaky.retries, 2);
    assert.equal(flaky.samples, 4);
    const durations = h.filter((o) => o.job === 'good').flatMap((o) => o.attempts.map((a: any) => a.duration_ms)).sort((a: number, b: number) => a - b);
    assert.deepEqual(good.duration_ms, { p50: rank(durations, 50), p95: rank(durations, 95), max: durations[durations.length - 1] });
    assert.deepEqual(good.lateness_ms, { p50: null, p99: null }, 'manual runs are never late');
    const lastOk = h.filter((o) => o.job === 'good').map((o) => o.finished_at).sort().pop();
    assert.equal(good.last_success, lastOk);
    assert.equal(flaky.last_success, null);
    assert.equal(good.duplicates_avoided, null, 'not known to the store');

    assert.deepEqual(cli(sb, ['stats', 'good']).jobs, [good]);
    assert.deepEqual(cli(sb, ['stats', '--since', '2999-01-01T00:00Z']), { since: '2999-01-01T00:00:00.000Z', jobs: [] });
    const text = tock(sb, ['stats']);
    assert.equal(text.status, 0);
    assert.match(text.stdout, /good +3 +3 +0 +0 +100\.0%/);
    assert.match(text.stdout, /duplicates avoided: not recorded in the store/);
    const missing = tock(sb, ['stats', 'nope']);
    assert.equal(missing.status, 3);
    assert.ok(isCleanError(missing));
    const bad = tock(sb, ['stats', '--since', 'whenever']);
    assert.equal(bad.status, 2);
    assert.ok(isCleanError(bad), bad.stderr);
  }),
);

test(
  'the API serves the CLI --json documents for the same store; 405 for writes, 404 and 400 as JSON',
  withSandbox(async (sb) => {
    knownHistory(sb);
    const d = await listeningDaemon(sb);
    try {
      const api = async (path: string) => {
        const r = await get(d.base, `/api/v1/${path}`);
        assert.equal(r.status, 200, `${path}: ${r.body}`);
        assert.match(r.headers.get('content-type') ?? '', /^application\/json/);
        return r.json();
      };
      assert.deepEqual(await api('jobs'), cli(sb, ['list']));
      assert.deepEqual(await api('jobs/good'), cli(sb, ['show', 'good']));
      assert.deepEqual(await api('occurrences'), cli(sb, ['history']));
      assert.deepEqual(await api('occurrences?job=flaky&state=failed&limit=1'), cli(sb, ['history', 'flaky', '--status', 'failed', '--limit', '1']));
      assert.deepEqual(await api('occurrences?since=2026-01-01T00:00Z'), cli(sb, ['history', '--since', '2026-01-01T00:00Z']));
      const first = await api('occurrences/1');
      assert.deepEqual(first, cli(sb, ['logs', '1']));
      assert.equal(first.attempts[0].output, 'hi\n');
      assert.deepEqual(await api('stats'), cli(sb, ['stats']));
      assert.deepEqual(await api('stats?job=good'), cli(sb, ['stats', 'good']));

      const used = await api('keys/g2');
      assert.equal(used.used, true);
      assert.deepEqual(used.occurrence, cli(sb, ['history', '--limit', '100']).find((o: any) => o.idempotency_key === 'g2'));
      assert.equal(used.occurrence.state, 'succeeded');
      assert.deepEqual(await api('keys/never'), { idempotency_key: 'never', used: false, occurrence: null });

      for (const [method, path] of [['POST', '/api/v1/jobs'], ['DELETE', '/api/v1/occurrences/1'], ['PUT', '/metrics'], ['PATCH', '/healthz']]) {
        const r = await get(d.base, path, method);
        assert.equal(r.status, 405, `${method} ${path}`);
        assert.equal(r.headers.get('allow'), 'GET, HEAD');
        assert.match(r.json().error, /read-only/);
      }
      for (const path of ['/nope', '/api/v1/nope', '/api/v1/jobs/nope', '/api/v1/occurrences/999999', '/api/v1/jobs/good/extra']) {
        const r = await get(d.base, path);
        assert.equal(r.status, 404, path);
        assert.equal(typeof r.json().error, 'string');
      }
      for (const query of [
        'occurrences?state=bogus',
        'occurrences?limit=0',
        'occurrences?limit=abc',
        'occurrences?since=whenever',
        'occurrences?colour=red',
        'occurrences?job=',
        'occurrences?job=a&job=b',
        'occurrences/abc',
        'jobs?x=1',
        'stats?since=junk',
        'keys/%E0%A4%A',
      ]) {
        const r = await get(d.base, `/api/v1/${query}`);
        assert.equal(r.status, 400, `${query}: ${r.body}`);
        assert.equal(typeof r.json().error, 'string');
      }
      const head = await get(d.base, '/api/v1/jobs', 'HEAD');
      assert.equal(head.status, 200);
      assert.equal(head.body, '');
    } finally {
      await d.stop();
    }
  }),
);

test('--listen: loopback forms, addresses written out, and everything else refused', () => {
  assert.deepEqual(parseListen('127.0.0.1:9464'), { host: '127.0.0.1', port: 9464, loopback: true, text: '127.0.0.1:9464' });
  assert.deepEqual(parseListen('localhost:9464'), { host: '127.0.0.1', port: 9464, loopback: true, text: '127.0.0.1:9464' });
  assert.deepEqual(parseListen('[::1]:9464'), { host: '::1', port: 9464, loopback: true, text: '[::1]:9464' });
  assert.equal(parseListen('0.0.0.0:9464').loopback, false);
  assert.equal(parseListen('[::]:9464').loopback, false);
  assert.equal(parseListen('10.1.2.3:80').loopback, false);
  for (const bad of [':9464', '*:9464', '0.0.0.0', '9464', 'example.com:9464', '127.0.0.1:65536', '::1:9464', '[127.0.0.1]:9464', '127.0.0.1:', '[::1]9464', 'localhost:-1']) {
    assert.throws(() => parseListen(bad), (err: any) => err.exitCode === 2 && /--listen/.test(err.message), bad);
  }
});

test(
  'tock daemon with a bad --listen or a port in use: exit 2, one line, no store created',
  withSandbox(async (sb) => {
    for (const bad of [':9464', '0.0.0.0', 'example.com:9464', '127.0.0.1:99999']) {
      const r = tock(sb, ['daemon', '--listen', bad]);
      assert.equal(r.status, 2, `${bad}: ${r.stderr}`);
      assert.ok(isCleanError(r), r.stderr);
    }
    const taken = net.createServer();
    await new Promise<void>((resolve) => taken.listen(0, '127.0.0.1', resolve));
    try {
      const port = (taken.address() as net.AddressInfo).port;
      const r = tock(sb, ['daemon', '--listen', `127.0.0.1:${port}`]);
      assert.equal(r.status, 2, r.stderr);
      assert.ok(isCleanError(r), r.stderr);
      assert.match(r.stderr, /in use/);
    } finally {
      taken.close();
    }
    assert.equal(fs.existsSync(sb.db), false, 'the store was never opened');
  }),
);

test(
  'prom-client is loaded only by a daemon with --listen: never by `tock list` or a daemon without it',
  withSandbox(async (sb) => {
    const trace = path.join(sb.dir, 'loaded.txt');
    const preload = writeFile(
      sb,
      'trace.cjs',
      // At exit: whether any file of prom-client is in the module cache (imported or required).
      `process.on('exit', () => {
         if (Object.keys(require('module')._cache).some((f) => /[\\/]prom-client[\\/]/.test(f))) require('fs').appendFileSync(${JSON.stringify(trace)}, 'prom-client\\n');
       });`,
    );
    const env = { NODE_OPTIONS: `--require ${preload}` };
    assert.equal(tock(sb, ['list'], env).status, 0);
    const plain = tockSpawn(sb, ['daemon'], env);
    try {
      await waitFor('the daemon to start', () => / started +daemon /.test(plain.output()));
    } finally {
      plain.kill('SIGTERM');
      await exited(plain);
    }
    assert.equal(fs.existsSync(trace), false, 'not loaded');
    const d = await listeningDaemon(sb, [], env);
    await d.stop();
    assert.match(fs.readFileSync(trace, 'utf8'), /^prom-client\n/, 'loaded with --listen');
  }),
);
