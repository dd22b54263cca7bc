// Notifications delivered end to end (SPEC §9): real `tock daemon` processes on a real
// SQLite store, shell channels that append one line per delivery to a file in the sandbox,
// a real webhook on 127.0.0.1, and `tock notifications --json` for what the outbox holds.
// Each event fires exactly when it should, each notification key is delivered once (a
// kill -9 between the result and its delivery, two daemons on one store), retries keep
// their key. Timing is asserted only with generous bounds.

import { afterEach, describe, test } from 'node:test';
import assert from 'node:assert/strict';
import fs from 'node:fs';
import http from 'node:http';
import type { AddressInfo } from 'node:net';
import path from 'node:path';
import { exited, isCleanError, sandbox, tock, tockSpawn, waitFor, writeFile, type Sandbox } from './helpers/cli.js';

type Daemon = ReturnType<typeof tockSpawn>;

interface Sent {
  key: string;
  event: string;
  failures: number;
  attempts: number;
}

const sleep = (ms: number) => new Promise<void>((r) => setTimeout(r, Math.max(0, ms)));
/** A bound for a race: it does not keep the test process alive once the race is decided. */
const bound = (ms: number) => new Promise<void>((r) => setTimeout(r, ms).unref());

let sb: Sandbox;
const daemons: Daemon[] = [];

async function cleanup(): Promise<void> {
  for (const d of daemons.splice(0)) {
    if (d.exitCode === null && d.signalCode === null) d.kill('SIGKILL');
    await Promise.race([exited(d), bound(5_000)]);
  }
  sb?.cleanup();
}

function fresh(): Sandbox {
  sb = sandbox();
  return sb;
}

const file = (name: string) => path.join(sb.dir, name);

/** A shell channel that appends `key event failures attempts` to `name`. */
function logChannel(name: string, on: string[], extra: Record<string, unknown> = {}) {
  return { on, shell: `echo "$TOCK_NOTIFICATION_KEY $TOCK_EVENT \${TOCK_CONSECUTIVE_FAILURES:-0} $TOCK_ATTEMPTS" >> '${file(name)}'`, ...extra };
}

function sent(name: string): Sent[] {
  if (!fs.existsSync(file(name))) return [];
  return fs
    .readFileSync(file(name), 'utf8')
    .split('\n')
    .filter(Boolean)
    .map((l) => {
      const [key, event, failures, attempts] = l.split(' ');
      return { key, event, failures: Number(failures), attempts: Number(attempts) };
    });
}

function apply(jobs: Record<string, unknown>[]): void {
  const r = tock(sb, ['apply', writeFile(sb, `jobs-${Date.now()}.yaml`, JSON.stringify({ jobs }))]);
  assert.equal(r.status, 0, r.stderr);
}

async function daemon(args: string[] = [], env: NodeJS.ProcessEnv = {}): Promise<Daemon> {
  const d = tockSpawn(sb, ['daemon', ...args], env);
  daemons.push(d);
  await waitFor(`daemon ${d.pid} to start`, () => {
    if (d.exitCode !== null) throw new Error(`daemon exited with ${d.exitCode}:\n${d.output()}`);
    return / started /.test(d.output());
  }, 15_000, 50);
  return d;
}

async function stop(d: Daemon): Promise<void> {
  d.kill('SIGTERM');
  const code = await Promise.race([exited(d), bound(20_000).then(() => 'timeout')]);
  assert.notEqual(code, 'timeout', `daemon still running after SIGTERM:\n${d.output()}`);
}

function outbox(job?: string): any[] {
  const r = tock(sb, ['notifications', ...(job ? [job] : []), '--json', '--limit', '1000']);
  assert.equal(r.status, 0, r.stderr);
  return r.json();
}

function history(job: string, state?: string): any[] {
  const r = tock(sb, ['history', job, '--json', '--limit', '1000', ...(state ? ['--status', state] : [])]);
  assert.equal(r.status, 0, r.stderr);
  return r.json();
}

/** Every key in the file once, and every row of the outbox that was sent is in the file. */
function assertOnce(name: string): Sent[] {
  const lines = sent(name);
  const keys = lines.map((l) => l.key);
  assert.deepEqual(keys, [...new Set(keys)], `a notification was delivered twice:\n${keys.join('\n')}`);
  return lines;
}

/** A command that fails its first `n` runs (counted in a file), then succeeds. */
const failFirst = (n: number, counter: string) =>
  `c=$(cat '${file(counter)}' 2>/dev/null || echo 0); c=$((c+1)); echo $c > '${file(counter)}'; [ $c -gt ${n} ]`;

describe('notification delivery', () => {
  afterEach(cleanup);

  test('failed after its retries, with after: N once per run of failures, and recovered on the first success', async () => {
    fresh();
    apply([
      {
        name: 'flaky',
        cron: '* * * * * *',
        retries: 1,
        backoff: '100ms',
        overlap: 'skip',
        shell: failFirst(6, 'count'),
        notify: [logChannel('a.log', ['failed', 'recovered']), logChannel('b.log', ['failed', 'recovered'], { after: 2 })],
      },
    ]);
    const d = await daemon();
    await waitFor('two successes after the failures', () => history('flaky', 'succeeded').length >= 2, 30_000, 200);
    await waitFor('the recovered notifications', () => sent('a.log').length >= 4 && sent('b.log').length >= 2, 15_000, 100);
    await sleep(1_500); // nothing more may come
    await stop(d);
    assert.equal(history('flaky', 'failed').length, 3, 'six failed attempts: three occurrences failed after their retry');
    const a = assertOnce('a.log');
    assert.deepEqual(a.map((l) => [l.event, l.failures]), [['failed', 1], ['failed', 2], ['failed', 3], ['recovered', 3]]);
    assert.ok(a.slice(0, 3).every((l) => l.attempts === 2), 'failed after its retries: two attempts each');
    const b = assertOnce('b.log');
    assert.deepEqual(b.map((l) => [l.event, l.failures]), [['failed', 2], ['recovered', 3]]);
    assert.ok(outbox('flaky').every((n) => n.state === 'sent' && n.attempts === 1));
  });

  test('missed by catch-up, abandoned by a takeover, late and long', async () => {
    fresh();
    const at = new Date(Math.ceil((Date.now() + 1_500) / 1000) * 1000).toISOString().replace('.000Z', 'Z');
    apply([
      { name: 'nightly', cron: '* * * * * *', catchup: 'skip', shell: 'true', notify: [logChannel('missed.log', ['missed'])] },
      { name: 'once', at, catchup: 'latest', late_after: '1s', warn_after: '1s', shell: 'sleep 3', notify: [logChannel('watch.log', ['late', 'long'])] },
      { name: 'guarded', cron: '* * * * * *', delivery: 'at-most-once', shell: 'sleep 8', notify: [logChannel('abandoned.log', ['abandoned'])] },
    ]);
    await sleep(Date.parse(at) + 2_500 - Date.now()); // nightly misses its firings, once its one instant
    const first = await daemon(['--lease', '1s']);
    await waitFor('the first run of guarded, and once noticed late', () => history('guarded', 'running').length > 0 && /noticed .*late/.test(first.output()), 10_000, 100);
    first.kill('SIGKILL');
    await exited(first);
    const second = await daemon(['--lease', '1s', '--grace', '1s']);
    const allSent = () => outbox('nightly').every((n) => n.state === 'sent');
    await waitFor('missed, late, long and abandoned', () => sent('watch.log').length >= 2 && sent('abandoned.log').length > 0 && allSent(), 20_000, 200);
    await stop(second);

    const missed = history('nightly', 'missed');
    assert.ok(missed.length >= 2, `firings missed while no daemon ran: ${missed.length}`);
    const rows = outbox('nightly');
    assert.equal(rows.length, missed.length, 'one missed notification per missed firing');
    assert.ok(rows.every((n) => n.event === 'missed'));
    const m = assertOnce('missed.log');
    assert.deepEqual(m.map((l) => l.key).sort(), rows.filter((n) => n.state === 'sent').map((n) => n.key).sort());
    const w = assertOnce('watch.log');
    assert.deepEqual(w.map((l) => l.event).sort(), ['late', 'long'], 'the late catch-up run: late once, long once');
    const abandoned = history('guarded', 'abandoned');
    const ab = assertOnce('abandoned.log');
    assert.ok(ab.length >= 1 && ab.length <= abandoned.length);
    assert.ok(ab.every((l) => l.event === 'abandoned'));
    assert.equal(ab[0].failures, 1);
  });

  test('a webhook that fails twice gets three tries with one Idempotency-Key, and tock notifications shows it', async () => {
    fresh();
    const requests: { key: string; attempt: string; body: any }[] = [];
    const server = http.createServer((req, res) => {
      let body = '';
      req.on('data', (d) => (body += d));
      req.on('end', () => {
        requests.push({ key: String(req.headers['idempotency-key']), attempt: String(req.headers['x-tock-attempt']), body: JSON.parse(body) });
        res.statusCode = requests.length <= 2 ? 503 : 200;
        res.end();
      });
    });
    await new Promise<void>((r) => server.listen(0, '127.0.0.1', r));
    try {
      const url = `http://127.0.0.1:${(server.address() as AddressInfo).port}/alert`;
      apply([{ name: 'fragile', cron: '* * * * * *', retries: 0, shell: `${failFirst(1, 'count')} || { echo boom; exit 4; }`, notify: [{ on: ['failed'], http: { url } }] }]);
      const d = await daemon();
      await waitFor('three tries', () => requests.length >= 3, 20_000, 100);
      await sleep(1_500);
      await stop(d);
      assert.equal(requests.length, 3);
      assert.equal(new Set(requests.map((r) => r.key)).size, 1, 'one key for every try');
      assert.match(requests[0].key, /^fragile@.*#notify:failed:0$/);
      assert.deepEqual(requests.map((r) => r.attempt), ['1', '2', '3']);
      assert.equal(requests[2].body.event, 'failed');
      assert.equal(requests[2].body.exit_code, 4);
      assert.match(requests[2].body.output, /boom/);
      const [n] = outbox('fragile');
      assert.equal(n.state, 'sent');
      assert.equal(n.attempts, 3);
      assert.equal(n.key, requests[0].key);
      assert.match(n.last_error, /503/);
      const table = tock(sb, ['notifications', 'fragile']);
      assert.equal(table.status, 0, table.stderr);
      assert.match(table.stdout, /fragile .* failed .* sent/);
    } finally {
      server.close();
    }
  });

  test('kill -9 between recording a failure and delivering its notification: delivered once after restart', async () => {
    fresh();
    apply([{ name: 'doomed', cron: '* * * * * *', retries: 0, shell: 'exit 1', notify: [logChannel('doomed.log', ['failed'])] }]);
    const first = tockSpawn(sb, ['daemon'], { TOCK_FAULT: 'after-record@1' });
    daemons.push(first);
    await exited(first);
    assert.match(first.output(), /tock-fault: after-record/);
    const [row] = outbox('doomed');
    assert.equal(row.state, 'pending', 'written with the result, not yet delivered');
    assert.equal(row.attempts, 0);
    assert.deepEqual(sent('doomed.log'), []);
    const second = await daemon();
    await waitFor('the notification of the first failure', () => sent('doomed.log').some((l) => l.key === row.key), 15_000, 100);
    await sleep(1_000);
    await stop(second);
    const lines = assertOnce('doomed.log');
    assert.equal(lines.filter((l) => l.key === row.key).length, 1);
    assert.equal(outbox('doomed').find((n) => n.key === row.key).state, 'sent');
  });

  test('two daemons on one store: every notification delivered, none twice', async () => {
    fresh();
    apply([{ name: 'shared', cron: '* * * * * *', retries: 0, overlap: 'allow', shell: 'exit 1', notify: [logChannel('shared.log', ['failed']), logChannel('shared.log', ['failed'])] }]);
    const a = await daemon();
    const b = await daemon();
    await sleep(4_000);
    await stop(a);
    await stop(b);
    const lines = assertOnce('shared.log');
    const rows = outbox('shared');
    assert.ok(rows.length >= 4, `notifications written: ${rows.length}`);
    const delivered = rows.filter((n) => n.state === 'sent').map((n) => n.key).sort();
    assert.deepEqual(lines.map((l) => l.key).sort(), delivered);
    assert.equal(history('shared', 'failed').length * 2, rows.length, 'two channels: two notifications per failure');
  });

  test('tock notifications: bad flags are exit 2 with one line, an unknown job exit 3', () => {
    fresh();
    for (const args of [['--status', 'nope'], ['--limit', '0'], ['--limit', 'x']]) {
      const r = tock(sb, ['notifications', ...args]);
      assert.equal(r.status, 2, r.stderr);
      assert.ok(isCleanError(r), r.stderr);
    }
    const r = tock(sb, ['notifications', 'nosuch']);
    assert.equal(r.status, 3, r.stderr);
    assert.ok(isCleanError(r), r.stderr);
    const empty = tock(sb, ['notifications']);
    assert.equal(empty.status, 0);
    assert.equal(empty.stdout, 'no notifications yet\n');
  });
});
