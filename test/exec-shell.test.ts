import { test, after as afterAll } from 'node:test';
import assert from 'node:assert/strict';
import fs from 'node:fs';
import path from 'node:path';
import { execute } from '../src/exec/index.js';
import { runShell } from '../src/exec/shell.js';
import type { ShellTarget } from '../src/types.js';
import { MB, context, isAlive, measureRss, readPids, tempDir, waitFor } from './helpers/exec-fixtures.js';

const tmp = tempDir();
afterAll(() => tmp.cleanup());

const never = new AbortController().signal;
const sh = (command: string, extra: Partial<ShellTarget> = {}): ShellTarget => ({ kind: 'shell', command, ...extra });
let fileCount = 0;
const file = (name: string): string => path.join(tmp.dir, `${++fileCount}-${name}`);

/** Background processes that ignore SIGTERM, their own children included; each writes its pid to `pids`. */
const stubborn = (pids: string): string =>
  `sh -c 'trap "" TERM; echo $$ >> ${pids}; sleep 1000 & echo $! >> ${pids}; wait' &`;

test('exit status 0 succeeds and keeps stdout and stderr', async () => {
  const before = Date.now();
  const r = await runShell(sh('echo out; echo err >&2'), context(), never);
  assert.equal(r.outcome, 'succeeded');
  assert.equal(r.exitCode, 0);
  assert.equal(r.error, undefined);
  assert.equal(r.output, 'out\nerr\n');
  assert.equal(r.outputTruncated, false);
  assert.equal(r.outputBytes, 8);
  assert.ok(before <= r.startedAt && r.startedAt <= r.finishedAt && r.finishedAt <= Date.now());
});

test('a non-zero exit status fails, retryable', async () => {
  const r = await runShell(sh('echo partial; exit 3'), context(), never);
  assert.equal(r.outcome, 'failed');
  assert.equal(r.retryable, true);
  assert.equal(r.exitCode, 3);
  assert.equal(r.error, 'exit status 3');
  assert.equal(r.output, 'partial\n');
});

test('death by a signal is reported by name', async () => {
  const r = await runShell(sh('kill -KILL $$'), context(), never);
  assert.equal(r.outcome, 'failed');
  assert.equal(r.retryable, true);
  assert.equal(r.signal, 'SIGKILL');
  assert.equal(r.exitCode, undefined);
  assert.equal(r.error, 'killed by SIGKILL');
});

test('the command sees TOCK_* variables', async () => {
  const r = await runShell(
    sh('printf "%s|%s|%s|%s|%s" "$TOCK_JOB" "$TOCK_SCHEDULED_AT" "$TOCK_ATTEMPT" "$TOCK_OCCURRENCE_ID" "$TOCK_IDEMPOTENCY_KEY"'),
    context(),
    never,
  );
  assert.equal(r.output, 'nightly-report|2025-03-01T02:30:00.000Z|2|42|nightly-report@2025-03-01T02:30:00.000Z');
});

test('job env (expanded), the daemon env and cwd reach the command', async () => {
  const ctx = context({ env: { PATH: process.env.PATH, SECRET: 's3', INHERITED: 'yes' } });
  const target = sh('echo "$GREETING $INHERITED $(pwd)"', { cwd: tmp.dir, env: { GREETING: 'hi ${SECRET}' } });
  const r = await runShell(target, ctx, never);
  assert.equal(r.outcome, 'succeeded');
  assert.equal(r.output, `hi s3 yes ${fs.realpathSync(tmp.dir)}\n`);
});

test('the command reaches /bin/sh untouched: the shell expands ${NAME}, $${NAME} is shell text', async () => {
  const ctx = context({ env: { PATH: process.env.PATH, FOO: 'bar' } });
  const r = await runShell(sh(`set -- one; echo '$\${FOO}' "$FOO" '\${FOO}' "\${FOO}" "$1"`), ctx, never);
  assert.equal(r.output, '$${FOO} bar ${FOO} bar one\n');
});

test('an unset variable in env fails without running anything; in the command it is the shell\'s empty', async () => {
  const marker = file('ran');
  const r = await runShell(sh(`touch ${marker}`, { env: { TOKEN: '${NOT_SET_HERE}' } }), context(), never);
  assert.equal(r.outcome, 'failed');
  assert.equal(r.retryable, false);
  assert.equal(r.error, 'environment variable NOT_SET_HERE is not set (referenced by env TOKEN)');
  assert.equal(fs.existsSync(marker), false);

  const inCommand = await runShell(sh('echo "[${NOT_SET_HERE}]"'), context(), never);
  assert.equal(inCommand.outcome, 'succeeded');
  assert.equal(inCommand.output, '[]\n');
});

test('a missing or non-directory cwd fails permanently', async () => {
  const missing = path.join(tmp.dir, 'no-such-dir');
  const r = await runShell(sh('true', { cwd: missing }), context(), never);
  assert.equal(r.outcome, 'failed');
  assert.equal(r.retryable, false);
  assert.equal(r.error, `working directory ${missing} does not exist`);

  const plain = file('plain');
  fs.writeFileSync(plain, '');
  const notDir = await runShell(sh('true', { cwd: plain }), context(), never);
  assert.equal(notDir.error, `working directory ${plain} is not a directory`);
});

test('only the tail of the output is kept, after a marker', async () => {
  const r = await runShell(sh('i=0; while [ $i -lt 500 ]; do echo "line $i"; i=$((i+1)); done'), context({ outputLimit: 100 }), never);
  assert.equal(r.outcome, 'succeeded');
  assert.equal(r.outputTruncated, true);
  let all = '';
  for (let i = 0; i < 500; i++) all += `line ${i}\n`;
  assert.equal(r.outputBytes, all.length);
  assert.equal(r.output, `[tock: ${all.length - 100} earlier bytes not kept]\n${all.slice(-100)}`);
});

test('200 MB of output keeps memory bounded', async () => {
  const { result: r, growth } = await measureRss(() => runShell(sh('head -c 200000000 /dev/zero | tr "\\0" x'), context(), never));
  assert.equal(r.outcome, 'succeeded');
  assert.equal(r.outputBytes, 200_000_000);
  assert.equal(r.outputTruncated, true);
  assert.ok(r.output.length <= 64 * 1024 + 50);
  assert.ok(growth < 100 * MB, `RSS grew by ${(growth / MB).toFixed(1)} MB`);
});

test('timeout stops the whole group, SIGTERM-ignoring grandchildren included', async () => {
  const pids = file('pids');
  const command = `${stubborn(pids)} ${stubborn(pids)} trap "" TERM; echo $$ >> ${pids}; sleep 1000`;
  const started = Date.now();
  const r = await runShell(sh(command), context({ timeoutMs: 800, killGraceMs: 300 }), never);
  assert.equal(r.outcome, 'timeout');
  assert.equal(r.retryable, true);
  assert.equal(r.error, 'timed out after 800ms');
  assert.ok(Date.now() - started >= 800);
  const all = readPids(pids);
  assert.equal(all.length, 5);
  assert.deepEqual(all.filter(isAlive), []);
});

test('a main process that exits on SIGTERM still has its stubborn children killed', async () => {
  const pids = file('pids');
  const r = await runShell(sh(`${stubborn(pids)} sleep 1000`), context({ timeoutMs: 500, killGraceMs: 300 }), never);
  assert.equal(r.outcome, 'timeout');
  assert.equal(r.signal, 'SIGTERM');
  const all = readPids(pids);
  assert.equal(all.length, 2);
  assert.deepEqual(all.filter(isAlive), []);
});

test('abort stops the group and reports the reason', async () => {
  const pids = file('pids');
  const controller = new AbortController();
  const running = runShell(sh(`${stubborn(pids)} echo started; sleep 1000`), context(), controller.signal);
  await waitFor(() => readPids(pids).length === 2);
  controller.abort('daemon shutting down');
  const r = await running;
  assert.equal(r.outcome, 'cancelled');
  assert.equal(r.retryable, true);
  assert.equal(r.error, 'cancelled: daemon shutting down');
  assert.equal(r.output, 'started\n');
  assert.deepEqual(readPids(pids).filter(isAlive), []);
});

test('an already aborted signal runs nothing', async () => {
  const marker = file('ran');
  const controller = new AbortController();
  controller.abort();
  const r = await runShell(sh(`touch ${marker}`), context(), controller.signal);
  assert.equal(r.outcome, 'cancelled');
  assert.equal(r.error, 'cancelled');
  assert.equal(fs.existsSync(marker), false);
});

test('background processes left behind are killed once the main process exits', async () => {
  const pids = file('pids');
  const command = `sleep 1000 & echo $! >> ${pids}; sleep 1000 >/dev/null 2>&1 & echo $! >> ${pids}; ${stubborn(pids)} echo done; exit 4`;
  const started = Date.now();
  const r = await runShell(sh(command), context({ killGraceMs: 300 }), never);
  assert.ok(Date.now() - started < 10_000);
  assert.equal(r.outcome, 'failed');
  assert.equal(r.exitCode, 4);
  assert.equal(r.error, 'exit status 4');
  assert.equal(r.output, 'done\n');
  const all = readPids(pids);
  assert.equal(all.length, 4);
  assert.deepEqual(all.filter(isAlive), []);
});

const hasSetsid = fs.existsSync('/usr/bin/setsid');
test('a process that leaves the group and keeps the pipe does not hold the attempt', { skip: !hasSetsid }, async () => {
  const pids = file('pids');
  const started = Date.now();
  const r = await runShell(sh(`setsid sh -c 'echo $$ >> ${pids}; exec sleep 30' & echo main`), context(), never);
  assert.ok(Date.now() - started < 10_000);
  assert.equal(r.outcome, 'succeeded');
  assert.equal(r.output, 'main\n');
  for (const pid of readPids(pids)) process.kill(pid, 'SIGKILL');
});

test('execute dispatches to the shell executor', async () => {
  const r = await execute(sh('echo via execute'), context(), never);
  assert.equal(r.outcome, 'succeeded');
  assert.equal(r.output, 'via execute\n');
});

test('execute turns an unexpected exception into an internal error result', async () => {
  const broken = { kind: 'shell', get command(): string { throw new Error('boom'); } } as unknown as ShellTarget;
  const r = await execute(broken, context(), never);
  assert.equal(r.outcome, 'failed');
  assert.equal(r.retryable, true);
  assert.equal(r.error, 'internal error: boom');
  const odd = await execute({ kind: 'ftp' } as never, context(), never);
  assert.equal(odd.error, 'internal error: unknown target kind ftp');
});
