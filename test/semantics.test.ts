// The delivery guarantees against real processes: kill -9 of the daemon while a target
// runs, for each semantics; HTTP retries with one Idempotency-Key; run, retry and logs.

import { test } from 'node:test';
import assert from 'node:assert/strict';
import fs from 'node:fs';
import http from 'node:http';
import path from 'node:path';
import { exited, isCleanError, tock, tockAsync, tockSpawn, waitFor, withSandbox, type Sandbox } from './helpers/cli.js';


const lines = (file: string) => (fs.existsSync(file) ? fs.readFileSync(file, 'utf8').trim().split('\n').filter(Boolean) : []);
const soon = (ms: number) => new Date(Date.now() + ms).toISOString();

function history(sb: Sandbox, job?: string) {
  const r = tock(sb, ['history', ...(job ? [job] : []), '--json', '--limit', '1000']);
  assert.equal(r.status, 0, r.stderr);
  return r.json() as any[];
}

function pidAlive(pid: number): boolean {
  try {
    process.kill(pid, 0);
    const stat = fs.readFileSync(`/proc/${pid}/stat`, 'latin1');
    return stat.slice(stat.lastIndexOf(')') + 2)[0] !== 'Z';
  } catch {
    return false;
  }
}

for (const delivery of ['at-most-once', 'at-least-once', 'exactly-once'] as const) {
  test(
    `kill -9 of the daemon while a ${delivery} target runs`,
    withSandbox(async (sb) => {
      const log = path.join(sb.dir, 'executions.log');
      const pidFile = path.join(sb.dir, 'first.pid');
      // Attempt 1 records itself and hangs; any later attempt records itself and succeeds.
      const cmd =
        `echo "$TOCK_IDEMPOTENCY_KEY $TOCK_ATTEMPT" >> ${log}; ` +
        `if [ "$TOCK_ATTEMPT" = 1 ]; then echo $$ > ${pidFile}; sleep 60; fi`;
      const add = tock(sb, ['add', 'victim', '--at', soon(1500), '--shell', cmd, '--delivery', delivery]);
      assert.equal(add.status, 0, add.stderr);
      const first = tockSpawn(sb, ['daemon']);
      let second: ReturnType<typeof tockSpawn> | undefined;
      try {
        await waitFor('the first attempt to start', () => lines(log).length === 1 && fs.existsSync(pidFile));
        first.kill('SIGKILL');
        await exited(first);
        const orphan = Number(fs.readFileSync(pidFile, 'utf8'));
        const running = history(sb, 'victim');
        assert.equal(running.length, 1);
        assert.equal(running[0].state, 'running', 'the claim was committed before the target started');

        second = tockSpawn(sb, ['daemon']);
        const final = await waitFor('the occurrence to be settled', () => {
          const h = history(sb, 'victim');
          return h.length === 1 && !['running', 'pending'].includes(h[0].state) && h[0];
        });
        const executions = lines(log);
        if (delivery === 'at-most-once') {
          assert.equal(final.state, 'abandoned', second.output());
          assert.match(final.reason, /never re-run/);
          assert.equal(executions.length, 1, 'never executed twice');
          assert.equal(final.attempts.length, 1);
          assert.equal(final.attempts[0].outcome, 'abandoned');
        } else {
          assert.equal(final.state, 'succeeded', second.output());
          assert.equal(executions.length, 2, 're-run exactly once');
          const keys = new Set(executions.map((l) => l.split(' ')[0]));
          assert.deepEqual([...keys], [final.idempotency_key], 'the same key on the re-run');
          assert.deepEqual(final.attempts.map((a: any) => [a.n, a.trigger, a.outcome]), [
            [1, 'schedule', 'abandoned'],
            [2, 'recovery', 'succeeded'],
          ]);
          await waitFor('the dead attempt\'s target to be killed before the re-run', () => !pidAlive(orphan));
        }
        if (pidAlive(orphan)) process.kill(orphan, 'SIGKILL');
      } finally {
        first.kill('SIGKILL');
        second?.kill('SIGKILL');
        if (second) await exited(second);
      }
    }),
  );
}

/** A local HTTP server that answers from a script of statuses and records each request. */
async function server(script: { status: number; headers?: Record<string, string> }[]) {
  const seen: { at: number; key: string | undefined; ua: string | undefined; method: string; body: string }[] = [];
  const srv = http.createServer((req, res) => {
    let body = '';
    req.on('data', (d) => (body += d));
    req.on('end', () => {
      seen.push({ at: Date.now(), key: req.headers['idempotency-key'] as string, ua: req.headers['user-agent'], method: req.method!, body });
      const step = script[Math.min(seen.length - 1, script.length - 1)];
      res.writeHead(step.status, step.headers);
      res.end(`answer ${seen.length}`);
    });
  });
  await new Promise<void>((r) => srv.listen(0, '127.0.0.1', r));
  const port = (srv.address() as { port: number }).port;
  return { url: `http://127.0.0.1:${port}/hook`, seen, close: () => new Promise((r) => srv.close(r)) };
}

test(
  'an HTTP target failing twice then succeeding sees three requests with one Idempotency-Key',
  withSandbox(async (sb) => {
    const srv = await server([{ status: 503 }, { status: 500 }, { status: 200 }]);
    try {
      tock(sb, ['add', 'hook', '--every', '1h', '--http', srv.url, '--method', 'POST', '--body', 'hi', '--delivery', 'exactly-once', '--backoff', '50ms:200ms']);
      const r = await tockAsync(sb, ['run', 'hook', '--json']);
      assert.equal(r.status, 0, r.stderr);
      const occ = r.json();
      assert.equal(occ.state, 'succeeded');
      assert.equal(srv.seen.length, 3);
      assert.deepEqual(new Set(srv.seen.map((s) => s.key)), new Set([occ.idempotency_key]));
      assert.match(srv.seen[0].ua!, /^tock\/\d/);
      assert.equal(srv.seen[0].method, 'POST');
      assert.equal(srv.seen[0].body, 'hi');
      assert.deepEqual(occ.attempts.map((a: any) => a.http_status), [503, 500, 200]);
      assert.deepEqual(occ.attempts.map((a: any) => a.trigger), ['manual', 'backoff', 'backoff']);
      const logs = await tockAsync(sb, ['logs', String(occ.id)]);
      assert.match(logs.stdout, /answer 1[\s\S]*answer 2[\s\S]*answer 3/);
    } finally {
      await srv.close();
    }
  }),
);

test(
  'a 404 is permanent: one request, exit 1, failed',
  withSandbox(async (sb) => {
    const srv = await server([{ status: 404 }]);
    try {
      tock(sb, ['add', 'hook', '--every', '1h', '--http', srv.url, '--backoff', '10ms']);
      const r = await tockAsync(sb, ['run', 'hook', '--json']);
      assert.equal(r.status, 1);
      assert.equal(r.json().state, 'failed');
      assert.match(r.json().reason, /not retryable/);
      assert.equal(srv.seen.length, 1);
    } finally {
      await srv.close();
    }
  }),
);

test(
  'Retry-After is honoured (capped at the maximum backoff)',
  withSandbox(async (sb) => {
    const srv = await server([{ status: 429, headers: { 'Retry-After': '1' } }, { status: 200 }]);
    try {
      tock(sb, ['add', 'hook', '--every', '1h', '--http', srv.url, '--backoff', '1ms:5s']);
      const r = await tockAsync(sb, ['run', 'hook']);
      assert.equal(r.status, 0, r.stderr);
      assert.equal(srv.seen.length, 2);
      assert.ok(srv.seen[1].at - srv.seen[0].at >= 900, `waited ${srv.seen[1].at - srv.seen[0].at} ms`);
    } finally {
      await srv.close();
    }
  }),
);

test(
  'a timeout kills the shell target and its grandchildren',
  withSandbox(async (sb) => {
    const pids = path.join(sb.dir, 'pids');
    const cmd = `sh -c 'trap "" TERM; sleep 100' & echo $! >> ${pids}; sleep 100 & echo $! >> ${pids}; sleep 100`;
    tock(sb, ['add', 'slow', '--every', '1h', '--shell', cmd, '--timeout', '1s', '--retries', '0']);
    const r = tock(sb, ['run', 'slow', '--json']);
    assert.equal(r.status, 1);
    const occ = r.json();
    assert.equal(occ.attempts[0].outcome, 'timeout');
    assert.match(occ.attempts[0].error, /timed out after 1s/);
    for (const pid of lines(pids).map(Number)) assert.equal(pidAlive(pid), false, `pid ${pid} survived`);
  }),
);

test(
  'run with a repeated idempotency key returns the recorded result without executing',
  withSandbox(async (sb) => {
    const count = path.join(sb.dir, 'count');
    tock(sb, ['add', 'once', '--every', '1h', '--shell', `echo run >> ${count}; echo "key=$TOCK_IDEMPOTENCY_KEY"`]);
    const a = tock(sb, ['run', 'once', '--idempotency-key', 'deploy-42']);
    assert.equal(a.status, 0, a.stderr);
    assert.match(a.stdout, /key=deploy-42/);
    const b = tock(sb, ['run', 'once', '--idempotency-key', 'deploy-42', '--json']);
    assert.equal(b.status, 0, b.stderr);
    assert.equal(b.json().state, 'succeeded');
    assert.equal(lines(count).length, 1, 'executed once');
    tock(sb, ['add', 'other', '--every', '1h', '--shell', 'true']);
    const wrong = tock(sb, ['run', 'other', '--idempotency-key', 'deploy-42']);
    assert.equal(wrong.status, 2);
    assert.ok(isCleanError(wrong));
    const bad = tock(sb, ['run', 'once', '--idempotency-key', 'has space']);
    assert.equal(bad.status, 2);
    assert.equal(tock(sb, ['run', 'nope']).status, 3);
  }),
);

test(
  'retry: a new attempt with the same key; at-most-once refused unless --force',
  withSandbox(async (sb) => {
    const flag = path.join(sb.dir, 'fixed');
    const cmd = `echo "$TOCK_IDEMPOTENCY_KEY" >> ${path.join(sb.dir, 'keys')}; test -e ${flag}`;
    tock(sb, ['add', 'alo', '--every', '1h', '--shell', cmd, '--retries', '0']);
    tock(sb, ['add', 'amo', '--every', '1h', '--shell', cmd, '--delivery', 'at-most-once']);
    const failed = tock(sb, ['run', 'alo', '--json']);
    assert.equal(failed.status, 1);
    const id = failed.json().id;
    fs.writeFileSync(flag, '');
    const retried = tock(sb, ['retry', String(id), '--json']);
    assert.equal(retried.status, 0, retried.stderr);
    const occ = retried.json();
    assert.equal(occ.state, 'succeeded');
    assert.equal(occ.trigger, 'retry');
    assert.deepEqual(occ.attempts.map((a: any) => [a.n, a.trigger, a.outcome]), [[1, 'manual', 'failed'], [2, 'retry', 'succeeded']]);
    const again = tock(sb, ['retry', String(id)]);
    assert.equal(again.status, 2, 'a succeeded occurrence is never executed again');
    assert.match(again.stderr, /succeeded/);

    fs.rmSync(flag);
    const amo = tock(sb, ['run', 'amo', '--json']);
    assert.equal(amo.status, 1);
    const refused = tock(sb, ['retry', String(amo.json().id)]);
    assert.equal(refused.status, 2);
    assert.ok(isCleanError(refused));
    assert.match(refused.stderr, /--force/);
    fs.writeFileSync(flag, '');
    assert.equal(tock(sb, ['retry', String(amo.json().id), '--force']).status, 0);
    const keys = lines(path.join(sb.dir, 'keys'));
    assert.equal(keys[0], keys[1], 'retry used the same key');
    assert.equal(tock(sb, ['retry', '99999']).status, 3);
    assert.equal(tock(sb, ['retry', 'abc']).status, 2);
    assert.equal(tock(sb, ['logs', '99999']).status, 3);
  }),
);

test(
  'a variable in the command is expanded by the shell at execution time, never stored; one in env: must be set',
  withSandbox(async (sb) => {
    tock(sb, ['add', 'secret', '--every', '1h', '--shell', 'echo "token=${API_TOKEN}"']);
    const ok = tock(sb, ['run', 'secret'], { API_TOKEN: 's3cr3t-value' });
    assert.equal(ok.status, 0, ok.stderr);
    assert.match(ok.stdout, /token=s3cr3t-value/);
    const unset = tock(sb, ['run', 'secret', '--json']);
    assert.equal(unset.status, 0, 'to the shell an unset variable is empty');
    const show = tock(sb, ['show', 'secret', '--json']).json();
    assert.equal(show.target.command, 'echo "token=${API_TOKEN}"');

    tock(sb, ['add', 'via-env', '--every', '1h', '--shell', 'echo "token=$TOKEN"', '--env', 'TOKEN=${API_TOKEN}']);
    const viaEnv = tock(sb, ['run', 'via-env'], { API_TOKEN: 's3cr3t-value' });
    assert.equal(viaEnv.status, 0, viaEnv.stderr);
    assert.match(viaEnv.stdout, /token=s3cr3t-value/);
    const missing = tock(sb, ['run', 'via-env', '--json']);
    assert.equal(missing.status, 1);
    assert.match(missing.json().attempts[0].error, /API_TOKEN is not set \(referenced by env TOKEN\)/);
    assert.equal(missing.json().attempts.length, 1, 'an unset variable is not retried');
    assert.deepEqual(tock(sb, ['show', 'via-env', '--json']).json().target.env, { TOKEN: '${API_TOKEN}' });
  }),
);
