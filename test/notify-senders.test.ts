// Each sender delivers what it should, through real processes and a real HTTP server on
// 127.0.0.1: the command's TOCK_* variables and stdin JSON, the webhook's body and headers,
// and the mail a fake sendmail (first on PATH) receives, with no header injectable.

import { test, after as afterAll } from 'node:test';
import assert from 'node:assert/strict';
import fs from 'node:fs';
import path from 'node:path';
import type { IncomingHttpHeaders } from 'node:http';
import { notificationKey, OUTPUT_TAIL_BYTES, send, type NotificationEvent } from '../src/notify/index.js';
import { startServer, tempDir } from './helpers/exec-fixtures.js';

const tmp = tempDir();
afterAll(() => tmp.cleanup());
let n = 0;
const file = (name: string): string => path.join(tmp.dir, `${++n}-${name}`);

const SCHEDULED = Date.UTC(2025, 2, 1, 2, 30);
const OCCURRENCE_KEY = 'backup@2025-03-01T02:30:00.000Z';

function event(extra: Partial<NotificationEvent> = {}): NotificationEvent {
  return {
    key: notificationKey(OCCURRENCE_KEY, 'failed', 0),
    event: 'failed',
    job: 'backup',
    occurrenceId: 42,
    occurrenceKey: OCCURRENCE_KEY,
    scheduledAt: SCHEDULED,
    at: SCHEDULED + 65_000,
    state: 'failed',
    reason: 'exit status 3',
    attempts: 4,
    exitCode: 3,
    failures: 2,
    output: 'disk full\n',
    ...extra,
  };
}

const env = (extra: NodeJS.ProcessEnv = {}): NodeJS.ProcessEnv => ({ PATH: process.env.PATH, ...extra });

test('shell: the command runs with /bin/sh -c, the event in TOCK_* and as JSON on stdin', async () => {
  const out = file('shell');
  const command = `{ env | grep '^TOCK_' | sort; echo ---; cat; } > '${out}'`;
  const r = await send({ kind: 'shell', command }, event(), { env: env(), attempt: 2 });
  assert.deepEqual(r, { ok: true });
  const [vars, stdin] = fs.readFileSync(out, 'utf8').split('---\n');
  const got = Object.fromEntries(vars!.trim().split('\n').map((l) => [l.slice(0, l.indexOf('=')), l.slice(l.indexOf('=') + 1)]));
  assert.equal(got.TOCK_EVENT, 'failed');
  assert.equal(got.TOCK_JOB, 'backup');
  assert.equal(got.TOCK_OCCURRENCE_ID, '42');
  assert.equal(got.TOCK_OCCURRENCE_KEY, OCCURRENCE_KEY);
  assert.equal(got.TOCK_NOTIFICATION_KEY, `${OCCURRENCE_KEY}#notify:failed:0`);
  assert.equal(got.TOCK_IDEMPOTENCY_KEY, `${OCCURRENCE_KEY}#notify:failed:0`);
  assert.equal(got.TOCK_SCHEDULED_AT, '2025-03-01T02:30:00.000Z');
  assert.equal(got.TOCK_STATE, 'failed');
  assert.equal(got.TOCK_REASON, 'exit status 3');
  assert.equal(got.TOCK_ATTEMPTS, '4');
  assert.equal(got.TOCK_ATTEMPT, '2');
  assert.equal(got.TOCK_EXIT_STATUS, '3');
  assert.equal(got.TOCK_CONSECUTIVE_FAILURES, '2');
  assert.equal(got.TOCK_RUNNER, 'notify');
  const json = JSON.parse(stdin!);
  assert.equal(json.event, 'failed');
  assert.equal(json.occurrence_id, 42);
  assert.equal(json.scheduled_at, '2025-03-01T02:30:00.000Z');
  assert.equal(json.exit_code, 3);
  assert.equal(json.http_status, null);
  assert.equal(json.output, 'disk full\n');
});

test('shell: a reason with quotes and $(...) is data, never code', async () => {
  const out = file('inject');
  const reason = `it's "$(touch ${out}.pwned)" \`id\` $HOME`;
  const r = await send({ kind: 'shell', command: `printf '%s' "$TOCK_REASON" > '${out}'` }, event({ reason }), { env: env() });
  assert.deepEqual(r, { ok: true });
  assert.equal(fs.readFileSync(out, 'utf8'), reason);
  assert.equal(fs.existsSync(`${out}.pwned`), false);
});

test('shell: a failing command is a transient error with its exit status and last output line', async () => {
  const r = await send({ kind: 'shell', command: 'echo "no route to pager" >&2; exit 5' }, event(), { env: env() });
  assert.deepEqual(r, { ok: false, error: 'exit status 5: no route to pager', transient: true });
});

test('shell: a command that hangs is stopped at the timeout', async () => {
  const started = Date.now();
  const r = await send({ kind: 'shell', command: 'sleep 30' }, event(), { env: env(), timeoutMs: 300 });
  assert.equal(r.ok, false);
  assert.match((r as { error: string }).error, /timed out/);
  assert.ok(Date.now() - started < 10_000);
});

test('shell: a command that does not read its stdin still succeeds', async () => {
  const big = 'x'.repeat(200_000);
  assert.deepEqual(await send({ kind: 'shell', command: 'exit 0' }, event({ output: big }), { env: env() }), { ok: true });
});

test('the output carried is the last 4 KiB, marked as cut', async () => {
  const out = file('tail');
  const output = `${'a'.repeat(10_000)}THE END\n`;
  await send({ kind: 'shell', command: `cat > '${out}'` }, event({ output }), { env: env() });
  const json = JSON.parse(fs.readFileSync(out, 'utf8'));
  assert.match(json.output, /^\[tock: \d+ earlier bytes not kept\]\n/);
  assert.ok(json.output.endsWith('THE END\n'));
  assert.ok(Buffer.byteLength(json.output) <= OUTPUT_TAIL_BYTES + 64);
});

interface Received {
  method?: string;
  headers: IncomingHttpHeaders;
  body: string;
}

async function hook(statuses: number[]) {
  const received: Received[] = [];
  const server = await startServer((req, res) => {
    let body = '';
    req.on('data', (c) => (body += c));
    req.on('end', () => {
      received.push({ method: req.method, headers: req.headers, body });
      res.statusCode = statuses[Math.min(received.length - 1, statuses.length - 1)]!;
      res.end(res.statusCode >= 400 ? 'try later' : 'ok');
    });
  });
  return { server, received };
}

test('http: POSTs the event as JSON with the notification key as Idempotency-Key and the ${NAME} headers expanded', async () => {
  const { server, received } = await hook([204]);
  try {
    const target = { kind: 'http' as const, url: `${server.url}/hook`, method: 'POST', headers: { Authorization: 'Bearer ${HOOK_TOKEN}' } };
    const r = await send(target, event({ output: 'literal ${HOOK_TOKEN} stays literal' }), { env: env({ HOOK_TOKEN: 's3cret' }) });
    assert.deepEqual(r, { ok: true });
    assert.equal(received.length, 1);
    const [req] = received;
    assert.equal(req!.method, 'POST');
    assert.equal(req!.headers['idempotency-key'], `${OCCURRENCE_KEY}#notify:failed:0`);
    assert.equal(req!.headers.authorization, 'Bearer s3cret');
    assert.equal(req!.headers['content-type'], 'application/json');
    assert.equal(req!.headers['x-tock-job'], 'backup');
    const json = JSON.parse(req!.body);
    assert.equal(json.job, 'backup');
    assert.equal(json.key, `${OCCURRENCE_KEY}#notify:failed:0`);
    assert.equal(json.idempotency_key, OCCURRENCE_KEY);
    assert.equal(json.reason, 'exit status 3');
    assert.equal(json.attempts, 4);
    assert.equal(json.output, 'literal ${HOOK_TOKEN} stays literal');
  } finally {
    await server.close();
  }
});

test('http: a 5xx is transient, a 404 is not, and every try carries the same key', async () => {
  const { server, received } = await hook([503, 503, 200]);
  try {
    const target = { kind: 'http' as const, url: `${server.url}/hook`, method: 'POST', headers: {} };
    const e = event();
    const first = await send(target, e, { env: env(), attempt: 1 });
    assert.equal(first.ok, false);
    assert.equal((first as { transient: boolean }).transient, true);
    assert.match((first as { error: string }).error, /^HTTP 503 Service Unavailable: try later$/);
    await send(target, e, { env: env(), attempt: 2 });
    assert.deepEqual(await send(target, e, { env: env(), attempt: 3 }), { ok: true });
    assert.deepEqual(received.map((r) => r.headers['idempotency-key']), Array(3).fill(e.key));
    assert.deepEqual(received.map((r) => r.headers['x-tock-attempt']), ['1', '2', '3']);
  } finally {
    await server.close();
  }
  const gone = await hook([404]);
  try {
    const r = await send({ kind: 'http', url: `${gone.server.url}/x`, method: 'POST', headers: {} }, event(), { env: env() });
    assert.equal(r.ok, false);
    assert.equal((r as { transient: boolean }).transient, false);
  } finally {
    await gone.server.close();
  }
});

test('http: nothing listening is a transient error, and an unset ${NAME} a permanent one', async () => {
  const refused = await send({ kind: 'http', url: 'http://127.0.0.1:9/hook', method: 'POST', headers: {} }, event(), { env: env() });
  assert.equal(refused.ok, false);
  assert.equal((refused as { transient: boolean }).transient, true);
  const unset = await send({ kind: 'http', url: 'http://127.0.0.1:9/${NOPE}', method: 'POST', headers: {} }, event(), { env: env() });
  assert.deepEqual(unset, { ok: false, error: 'environment variable NOPE is not set (referenced by the url)', transient: false });
});

/** A fake sendmail, first on PATH, that writes its arguments and the mail it receives. */
function fakeSendmail(exitCode = 0): { env: NodeJS.ProcessEnv; args: () => string; mail: () => string } {
  const dir = fs.mkdtempSync(path.join(tmp.dir, 'bin-'));
  const args = path.join(dir, 'args');
  const mail = path.join(dir, 'mail');
  const script = `#!/bin/sh\nprintf '%s\\n' "$@" > '${args}'\ncat > '${mail}'\n${exitCode ? `echo 'sendmail: cannot connect' >&2\nexit ${exitCode}\n` : ''}`;
  fs.writeFileSync(path.join(dir, 'sendmail'), script, { mode: 0o755 });
  return {
    env: env({ PATH: `${dir}:${process.env.PATH}` }),
    args: () => fs.readFileSync(args, 'utf8'),
    mail: () => fs.readFileSync(mail, 'utf8'),
  };
}

function parseMail(text: string): { headers: [string, string][]; body: string } {
  const split = text.indexOf('\n\n');
  const headers = text.slice(0, split).split('\n').map((l) => [l.slice(0, l.indexOf(':')), l.slice(l.indexOf(':') + 2)] as [string, string]);
  return { headers, body: text.slice(split + 2) };
}

test('email: a readable mail with To and Subject is piped to sendmail -t -oi', async () => {
  const sendmail = fakeSendmail();
  const r = await send({ kind: 'email', to: 'ops@example.com' }, event(), { env: sendmail.env });
  assert.deepEqual(r, { ok: true });
  assert.equal(sendmail.args(), '-t\n-oi\n');
  const { headers, body } = parseMail(sendmail.mail());
  const h = Object.fromEntries(headers);
  assert.equal(h.To, 'ops@example.com');
  assert.equal(h.Subject, 'tock: backup failed (exit status 3)');
  assert.equal(h['Auto-Submitted'], 'auto-generated');
  assert.equal(h['X-Tock-Notification-Key'], `${OCCURRENCE_KEY}#notify:failed:0`);
  assert.match(body, /^Job: +backup$/m);
  assert.match(body, /^Occurrence: +42 \(backup@2025-03-01T02:30:00\.000Z\)$/m);
  assert.match(body, /^Scheduled at: +2025-03-01T02:30:00\.000Z$/m);
  assert.match(body, /^Attempts: +4$/m);
  assert.match(body, /^Exit status: +3$/m);
  assert.match(body, /disk full\n$/);
});

test('email: CR/LF in a reason or job name cannot add a header; non-ASCII is encoded', async () => {
  const sendmail = fakeSendmail();
  const reason = 'boom\r\nBcc: victim@example.com\r\n\r\nfake body';
  await send({ kind: 'email', to: 'ops@example.com' }, event({ job: 'x\nBcc: evil@example.com', reason }), { env: sendmail.env });
  const { headers } = parseMail(sendmail.mail());
  assert.deepEqual(headers.map(([name]) => name), [
    'To', 'Subject', 'Auto-Submitted', 'MIME-Version', 'Content-Type', 'Content-Transfer-Encoding', 'X-Mailer', 'X-Tock-Job', 'X-Tock-Event', 'X-Tock-Notification-Key',
  ]);
  assert.ok(!/^Bcc:/im.test(sendmail.mail().slice(0, sendmail.mail().indexOf('\n\n'))));
  const subject = Object.fromEntries(headers).Subject!;
  assert.equal(subject, 'tock: x Bcc: evil@example.com failed (boom Bcc: victim@example.com fake body)');

  const utf8 = fakeSendmail();
  await send({ kind: 'email', to: 'root' }, event({ reason: 'Datei nicht gefunden: Ü' }), { env: utf8.env });
  const encoded = Object.fromEntries(parseMail(utf8.mail()).headers).Subject!;
  assert.match(encoded, /^(=\?UTF-8\?B\?[A-Za-z0-9+/=]+\?= ?)+$/);
  const decoded = encoded.split(' ').map((w) => Buffer.from(w.slice(10, -2), 'base64').toString('utf8')).join('');
  assert.equal(decoded, 'tock: backup failed (Datei nicht gefunden: Ü)');
});

test('email: sendmail failing is reported with what it said; no sendmail at all is transient', async () => {
  const temp = fakeSendmail(75);
  assert.deepEqual(await send({ kind: 'email', to: 'root' }, event(), { env: temp.env }), {
    ok: false,
    error: 'sendmail: exit status 75: sendmail: cannot connect',
    transient: true,
  });
  const permanent = fakeSendmail(67);
  const r = await send({ kind: 'email', to: 'nobody' }, event(), { env: permanent.env });
  assert.equal((r as { transient: boolean }).transient, false);
  const none = await send({ kind: 'email', to: 'root' }, event(), { env: { PATH: tmp.dir } });
  if (!fs.existsSync('/usr/sbin/sendmail') && !fs.existsSync('/usr/lib/sendmail')) {
    assert.deepEqual(none, { ok: false, error: 'no sendmail found on $PATH, in /usr/sbin or /usr/lib', transient: true });
  }
});
