// Issue 13, items 1, 4 and 9: a shell command reaches /bin/sh byte for byte and the shell
// expands `${NAME}` from the environment; values tock substitutes do not follow a redirect to
// another origin; and input that can never run is refused at the edge, or fails one attempt
// without retries when it only turns bad after expansion.

import { test } from 'node:test';
import assert from 'node:assert/strict';
import fs from 'node:fs';
import path from 'node:path';
import type { IncomingMessage } from 'node:http';
import { runHttp } from '../src/exec/http.js';
import { runShell } from '../src/exec/shell.js';
import type { HttpTarget, ShellTarget } from '../src/types.js';
import { isCleanError, storeChecksum, tock, tockAsync, withSandbox, writeFile, type Sandbox } from './helpers/cli.js';
import { context, deadPort, readPids, startServer, tempDir, waitFor } from './helpers/exec-fixtures.js';

const never = new AbortController().signal;
const sh = (command: string, extra: Partial<ShellTarget> = {}): ShellTarget => ({ kind: 'shell', command, ...extra });
const KEY = 'nightly-report@2025-03-01T02:30:00.000Z';

/** Quotes, a command substitution both ways, `;` and `$`: pasted into `sh -c` text, each would run. */
const HOSTILE = (marker: string) => `ab"; touch ${marker}-1; echo "\`touch ${marker}-2\`$(touch ${marker}-3)'$HOME;`;

test('a secret with quotes, $, backquotes and ; reaches the command literally and runs nothing', async () => {
  const { dir, cleanup } = tempDir();
  try {
    const marker = path.join(dir, 'injected');
    const secret = HOSTILE(marker);
    const ctx = context({ env: { PATH: process.env.PATH, SECRET: secret } });
    const r = await runShell(sh(`printf '%s\\n' "\${SECRET}" \${SECRET}`), ctx, never);
    assert.equal(r.outcome, 'succeeded', r.error);
    // Quoted, the value is one word; unquoted, the shell splits it on blanks but never runs it.
    assert.equal(r.output, `${secret}\n${secret.split(' ').join('\n')}\n`);
    assert.deepEqual(fs.readdirSync(dir), []);
  } finally {
    cleanup();
  }
});

test('while a command that references ${SECRET} runs, the secret is not in the command line of its sh', async () => {
  const { dir, cleanup } = tempDir();
  const pidFile = path.join(dir, 'pid');
  const secret = 'TOPSECRETVALUE123';
  const ctx = context({ env: { PATH: process.env.PATH, SECRET: secret } });
  const stop = new AbortController();
  // `echo done` keeps sh itself alive (not exec'd into sleep) while sleep runs.
  const command = `printf '%s' "\${SECRET}" > /dev/null; echo $$ > ${pidFile}; sleep 30; echo done`;
  const running = runShell(sh(command), ctx, stop.signal);
  try {
    await waitFor(() => readPids(pidFile).length === 1);
    const [pid] = readPids(pidFile);
    const cmdline = fs.readFileSync(`/proc/${pid}/cmdline`, 'latin1').split('\0');
    assert.deepEqual(cmdline.slice(0, 3), ['/bin/sh', '-c', command]);
    assert.ok(!cmdline.join(' ').includes(secret), cmdline.join(' '));
  } finally {
    stop.abort();
    await running;
    cleanup();
  }
});

test('shell code of its own works: a loop variable in ${f} and ${TOCK_JOB}', async () => {
  const r = await runShell(sh('for f in a b; do echo "${f}"; done; echo ${TOCK_JOB}'), context(), never);
  assert.equal(r.outcome, 'succeeded', r.error);
  assert.equal(r.output, 'a\nb\nnightly-report\n');
});

/** `tock run <name> --json`: the occurrence as recorded. */
function runJob(sb: Sandbox, name: string, env: NodeJS.ProcessEnv = {}) {
  const r = tock(sb, ['run', name, '--json'], env);
  assert.equal(r.status, 1, r.stderr);
  return r.json();
}

test(
  'tock run: the command\'s ${NAME} is the shell\'s; an env: value naming an unset variable fails once, unretried',
  withSandbox((sb) => {
    const marker = path.join(sb.dir, 'ran');
    const add = tock(sb, [
      'add', 'unset', '--every', '1h', '--shell', `touch ${marker}; echo "\${TOCK_JOB}" "\${HOME}"`,
      '--env', 'TOKEN=Bearer ${TOCK_TEST_NOT_SET}', '--retries', '3', '--backoff', '50ms',
    ]);
    assert.equal(add.status, 0, add.stderr);
    const occ = runJob(sb, 'unset');
    assert.equal(occ.state, 'failed');
    assert.equal(occ.attempts.length, 1);
    assert.equal(occ.attempts[0].error, 'environment variable TOCK_TEST_NOT_SET is not set (referenced by env TOKEN)');
    assert.match(occ.reason, /not retryable/);
    assert.equal(fs.existsSync(marker), false);
  }),
);

test('on a redirect to another origin the ${...} header and body are dropped; on the same origin they are kept', async () => {
  const secret = 's3cr3t-token-value';
  const seen: Array<{ server: string; method: string; url: string; headers: IncomingMessage['headers']; body: string }> = [];
  const record = (server: string, req: IncomingMessage, then: () => void) => {
    const chunks: Buffer[] = [];
    req.on('data', (c: Buffer) => chunks.push(c));
    req.on('end', () => {
      seen.push({ server, method: req.method!, url: req.url!, headers: req.headers, body: Buffer.concat(chunks).toString() });
      then();
    });
  };
  const other = await startServer((req, res) => record('other', req, () => res.end('elsewhere')));
  const home = await startServer((req, res) =>
    record('home', req, () => {
      if (req.url === '/cross') return res.writeHead(307, { location: `${other.url}/there` }).end();
      if (req.url === '/same') return res.writeHead(307, { location: '/here' }).end();
      res.end('home');
    }),
  );
  const target = (pathname: string): HttpTarget => ({
    kind: 'http',
    url: `${home.url}${pathname}`,
    method: 'POST',
    headers: { 'X-Api-Key': '${SECRET}', 'X-Plain': 'visible', 'Content-Type': 'application/json' },
    body: '{"key":"${SECRET}"}',
  });
  const ctx = context({ env: { SECRET: secret } });
  try {
    const cross = await runHttp(target('/cross'), ctx, never);
    assert.equal(cross.outcome, 'succeeded', cross.error);
    assert.equal(cross.output, 'elsewhere');
    const there = seen.find((s) => s.server === 'other')!;
    assert.equal(there.method, 'POST');
    assert.equal(there.headers['x-api-key'], undefined);
    assert.ok(!JSON.stringify(there.headers).includes(secret), JSON.stringify(there.headers));
    assert.equal(there.body, '');
    assert.equal(there.headers['content-length'], '0');
    assert.equal(there.headers['x-plain'], 'visible');
    assert.equal(there.headers['idempotency-key'], KEY);
    assert.match(there.headers['user-agent']!, /^tock\//);

    seen.length = 0;
    const same = await runHttp(target('/same'), ctx, never);
    assert.equal(same.outcome, 'succeeded', same.error);
    assert.deepEqual(seen.map((s) => `${s.server} ${s.url}`), ['home /same', 'home /here']);
    assert.equal(seen[1].headers['x-api-key'], secret);
    assert.equal(seen[1].body, `{"key":"${secret}"}`);
    assert.equal(seen[1].headers['content-type'], 'application/json');
  } finally {
    await home.close();
    await other.close();
  }
});

test('an error line that quotes an expanded part of the URL shows its ${NAME} instead', async () => {
  const port = await deadPort();
  const target: HttpTarget = { kind: 'http', url: 'http://${TARGET_HOST}:${TARGET_PORT}/hook', method: 'GET', headers: {} };
  const r = await runHttp(target, context({ env: { TARGET_HOST: '127.0.0.1', TARGET_PORT: String(port) } }), never);
  assert.equal(r.outcome, 'failed');
  assert.equal(r.error, 'connection refused (ECONNREFUSED ${TARGET_HOST}:${TARGET_PORT})');
});

/** A command that must be refused: exit 2, one `tock:` line matching `message`, the store byte for byte as it was. */
function refused(sb: Sandbox, args: string[], message: RegExp) {
  const before = storeChecksum(sb.db);
  const r = tock(sb, args);
  assert.equal(r.status, 2, `${args.slice(0, 2).join(' ')}: ${r.stderr}`);
  assert.ok(isCleanError(r), `one clean line expected, got: ${r.stderr.slice(0, 500)}`);
  assert.match(r.stderr, message);
  assert.equal(r.stdout, '');
  assert.equal(storeChecksum(sb.db), before, 'the store changed');
}

test(
  'tock add and tock apply refuse header names and values HTTP cannot carry',
  withSandbox((sb) => {
    assert.equal(tock(sb, ['add', 'kept', '--every', '1h', '--shell', 'true']).status, 0);
    const http = ['--every', '1h', '--http', 'http://127.0.0.1:9/x'];
    refused(sb, ['add', 'h', ...http, '--header', 'X-Api-Key: a\x01b'], /--header: header X-Api-Key has the character \\x01 at position 2; .*RFC 9110/);
    refused(sb, ['add', 'h', ...http, '--header', 'X-Price: 5 \u20ac'], /--header: header X-Price has the character \\u20ac at position 3/);
    refused(sb, ['add', 'h', ...http, '--header', 'X\x01Y: v'], /--header: "X\\x01Y" is not a header name/);
    const file = writeFile(sb, 'jobs.yaml', [
      'jobs:',
      '  - name: h',
      '    every: 1h',
      '    http:',
      '      url: http://127.0.0.1:9/x',
      '      headers:',
      '        X-Ctrl: "a\\x01b"',
      '        X-Tab-End: "value\\t"',
      '        X-Del: "a\\x7f"',
      '',
    ].join('\n'));
    refused(sb, ['apply', file], /jobs\[0\]\.http\.headers: header X-Ctrl has the character \\x01.*header X-Tab-End starts or ends with a space or tab.*header X-Del has the character \\x7f/);
    assert.deepEqual(tock(sb, ['list', '--json']).json().map((j: { name: string }) => j.name), ['kept']);
  }),
);

test(
  'a shell command or env entry too long for one argument of execve is refused at the edge',
  withSandbox((sb) => {
    assert.equal(tock(sb, ['add', 'kept', '--every', '1h', '--shell', 'true']).status, 0);
    const long = `echo ${'x'.repeat(200 * 1024)}`;
    const commandFile = writeFile(sb, 'command.yaml', `jobs:\n  - name: big\n    every: 1h\n    shell: ${long}\n`);
    refused(sb, ['apply', commandFile], /jobs\[0\]\.shell\.command: the shell command is 204805 bytes, more than the 131071 .*MAX_ARG_STRLEN/);
    const envFile = writeFile(sb, 'env.yaml', `jobs:\n  - name: big\n    every: 1h\n    shell:\n      command: "true"\n      env:\n        BIG: ${'y'.repeat(131_069)}\n`);
    refused(sb, ['apply', envFile], /jobs\[0\]\.shell\.env\.BIG: the environment entry BIG=\.\.\. is 131073 bytes/);
    const nulFile = writeFile(sb, 'nul.yaml', 'jobs:\n  - name: big\n    every: 1h\n    shell: "echo a\\0b"\n');
    refused(sb, ['apply', nulFile], /jobs\[0\]\.shell\.command: the shell command contains a NUL byte/);
    // The largest command execve takes is accepted.
    const fits = writeFile(sb, 'fits.yaml', `jobs:\n  - name: fits\n    every: 1h\n    shell: 'true #${'z'.repeat(131_071 - 6)}'\n`);
    const applied = tock(sb, ['apply', fits]);
    assert.equal(applied.status, 0, applied.stderr);
  }),
);

test(
  'an env value that expands past the argument limit fails one attempt, not retried',
  withSandbox((sb) => {
    const add = tock(sb, ['add', 'big', '--every', '1h', '--shell', 'true', '--env', 'BIG=${HALF}${HALF}', '--retries', '2', '--backoff', '50ms']);
    assert.equal(add.status, 0, add.stderr);
    const occ = runJob(sb, 'big', { HALF: 'h'.repeat(100 * 1024) });
    assert.equal(occ.state, 'failed');
    assert.equal(occ.attempts.length, 1);
    assert.match(occ.attempts[0].error, /^env BIG: the entry BIG=\.\.\. after \$\{\.\.\.\} expansion is 204804 bytes, more than the 131071 .*MAX_ARG_STRLEN/);
    assert.match(occ.reason, /not retryable/);
  }),
);

test('a command and environment past the system-wide limit (E2BIG) fail without a retry', async () => {
  // 64 entries of 127 KiB: past ARG_MAX whatever the stack limit (at most 6 MiB on Linux).
  const env: NodeJS.ProcessEnv = { PATH: process.env.PATH };
  for (let i = 0; i < 64; i++) env[`FILL_${i}`] = 'f'.repeat(127 * 1024);
  const r = await runShell(sh('true'), context({ env }), never);
  assert.equal(r.outcome, 'failed');
  assert.equal(r.retryable, false);
  assert.match(r.error!, /E2BIG/);
});

test(
  'a header value with a control character after expansion fails one attempt, sends nothing, not retried',
  withSandbox(async (sb) => {
    let requests = 0;
    const server = await startServer((_req, res) => {
      requests++;
      res.end('ok');
    });
    try {
      const add = tock(sb, [
        'add', 'ctrl', '--every', '1h', '--http', `${server.url}/hook`, '--header', 'X-Api-Key: ${CTRL_SECRET}',
        '--retries', '2', '--backoff', '50ms',
      ]);
      assert.equal(add.status, 0, add.stderr);
      const r = await tockAsync(sb, ['run', 'ctrl', '--json'], { CTRL_SECRET: 'abc\x01def' });
      assert.equal(r.status, 1, r.stderr);
      const occ = r.json();
      assert.equal(occ.state, 'failed');
      assert.equal(occ.attempts.length, 1);
      assert.equal(occ.attempts[0].error, 'header X-Api-Key is not a valid HTTP header value after ${...} expansion: a header value holds visible characters, with spaces and tabs only between them (RFC 9110)');
      assert.equal(requests, 0);
    } finally {
      await server.close();
    }
  }),
);
