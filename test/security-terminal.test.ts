// Text tock did not write (a target's output, a job's description and command, an HTTP
// reason phrase, input echoed in an error) never reaches a terminal raw: control
// characters show as escapes, while the store and --json keep the exact bytes. Echoed
// input is cut to a readable length. Real CLI processes, a real store, a real pty.

import { test } from 'node:test';
import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import { createRequire } from 'node:module';
import net from 'node:net';
import type { AddressInfo } from 'node:net';
import {
  BIN,
  exited,
  isCleanError,
  storeChecksum,
  tock,
  tockAsync,
  tockSpawn,
  waitFor,
  withSandbox,
  writeFile,
  type Sandbox,
} from './helpers/cli.js';

const Database = createRequire(import.meta.url)('better-sqlite3');

const OSC52 = '\u001b]52;c;SGVsbG8=\u0007'; // sets the reader's clipboard to "Hello"
const OSC52_SHOWN = '\\x1b]52;c;SGVsbG8=\\x07';
/** Any C0 control but \n and \t, DEL, or C1: what must not reach a terminal raw. */
const RAW_CONTROL = /[\u0000-\u0008\u000b-\u001f\u007f-\u009f]/;

/** Runs tock with a pseudo-terminal as its stdout (util-linux `script`); the pty's \r\n become \n. */
function tockOnTty(sb: Sandbox, args: string[]): { status: number | null; stdout: string } {
  const quoted = [process.execPath, BIN, ...args].map((a) => `'${a.replace(/'/g, `'\\''`)}'`).join(' ');
  const r = spawnSync('script', ['-qec', quoted, '/dev/null'], {
    env: sb.env,
    cwd: sb.dir,
    encoding: 'utf8',
    stdio: ['ignore', 'pipe', 'pipe'],
    timeout: 30_000,
  });
  return { status: r.status, stdout: r.stdout.replace(/\r\n/g, '\n') };
}

function storedOutputs(db: string): string[] {
  const conn = new Database(db, { readonly: true });
  try {
    return conn.prepare('SELECT output FROM attempts ORDER BY occurrence_id, n').all().map((r: { output: string }) => r.output);
  } finally {
    conn.close();
  }
}

test(
  'logs on a terminal shows an OSC 52 sequence and a \\r escaped; a pipe, --json and the store keep the bytes',
  withSandbox((sb) => {
    const command = `printf '\\033]52;c;SGVsbG8=\\a'; printf 'secret\\rshown\\n'`;
    assert.equal(tock(sb, ['add', 'osc', '--every', '1h', '--shell', command]).status, 0);
    assert.equal(tock(sb, ['run', 'osc']).status, 0);
    const exact = `${OSC52}secret\rshown\n`;

    const tty = tockOnTty(sb, ['logs', '1']);
    assert.equal(tty.status, 0, tty.stdout);
    assert.ok(tty.stdout.includes(`${OSC52_SHOWN}secret\\rshown`), tty.stdout);
    assert.doesNotMatch(tty.stdout, RAW_CONTROL, 'no raw control character reaches the terminal');

    const piped = tock(sb, ['logs', '1']);
    assert.ok(piped.stdout.includes(exact), 'into a pipe the output is written as captured, like cat');
    assert.equal(tock(sb, ['logs', '1', '--json']).json().attempts[0].output, exact);
    assert.deepEqual(storedOutputs(sb.db), [exact]);
  }),
);

test(
  'a description, command and output carrying ESC print escaped in list, show and run, exact in --json',
  withSandbox((sb) => {
    // YAML's "\e" is ESC, "\a" BEL: the jobs file puts real control characters in the store.
    const file = writeFile(
      sb,
      'jobs.yaml',
      'jobs:\n  - name: tricky\n    every: 1h\n    description: "about \\e]52;c;SGVsbG8=\\a"\n' +
        `    shell: "echo '\\e]0;pwned\\a'"\n`,
    );
    assert.equal(tock(sb, ['apply', file]).status, 0);

    const list = tock(sb, ['list']);
    assert.equal(list.status, 0, list.stderr);
    assert.ok(list.stdout.includes(`shell: echo '\\x1b]0;pwned\\x07'`), list.stdout);
    assert.doesNotMatch(list.stdout, RAW_CONTROL);

    const show = tock(sb, ['show', 'tricky']);
    assert.match(show.stdout, /target +shell: echo '\\x1b\]0;pwned\\x07'/);
    assert.ok(show.stdout.includes(`about     about ${OSC52_SHOWN}`), show.stdout);
    assert.doesNotMatch(show.stdout, RAW_CONTROL);
    const json = tock(sb, ['show', 'tricky', '--json']).json();
    assert.equal(json.description, `about ${OSC52}`);
    assert.equal(json.target.command, `echo '\u001b]0;pwned\u0007'`);

    const run = tock(sb, ['run', 'tricky']);
    assert.equal(run.status, 0, run.stderr);
    assert.ok(run.stdout.includes('\\x1b]0;pwned\\x07'), 'run escapes output even into a pipe: it is for reading');
    assert.doesNotMatch(run.stdout, RAW_CONTROL);
    assert.equal(tock(sb, ['history', '--json']).json()[0].attempts.length, 1);
    assert.deepEqual(storedOutputs(sb.db), ['\u001b]0;pwned\u0007\n']);
  }),
);

/** A server that writes its own status line, reason phrase and all (http.Server would refuse ESC in it). */
async function rawServer(statusLine: string): Promise<{ url: string; close(): Promise<void> }> {
  const server = net.createServer((socket) => {
    socket.on('error', () => {});
    // latin1: one byte per character, so "\u009b" goes out as the single C1 byte 0x9b.
    socket.once('data', () => socket.end(Buffer.from(`${statusLine}\r\nContent-Length: 4\r\nConnection: close\r\n\r\nnope`, 'latin1')));
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const url = `http://127.0.0.1:${(server.address() as AddressInfo).port}/hook`;
  return { url, close: () => new Promise<void>((resolve) => server.close(() => resolve())) };
}

test(
  'an HTTP reason phrase carrying ESC and C1 shows escaped in run, history and the daemon log, exact in --json',
  withSandbox(async (sb) => {
    // 418 is not retried: its error (with the reason phrase) is shown next to the status.
    const server = await rawServer(`HTTP/1.1 418 Teapot ${OSC52}\u009b2J`);
    try {
      assert.equal(tock(sb, ['add', 'hook', '--every', '1h', '--http', server.url]).status, 0);
      const run = await tockAsync(sb, ['run', 'hook']);
      assert.equal(run.status, 1, run.stderr);
      assert.ok(run.stdout.includes(`Teapot ${OSC52_SHOWN}`), run.stdout);
      assert.doesNotMatch(run.stdout, RAW_CONTROL);

      const history = tock(sb, ['history']);
      assert.equal(history.status, 0, history.stderr);
      assert.ok(history.stdout.includes(`HTTP 418 Teapot ${OSC52_SHOWN}`), history.stdout);
      assert.doesNotMatch(history.stdout, RAW_CONTROL);
      const error = tock(sb, ['history', '--json']).json()[0].attempts[0].error;
      assert.ok(error.includes(`Teapot ${OSC52}`), `the stored error keeps the reason phrase exact: ${JSON.stringify(error)}`);

      const logs = tock(sb, ['logs', '1']);
      assert.ok(logs.stdout.split('\n')[0].includes(`Teapot ${OSC52_SHOWN}\\x9b2J`), logs.stdout);

      assert.equal(tock(sb, ['add', 'soon', '--every', '1s', '--retries', '0', '--http', server.url]).status, 0);
      const daemon = tockSpawn(sb, ['daemon']);
      try {
        const line = await waitFor('the daemon to log the failure', () =>
          daemon.output().split('\n').find((l) => /^\S+ failed +soon #/.test(l)),
        );
        assert.ok(line.includes(`Teapot ${OSC52_SHOWN}\\x9b2J`), line);
        assert.doesNotMatch(daemon.output(), RAW_CONTROL, 'the daemon log is escaped');
      } finally {
        daemon.kill('SIGTERM');
        await exited(daemon);
      }
    } finally {
      await server.close();
    }
  }),
);

/** A rejected input: exit 2, one short escaped `tock:` line, the store unchanged. */
function rejectsBriefly(sb: Sandbox, args: string[], message: RegExp, maxBytes = 300) {
  const before = storeChecksum(sb.db);
  const r = tock(sb, args);
  assert.equal(r.status, 2, r.stderr.slice(0, 500));
  assert.ok(isCleanError(r), r.stderr.slice(0, 500));
  assert.match(r.stderr, message);
  assert.ok(Buffer.byteLength(r.stderr) < maxBytes, `${Buffer.byteLength(r.stderr)} bytes: ${r.stderr.slice(0, 500)}`);
  assert.doesNotMatch(r.stderr, RAW_CONTROL);
  assert.equal(storeChecksum(sb.db), before, 'store unchanged');
}

test(
  'a name that is not text says so, with the path of each',
  withSandbox((sb) => {
    assert.equal(tock(sb, ['list']).status, 0); // creates the store, so its checksum can be compared
    const job = (name: string) => `  - name: ${name}\n    every: 1h\n    shell: "true"\n`;
    const file = writeFile(sb, 'jobs.yaml', `jobs:\n${job('123')}${job('[a, b]')}${job('{a: 1}')}${job('true')}`);
    rejectsBriefly(sb, ['apply', file], /jobs\[0\]\.name: a name must be text, got number 123/, 1000);
    const r = tock(sb, ['apply', file]);
    assert.match(r.stderr, /jobs\[1\]\.name: a name must be text, got a list/);
    assert.match(r.stderr, /jobs\[2\]\.name: a name must be text, got a mapping/);
    assert.match(r.stderr, /jobs\[3\]\.name: a name must be text, got boolean true/);
    assert.doesNotMatch(r.stderr, /needs a name/);
  }),
);

test(
  'long or hostile input echoed in an error is escaped and cut to one short line',
  withSandbox((sb) => {
    assert.equal(tock(sb, ['list']).status, 0);
    const long = 'a'.repeat(100_000);
    const sh = ['--shell', 'true'];
    rejectsBriefly(sb, ['add', long, '--every', '1h', ...sh], /<name>: invalid job name "a{60}…" \(100000 characters\)/);
    rejectsBriefly(sb, ['apply', writeFile(sb, 'long.yaml', `jobs:\n  - name: ${long}\n    every: 1h\n    shell: "true"\n`)], /jobs\[0\]\.name: invalid job name "a+…" \(100000 characters\)/);
    rejectsBriefly(sb, ['add', `x\u009b2J${OSC52}`, '--every', '1h', ...sh], /invalid job name "x\\x9b2J\\x1b\]52;c;SGVsbG8=\\x07"/);
    rejectsBriefly(sb, ['add', 'x', '--every', long, ...sh], /--every: "a+…" \(100000 characters\) is not a duration/);
    rejectsBriefly(sb, ['add', 'x', '--every', '1'.repeat(100_000), ...sh], /has no unit/);
    rejectsBriefly(sb, ['add', 'x', '--every', '1h', '--tz', long, ...sh], /unknown time zone "a+…" \(100000 characters\)/);
    rejectsBriefly(sb, ['add', 'x', '--every', '1h', '--http', `ftp://${long}`], /only http and https/);
    rejectsBriefly(sb, ['add', 'x', '--cron', `${long} * * * *`, ...sh], /cron "a+…" \(100008 characters\): minute "a+…"/, 400);
    rejectsBriefly(sb, ['add', 'x', '--every', '1h', '--delivery', long, ...sh], /--delivery: "a+…" \(100000 characters\) is not one of/);
    rejectsBriefly(sb, ['add', 'x', '--every', '1h', `--${long}`, ...sh], /unknown option/);
    const missing = tock(sb, ['show', long]);
    assert.equal(missing.status, 3);
    assert.ok(Buffer.byteLength(missing.stderr) < 300, missing.stderr.slice(0, 500));
  }),
);
