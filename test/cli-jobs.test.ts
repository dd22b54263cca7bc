// The job-management commands run as real processes against a real store: add, apply,
// list, show, next, remove, pause, resume, with their JSON, exit statuses and messages.

import { test } from 'node:test';
import assert from 'node:assert/strict';
import fs from 'node:fs';
import path from 'node:path';
import { spawn, spawnSync, type ChildProcess } from 'node:child_process';
import { createRequire } from 'node:module';
import { ROOT, storeChecksum, exited, isCleanError, tock, tockSpawn, waitFor, writeFile, withSandbox, type Sandbox } from './helpers/cli.js';

/** better-sqlite3, for scripts that tamper with a store from another process. */
const SQLITE = JSON.stringify(createRequire(import.meta.url).resolve('better-sqlite3'));


test(
  'add creates a job, prints its next 3 fire times, and list/show return SPEC JSON',
  withSandbox((sb) => {
    const add = tock(sb, ['add', 'backup', '--cron', '30 2 * * *', '--tz', 'Europe/Berlin', '--shell', 'echo hi', '--json']);
    assert.equal(add.status, 0, add.stderr);
    const created = add.json();
    assert.equal(created.name, 'backup');
    assert.equal(created.next_runs.length, 3);
    for (const t of created.next_runs) assert.match(t, /T01:30:00\.000Z$|T00:30:00\.000Z$/); // 02:30 in Berlin
    const list = tock(sb, ['list', '--json']).json();
    assert.equal(list.length, 1);
    const job = list[0];
    assert.deepEqual(job.schedule.kind, 'cron');
    assert.equal(job.schedule.expr, '30 2 * * *');
    assert.equal(job.schedule.timezone, 'Europe/Berlin');
    assert.equal(job.target.kind, 'shell');
    assert.equal(job.target.command, 'echo hi');
    assert.equal(job.delivery, 'at-least-once');
    assert.equal(job.paused, false);
    assert.equal(job.next_run, created.next_runs[0]);
    assert.equal(job.last, null);
    const show = tock(sb, ['show', 'backup', '--json']).json();
    assert.equal(show.next_runs.length, 5);
    assert.equal(show.retries, 3);
    assert.equal(show.timeout, '1h');
    const human = tock(sb, ['show', 'backup']);
    assert.equal(human.status, 0);
    assert.match(human.stdout, /cron 30 2 \* \* \*/);
  }),
);

test(
  'the store is created 0600 in a 0700 directory at the default path',
  withSandbox((sb) => {
    const env = { TOCK_DB: '' };
    const r = tock(sb, ['list'], env);
    assert.equal(r.status, 0, r.stderr);
    const file = path.join(sb.dir, 'state', 'tock', 'tock.db');
    assert.equal(fs.statSync(file).mode & 0o777, 0o600);
    assert.equal(fs.statSync(path.dirname(file)).mode & 0o777, 0o700);
  }),
);

test(
  'an http job, and every policy flag, round-trip through show --json',
  withSandbox((sb) => {
    const r = tock(sb, [
      'add', 'hook', '--every', '90s', '--http', 'http://127.0.0.1:9/x', '--method', 'post',
      '--header', 'X-A: 1', '--body', '{}', '--delivery', 'exactly-once', '--retries', '5',
      '--backoff', '2s:1m', '--timeout', '30s', '--overlap', 'queue', '--catchup', 'all',
      '--catchup-limit', '7', '--catchup-window', '1h', '--jitter', '5s', '--description', 'a hook', '--paused',
    ]);
    assert.equal(r.status, 0, r.stderr);
    const j = tock(sb, ['show', 'hook', '--json']).json();
    assert.equal(j.target.method, 'POST');
    assert.deepEqual(j.target.headers, { 'X-A': '1' });
    assert.equal(j.delivery, 'exactly-once');
    assert.equal(j.retries, 5);
    assert.deepEqual(j.backoff, { initial: '2s', max: '1m', multiplier: 2 });
    assert.equal(j.overlap, 'queue');
    assert.equal(j.catchup, 'all');
    assert.equal(j.catchup_limit, 7);
    assert.equal(j.catchup_window, '1h');
    assert.equal(j.schedule.jitter, '5s');
    assert.equal(j.paused, true);
    assert.equal(j.next_run, null, 'a paused job has no next run');
  }),
);

test(
  'pause, resume and remove change the job; an unknown name exits 3',
  withSandbox((sb) => {
    assert.equal(tock(sb, ['add', 'j', '--every', '1h', '--shell', 'true']).status, 0);
    assert.equal(tock(sb, ['pause', 'j']).status, 0);
    assert.equal(tock(sb, ['list', '--json']).json()[0].paused, true);
    assert.equal(tock(sb, ['resume', 'j']).status, 0);
    const j = tock(sb, ['show', 'j', '--json']).json();
    assert.equal(j.paused, false);
    assert.equal(j.version, 3, 'every change bumps the version');
    for (const cmd of ['pause', 'resume', 'remove', 'show']) {
      const r = tock(sb, [cmd, 'nope']);
      assert.equal(r.status, 3, `${cmd}: ${r.stderr}`);
      assert.ok(isCleanError(r), r.stderr);
      assert.match(r.stderr, /no job named nope/);
    }
    assert.equal(tock(sb, ['remove', 'j']).status, 0);
    assert.deepEqual(tock(sb, ['list', '--json']).json(), []);
  }),
);

test(
  'next previews a cron expression from a given instant, and a job',
  withSandbox((sb) => {
    const r = tock(sb, ['next', '*/15 * * * *', '-n', '3', '--from', '2026-01-01T00:00:00Z', '--json']);
    assert.equal(r.status, 0, r.stderr);
    assert.deepEqual(r.json(), ['2026-01-01T00:15:00.000Z', '2026-01-01T00:30:00.000Z', '2026-01-01T00:45:00.000Z']);
    const ny = tock(sb, ['next', '30 2 * * *', '--tz', 'America/New_York', '-n', '2', '--from', '2026-03-07T12:00', '--json']);
    assert.deepEqual(ny.json(), ['2026-03-08T07:00:00.000Z', '2026-03-09T06:30:00.000Z'], 'spring-forward gap fires at 03:00 local');
    assert.equal(tock(sb, ['add', 'daily', '--cron', '@daily', '--shell', 'true']).status, 0);
    const job = tock(sb, ['next', 'daily', '-n', '2', '--from', '2026-05-05T10:00:00Z', '--json']);
    assert.deepEqual(job.json(), ['2026-05-06T00:00:00.000Z', '2026-05-07T00:00:00.000Z']);
    const human = tock(sb, ['next', '0 12 * * *', '--from', '2026-05-05T00:00:00Z', '-n', '1']);
    assert.match(human.stdout, /2026-05-05T12:00:00\.000Z/);
    const missing = tock(sb, ['next', 'nosuchjob']);
    assert.equal(missing.status, 3);
  }),
);

test(
  'list is a table like systemctl list-timers, without colour when piped or with NO_COLOR',
  withSandbox((sb) => {
    tock(sb, ['add', 'a', '--every', '5m', '--shell', 'true']);
    tock(sb, ['add', 'b', '--cron', '0 3 * * *', '--http', 'https://127.0.0.1/x']);
    const r = tock(sb, ['list']);
    assert.equal(r.status, 0, r.stderr);
    const [head, ...rows] = r.stdout.split('\n');
    assert.match(head, /^NEXT\s+LEFT\s+LAST\s+RESULT\s+RECENT\s+JOB\s+SCHEDULE\s+TARGET\s+DELIVERY$/);
    assert.match(rows[0], /\ba\b.*every 5m.*shell: true/);
    assert.ok(!r.stdout.includes('\u001b['), 'no escape codes when not a TTY');
    const forced = tock(sb, ['list', '--no-color'], { FORCE_COLOR: '1' });
    assert.ok(!forced.stdout.includes('\u001b['), '--no-color wins');
  }),
);

/** Runs a command that must be rejected: exit status, one tock: line matching `message`, store unchanged. */
function rejects(sb: Sandbox, args: string[], status: number, message: RegExp, env: NodeJS.ProcessEnv = {}) {
  const before = fs.existsSync(sb.db) ? storeChecksum(sb.db) : undefined;
  const r = tock(sb, args, env);
  assert.equal(r.status, status, `${args.join(' ')}: ${r.stderr}`);
  assert.ok(isCleanError(r), `one clean line expected, got: ${r.stderr}`);
  assert.match(r.stderr, message);
  assert.equal(r.stdout, '');
  if (before !== undefined) assert.equal(storeChecksum(sb.db), before, `store changed by ${args.join(' ')}`);
}

test(
  'bad input on add: exit 2, one clear line, store unchanged',
  withSandbox((sb) => {
    assert.equal(tock(sb, ['add', 'exists', '--every', '1h', '--shell', 'true']).status, 0);
    const sh = ['--shell', 'true'];
    rejects(sb, ['add', 'x', '--cron', '61 * * * *', ...sh], 2, /minute.*61.*0-59/);
    rejects(sb, ['add', 'x', '--cron', '0 25 * * *', ...sh], 2, /hour.*25.*0-23/);
    rejects(sb, ['add', 'x', '--cron', '* * 32 * *', ...sh], 2, /day-of-month.*32.*1-31/);
    rejects(sb, ['add', 'x', '--cron', '* * * 13 *', ...sh], 2, /month.*13.*1-12/);
    rejects(sb, ['add', 'x', '--cron', '* * * * 9', ...sh], 2, /day-of-week.*9.*0-7/);
    rejects(sb, ['add', 'x', '--cron', '* * *', ...sh], 2, /5 fields/);
    rejects(sb, ['add', 'x', '--cron', '* * * * *', '--tz', 'Mars/Olympus', ...sh], 2, /unknown time zone "Mars\/Olympus"/);
    rejects(sb, ['add', 'x', '--every', '0s', ...sh], 2, /--every.*greater than zero/);
    rejects(sb, ['add', 'x', '--every', '-5m', ...sh], 2, /--every.*negative/);
    rejects(sb, ['add', 'x', '--every', '5x', ...sh], 2, /--every.*not a duration/);
    rejects(sb, ['add', 'x', '--every', '1h', '--timeout', '0s', ...sh], 2, /--timeout/);
    rejects(sb, ['add', 'x', '--every', '1h', '--jitter', '-1s', ...sh], 2, /--jitter.*negative/);
    rejects(sb, ['add', 'x', '--every', '1h', '--http', 'ftp://127.0.0.1/x'], 2, /only http and https/);
    rejects(sb, ['add', 'x', '--every', '1h', '--http', 'not a url'], 2, /not a URL/);
    rejects(sb, ['add', 'x', '--every', '1h', '--shell', 'true', '--http', 'http://127.0.0.1/'], 2, /not both/);
    rejects(sb, ['add', 'x', '--every', '1h'], 2, /needs a target/);
    rejects(sb, ['add', 'x', '--shell', 'true'], 2, /needs a schedule/);
    rejects(sb, ['add', 'x', '--every', '1h', '--cron', '* * * * *', ...sh], 2, /one of cron, every or at/);
    rejects(sb, ['add', 'exists', '--every', '1h', ...sh], 2, /already exists/);
    rejects(sb, ['add', 'bad name!', '--every', '1h', ...sh], 2, /invalid job name/);
    rejects(sb, ['add', '-x', '--every', '1h', ...sh], 2, /unknown option|invalid job name/);
    rejects(sb, ['add', 'x', '--every', '1h', '--delivery', 'twice', ...sh], 2, /--delivery.*not one of/);
    rejects(sb, ['add', 'x', '--every', '1h', '--retries', 'many', ...sh], 2, /--retries.*whole number/);
    rejects(sb, ['add', 'x', '--every', '1h', '--overlap', 'maybe', ...sh], 2, /--overlap/);
    rejects(sb, ['add', 'x', '--at', 'tomorrow', ...sh], 2, /--at.*ISO-8601/);
    rejects(sb, ['add', 'x', '--every', '1h', '--env', 'NOEQUALS', ...sh], 2, /--env.*KEY=VALUE/);
    rejects(sb, ['add', 'x', '--every', '1h', '--backoff', '5m:1s', ...sh], 2, /--backoff/);
    rejects(sb, ['add', 'x', '--every', '1h', '--bogus', ...sh], 2, /unknown option '--bogus'/);
    rejects(sb, ['frobnicate'], 2, /unknown command/);
    // Several problems at once are all reported.
    const r = tock(sb, ['add', 'x', '--cron', '99 * * * *', '--tz', 'Nowhere/City', '--timeout', '-1s', ...sh]);
    assert.equal(r.status, 2);
    assert.match(r.stderr, /time zone/);
    assert.match(r.stderr, /--timeout/);
  }),
);

test(
  'apply creates, updates, leaves unchanged, prunes, and --dry-run changes nothing',
  withSandbox((sb) => {
    const file = writeFile(
      sb,
      'jobs.yaml',
      `defaults:\n  timezone: Europe/Berlin\n  retries: 2\njobs:\n` +
        `  - name: a\n    cron: "0 * * * *"\n    shell: echo a\n` +
        `  - name: b\n    every: 10m\n    http: { url: "http://127.0.0.1:8080/b", method: POST }\n` +
        `  - name: c\n    at: 2030-01-01T00:00\n    shell: { command: "echo c", cwd: /tmp, env: { A: "1" } }\n`,
    );
    const first = tock(sb, ['apply', file, '--json']);
    assert.equal(first.status, 0, first.stderr);
    assert.deepEqual(first.json().created, ['a', 'b', 'c']);
    const c = tock(sb, ['show', 'c', '--json']).json();
    assert.equal(c.schedule.at, '2029-12-31T23:00:00.000Z', 'at is local to the default zone');
    assert.equal(c.retries, 2, 'defaults apply');
    const again = tock(sb, ['apply', file, '--json']).json();
    assert.deepEqual(again.unchanged, ['a', 'b', 'c']);
    writeFile(sb, 'jobs.yaml', `jobs:\n  - name: a\n    cron: "5 * * * *"\n    shell: echo a\n  - name: d\n    every: 1h\n    shell: echo d\n`);
    const before = storeChecksum(sb.db);
    const dry = tock(sb, ['apply', file, '--prune', '--dry-run', '--json']);
    assert.equal(dry.status, 0, dry.stderr);
    assert.deepEqual(dry.json(), { file, dry_run: true, created: ['d'], updated: ['a'], unchanged: [], removed: ['b', 'c'] });
    assert.equal(storeChecksum(sb.db), before, 'dry run leaves the store as it was');
    const human = tock(sb, ['apply', file, '--prune']);
    assert.equal(human.status, 0, human.stderr);
    assert.match(human.stdout, /1 created, 1 updated, 0 unchanged, 2 removed/);
    assert.deepEqual(tock(sb, ['list', '--json']).json().map((j: { name: string }) => j.name).sort(), ['a', 'd']);
  }),
);

test(
  'a jobs file with several bad jobs is rejected whole, every error with its path',
  withSandbox((sb) => {
    assert.equal(tock(sb, ['add', 'keep', '--every', '1h', '--shell', 'true']).status, 0);
    const file = writeFile(
      sb,
      'bad.yaml',
      `jobs:\n` +
        `  - name: ok\n    every: 5m\n    shell: "true"\n` +
        `  - name: two\n    cron: "0 0 * * 8"\n    shell: "true"\n` +
        `  - name: three\n    every: 0s\n    http: "ftp://127.0.0.1/"\n` +
        `  - name: "bad name"\n    every: 1h\n    shell: "true"\n    timezone: Nowhere/Land\n` +
        `  - name: ok\n    every: 1h\n    shell: "true"\n    colour: red\n`,
    );
    const before = storeChecksum(sb.db);
    const r = tock(sb, ['apply', file]);
    assert.equal(r.status, 2);
    assert.ok(isCleanError(r), r.stderr);
    assert.match(r.stderr, /jobs\[1\]\.cron: .*day-of-week 8/);
    assert.match(r.stderr, /jobs\[2\]\.every: .*greater than zero/);
    assert.match(r.stderr, /jobs\[2\]\.http\.url: .*only http and https/);
    assert.match(r.stderr, /jobs\[3\]\.name: invalid job name/);
    assert.match(r.stderr, /jobs\[3\]\.timezone: unknown time zone/);
    assert.match(r.stderr, /jobs\[4\]\.name: "ok" is already used by jobs\[0\]/);
    assert.match(r.stderr, /jobs\[4\]\.colour: unknown field/);
    assert.equal(storeChecksum(sb.db), before);
    assert.deepEqual(tock(sb, ['list', '--json']).json().map((j: { name: string }) => j.name), ['keep']);
    rejects(sb, ['apply', writeFile(sb, 'broken.yaml', 'jobs: [\n  - {name: a\n')], 2, /not valid YAML at line/);
    rejects(sb, ['apply', path.join(sb.dir, 'missing.yaml')], 2, /cannot read the jobs file/);
    rejects(sb, ['apply', writeFile(sb, 'empty.yaml', 'defaults: {}\n')], 2, /jobs: expected a list/);
  }),
);

test(
  'a corrupt, foreign or newer store is refused with exit 2 and left unchanged',
  withSandbox((sb) => {
    // 0600 as tock makes it: under a umask of 002 the default mode would be refused for its group.
    fs.writeFileSync(sb.db, 'this is not a database, just some text that is long enough '.repeat(200), { mode: 0o600 });
    rejects(sb, ['list'], 2, /not a usable tock store/);
    rejects(sb, ['add', 'x', '--every', '1h', '--shell', 'true'], 2, /not a usable tock store/);
    fs.rmSync(sb.db);
    assert.equal(tock(sb, ['list']).status, 0);
    // Pretend a newer tock migrated this file.
    const bump = tock(sb, ['list']);
    assert.equal(bump.status, 0);
    const script = `const D=require(${SQLITE});const d=new D(${JSON.stringify(sb.db)});d.prepare("INSERT INTO schema_migrations VALUES (99,'future',0)").run();d.close();`;
    assert.equal(spawnSync(process.execPath, ['-e', script]).status, 0);
    rejects(sb, ['list'], 2, /newer tock \(schema 99/);
    const foreign = path.join(sb.dir, 'foreign.db');
    assert.equal(spawnSync(process.execPath, ['-e', `const D=require(${SQLITE});const d=new D(${JSON.stringify(foreign)});d.exec('CREATE TABLE t(x)');d.close();`]).status, 0);
    rejects(sb, ['--db', foreign, 'list'], 2, /not a tock store/);
  }),
);

test(
  'a store locked by a long transaction: writes exit 2 after busy_timeout, reads still work',
  withSandbox(async (sb) => {
    assert.equal(tock(sb, ['add', 'j', '--every', '1h', '--shell', 'true']).status, 0);
    const holder = await holdWriteLock(sb);
    try {
      const env = { TOCK_BUSY_TIMEOUT_MS: '300' };
      const r = tock(sb, ['add', 'k', '--every', '1h', '--shell', 'true'], env);
      assert.equal(r.status, 2, r.stderr);
      assert.ok(isCleanError(r), r.stderr);
      assert.match(r.stderr, /locked by another process/);
      const read = tock(sb, ['list', '--json'], env);
      assert.equal(read.status, 0, read.stderr);
      assert.equal(read.json().length, 1);
    } finally {
      holder.kill();
    }
  }),
);

test(
  'a write waits for a lock released within the busy timeout, and lands once',
  withSandbox(async (sb) => {
    assert.equal(tock(sb, ['list']).status, 0); // creates the store
    const holder = await holdWriteLock(sb);
    const add = tockSpawn(sb, ['add', 'k', '--every', '1h', '--shell', 'true'], { TOCK_BUSY_TIMEOUT_MS: '10000' });
    const done = exited(add);
    try {
      // Still waiting while the lock is held: it neither gave up nor wrote.
      await new Promise((resolve) => setTimeout(resolve, 700));
      assert.equal(add.exitCode, null, add.output());
    } finally {
      holder.kill();
    }
    assert.equal(await done, 0, add.output());
    const jobs = tock(sb, ['list', '--json']).json() as { name: string }[];
    assert.deepEqual(jobs.map((j) => j.name), ['k']);
  }),
);

test(
  'a daemon started while the store is locked waits, says why, and starts once the lock goes',
  withSandbox(async (sb) => {
    assert.equal(tock(sb, ['add', 'j', '--every', '1h', '--shell', 'true']).status, 0);
    const holder = await holdWriteLock(sb);
    const daemon = () => tockSpawn(sb, ['daemon'], { TOCK_BUSY_TIMEOUT_MS: '200' });
    let d: ReturnType<typeof tockSpawn> | undefined;
    try {
      d = daemon();
      await waitFor('a second "cannot start yet" line', () => d!.output().match(/error +cannot start yet: .*locked by another process/g)?.length === 2);
      assert.equal(d.exitCode, null, 'the daemon waits instead of exiting');
      assert.doesNotMatch(d.output(), / started /);
      holder.kill();
      await exited(holder);
      await waitFor('the daemon to start', () => / started +daemon /.test(d!.output()));
      const status = tock(sb, ['status', '--json']);
      assert.equal(status.json().daemons.length, 1, 'one runner registered, none left behind by the failed tries');
      d.kill('SIGTERM');
      assert.equal(await exited(d), 0, d.output());
    } finally {
      holder.kill();
      d?.kill('SIGKILL');
    }
  }),
);

test(
  'a daemon told to stop while it waits for the store stops at once with status 0',
  withSandbox(async (sb) => {
    assert.equal(tock(sb, ['add', 'j', '--every', '1h', '--shell', 'true']).status, 0);
    const holder = await holdWriteLock(sb);
    try {
      const d = tockSpawn(sb, ['daemon'], { TOCK_BUSY_TIMEOUT_MS: '200' });
      await waitFor('the first "cannot start yet" line', () => /cannot start yet/.test(d.output()));
      d.kill('SIGTERM');
      assert.equal(await exited(d), 0, d.output());
      assert.match(d.output(), /stopped +before the store could be used/);
    } finally {
      holder.kill();
    }
  }),
);

test(
  'a daemon on a store that needs the operator exits 2 at once instead of waiting',
  withSandbox(async (sb) => {
    const foreign = path.join(sb.dir, 'foreign.db');
    assert.equal(spawnSync(process.execPath, ['-e', `const D=require(${SQLITE});const d=new D(${JSON.stringify(foreign)});d.exec('CREATE TABLE t(x)');d.close();`]).status, 0);
    const r = tock(sb, ['--db', foreign, 'daemon'], {}, 10_000);
    assert.equal(r.status, 2, r.stderr);
    assert.ok(isCleanError(r), r.stderr);
    assert.match(r.stderr, /not a tock store/);
  }),
);

/** Another process holding a write transaction on the store until it is killed. */
async function holdWriteLock(sb: Sandbox): Promise<ChildProcess> {
  const holder = spawn(
    process.execPath,
    ['-e', `const D=require(${SQLITE});const d=new D(${JSON.stringify(sb.db)});d.exec('BEGIN IMMEDIATE');d.prepare("UPDATE meta SET value=value WHERE key='x'").run();console.log('locked');setTimeout(()=>{},60000)`],
    { stdio: ['ignore', 'pipe', 'inherit'] },
  );
  await new Promise<void>((resolve, reject) => {
    holder.stdout!.once('data', () => resolve());
    holder.once('exit', (code) => reject(new Error(`the lock holder exited ${code} before locking`)));
  });
  return holder;
}

test(
  'a missing or half-built bundle says to rebuild in one line, never a stack trace',
  withSandbox((sb) => {
    // A copy of the program whose bundle is missing, then cut short mid-write, then empty.
    const copy = path.join(sb.dir, 'tock');
    fs.mkdirSync(path.join(copy, 'dist'), { recursive: true });
    fs.cpSync(path.join(ROOT, 'bin'), path.join(copy, 'bin'), { recursive: true });
    fs.copyFileSync(path.join(ROOT, 'package.json'), path.join(copy, 'package.json'));
    fs.symlinkSync(path.join(ROOT, 'node_modules'), path.join(copy, 'node_modules'));
    const bundle = path.join(copy, 'dist', 'tock.cjs');
    const whole = fs.readFileSync(path.join(ROOT, 'dist', 'tock.cjs'), 'utf8');
    const bin = path.join(copy, 'bin', 'tock.js');
    // Cut mid-statement (a syntax error), and between statements just before the entry point.
    const cuts = [Math.floor(whole.length / 2), 1000, whole.indexOf('async function main(')];
    assert.ok(cuts[2] > 0, 'the bundle holds the entry point');
    for (const broken of [undefined, ...cuts.map((n) => whole.slice(0, n))]) {
      if (broken !== undefined) fs.writeFileSync(bundle, broken);
      const r = spawnSync(process.execPath, [bin, 'list'], { env: sb.env, encoding: 'utf8' });
      assert.equal(r.status, 1, r.stderr);
      assert.equal(r.stderr, 'tock: the program is not built, or its build is incomplete; run `npm install` (or `npm run build`) in the tock directory\n');
    }
    fs.writeFileSync(bundle, whole);
    const r = spawnSync(process.execPath, [bin, 'list'], { env: sb.env, encoding: 'utf8' });
    assert.equal(r.status, 0, r.stderr);
    assert.match(r.stdout, /no jobs/);
  }),
);

test(
  'list answers from the next firing remembered by add, apply and the daemon, and only while it holds',
  withSandbox(async (sb) => {
    assert.equal(tock(sb, ['add', 'berlin', '--cron', '30 2 * * *', '--tz', 'Europe/Berlin', '--shell', 'true']).status, 0);
    const listed = () => (tock(sb, ['list', '--json']).json() as { name: string; next_run: string | null }[]).find((j) => j.name === 'berlin')!.next_run;
    const computed = () => (tock(sb, ['show', 'berlin', '--json']).json() as { next_runs: string[] }).next_runs[0];
    const sql = (statement: string) =>
      assert.equal(spawnSync(process.execPath, ['-e', `const D=require(${SQLITE});const d=new D(${JSON.stringify(sb.db)});d.exec(${JSON.stringify(statement)});d.close();`]).status, 0);
    const real = computed();
    assert.equal(listed(), real);
    const remembered = (spawnSync(process.execPath, ['-e', `const D=require(${SQLITE});const d=new D(${JSON.stringify(sb.db)});console.log(JSON.stringify(d.prepare("SELECT next_at, next_version, version FROM jobs WHERE name='berlin'").get()))`], { encoding: 'utf8' }).stdout);
    const row = JSON.parse(remembered) as { next_at: number; next_version: number; version: number };
    assert.equal(new Date(row.next_at).toISOString(), real, 'add stored the first firing');
    assert.equal(row.next_version, row.version);

    // Used while it holds: a value planted a week later shows...
    const week = 7 * 86_400_000;
    sql(`UPDATE jobs SET next_at = next_at + ${week} WHERE name = 'berlin'`);
    assert.equal(listed(), new Date(Date.parse(real) + week).toISOString());
    // ...but not for another version of the job, nor from a point after now, nor once passed.
    sql(`UPDATE jobs SET next_version = version - 1 WHERE name = 'berlin'`);
    assert.equal(listed(), real);
    sql(`UPDATE jobs SET next_version = version, next_after = ${Date.now() + week} WHERE name = 'berlin'`);
    assert.equal(listed(), real);
    sql(`UPDATE jobs SET next_after = 0, next_at = ${Date.now() - 1000} WHERE name = 'berlin'`);
    assert.equal(listed(), real);

    // A daemon remembers the next firing with each claim: list agrees with the computation.
    assert.equal(tock(sb, ['add', 'tick', '--every', '1s', '--shell', 'true']).status, 0);
    const d = tockSpawn(sb, ['daemon']);
    try {
      await waitFor('two firings of tick', () => (d.output().match(/fired +tick/g) ?? []).length >= 2);
    } finally {
      d.kill('SIGTERM');
      assert.equal(await exited(d), 0, d.output());
    }
    const after = JSON.parse(
      spawnSync(process.execPath, ['-e', `const D=require(${SQLITE});const d=new D(${JSON.stringify(sb.db)});console.log(JSON.stringify(d.prepare("SELECT next_after, next_at, cursor_at, next_version, version FROM jobs WHERE name='tick'").get()))`], { encoding: 'utf8' }).stdout,
    ) as { next_after: number; next_at: number; cursor_at: number; next_version: number; version: number };
    const lastFired = (d.output().match(/fired +tick #\d+ (\S+)/g) ?? []).map((l) => Date.parse(l.split(' ').pop()!)).pop()!;
    assert.equal(after.next_after, lastFired, 'remembered from the last claimed instant');
    assert.equal(after.next_at, lastFired + 1000, 'the firing after it');
    assert.equal(after.next_version, after.version);
  }),
);

test(
  'a jobs file that nests deeper than the YAML parser can follow is bad input, not an internal error',
  withSandbox((sb) => {
    // Found by the fault suite's fuzzer (a mutated file): the parser recursed per `- NAME:`
    // and ran out of stack.
    assert.equal(tock(sb, ['add', 'keep', '--every', '1h', '--shell', 'true']).status, 0);
    const before = storeChecksum(sb.db);
    const file = writeFile(sb, 'deep.yaml', `jobs:\n  - ${'NAME: x  - '.repeat(2000)}NAME: x\n    cron: "* * * * *"\n    shell: "true"\n  - name: y\n`);
    const r = tock(sb, ['apply', file]);
    assert.equal(r.status, 2, r.stderr);
    assert.ok(isCleanError(r), r.stderr);
    assert.match(r.stderr, /cannot be read as YAML: it is nested too deeply/);
    assert.equal(storeChecksum(sb.db), before, 'the store is unchanged');
  }),
);
