// The store is used only when it is the runner's own (SPEC §8; issue 13, items 5 and 8): a
// file another user owns or group/others may write, a directory others may write (sticky or
// not), a symlink at the store path, a FIFO or a device is refused with exit 2, by the CLI
// and by a daemon (which must not wait for it to pass), before anything is created or opened.

import { test } from 'node:test';
import assert from 'node:assert/strict';
import fs from 'node:fs';
import path from 'node:path';
import { spawnSync } from 'node:child_process';
import { exited, isCleanError, storeChecksum, tock, tockSpawn, waitFor, withSandbox, type Sandbox } from './helpers/cli.js';

/** chown and mknod need root; the suite runs as root in CI. */
const needsRoot = process.getuid?.() === 0 ? false : 'needs root (chown to nobody, mknod)';

/** Every kind of command that opens the store: a read, a write, and a daemon, which must exit instead of retrying. */
const COMMANDS = [['list'], ['add', 'k', '--every', '1h', '--shell', 'true'], ['daemon']];

/** A store at `db` holding one job, created as a user would. */
function makeStore(sb: Sandbox, db = sb.db): void {
  const r = tock(sb, ['--db', db, 'add', 'j', '--every', '1h', '--shell', 'true']);
  assert.equal(r.status, 0, r.stderr);
}

/** What a refused command must leave as it was: the directory's entries, and the file's bytes and mtime. */
function snapshot(file: string) {
  return { entries: fs.readdirSync(path.dirname(file)).sort(), sum: storeChecksum(file), mtime: fs.statSync(file).mtimeMs };
}

/** Each command on `db` exits 2 at once (a 15 s timeout fails a hang) with one clear line matching `message`. */
function assertRefused(sb: Sandbox, db: string, message: RegExp): void {
  for (const args of COMMANDS) {
    const r = tock(sb, ['--db', db, ...args], {}, 15_000);
    assert.equal(r.status, 2, `tock ${args.join(' ')}: ${r.stderr}`);
    assert.ok(isCleanError(r), r.stderr);
    assert.match(r.stderr, message);
  }
}

function run(cmd: string, args: string[]): void {
  const r = spawnSync(cmd, args, { encoding: 'utf8' });
  assert.equal(r.status, 0, `${cmd} ${args.join(' ')}: ${r.stderr}`);
}

test(
  "a store owned by another user is refused, even by root, and left as it was",
  { skip: needsRoot },
  withSandbox((sb) => {
    const marker = path.join(sb.dir, 'ran');
    const r = tock(sb, ['add', 'planted', '--every', '1s', '--shell', `id -u > ${marker}`]);
    assert.equal(r.status, 0, r.stderr);
    run('chown', ['nobody:', sb.db]);
    const uid = fs.statSync(sb.db).uid;
    const before = snapshot(sb.db);
    assertRefused(sb, sb.db, new RegExp(`belongs to uid ${uid}, not to uid 0 that runs tock: .*\`chown 0 ${sb.db}\``));
    assert.deepEqual(snapshot(sb.db), before);
    assert.equal(fs.existsSync(marker), false, "root's daemon ran a job from another user's store");
  }),
);

test(
  'a store writable by its group or by others is refused until chmod go-w',
  withSandbox((sb) => {
    makeStore(sb);
    for (const [mode, who] of [[0o666, 'group and others'], [0o620, 'its group'], [0o602, 'others']] as const) {
      fs.chmodSync(sb.db, mode);
      const before = snapshot(sb.db);
      assertRefused(sb, sb.db, new RegExp(`is writable by ${who} \\(mode 0${mode.toString(8)}\\): run \`chmod go-w ${sb.db}\``));
      assert.deepEqual(snapshot(sb.db), before);
    }
    run('chmod', ['go-w', sb.db]);
    assert.equal(tock(sb, ['list']).status, 0);
  }),
);

test(
  'a store directory others can write is refused, sticky or not, and nothing is created in it',
  withSandbox((sb) => {
    const open = path.join(sb.dir, 'open');
    fs.mkdirSync(open);
    const db = path.join(open, 'tock.db');
    makeStore(sb, db);
    fs.chmodSync(open, 0o777);
    const before = snapshot(db);
    assertRefused(sb, db, new RegExp(`directory ${open} is writable by group and others \\(mode 0777\\), who could swap in a store of their own: run \`chmod go-w ${open}\`, or keep`));
    assert.deepEqual(snapshot(db), before);

    // Like /tmp: the sticky bit stops others renaming the store, not creating it first.
    const shared = path.join(sb.dir, 'shared');
    fs.mkdirSync(shared);
    fs.chmodSync(shared, 0o1777);
    assertRefused(sb, path.join(shared, 'tock.db'), /directory .*shared is writable by group and others \(mode 1777\), who could swap in a store of their own: keep the store in a directory only you can write to$/m);
    assert.deepEqual(fs.readdirSync(shared), []);
  }),
);

test(
  "a store directory owned by another user is refused",
  { skip: needsRoot },
  withSandbox((sb) => {
    const theirs = path.join(sb.dir, 'theirs');
    fs.mkdirSync(theirs, { mode: 0o755 });
    const db = path.join(theirs, 'tock.db');
    makeStore(sb, db);
    run('chown', ['nobody:', theirs]);
    const before = snapshot(db);
    assertRefused(sb, db, /directory .*theirs belongs to uid \d+, not to uid 0 that runs tock: keep the store in a directory of your own/);
    assert.deepEqual(snapshot(db), before);
  }),
);

test(
  'a symlink at the store path is never followed; the resolved path is accepted',
  withSandbox((sb) => {
    makeStore(sb);
    const link = path.join(sb.dir, 'link.db');
    fs.symlinkSync(sb.db, link);
    const before = snapshot(sb.db);
    assertRefused(sb, link, new RegExp(`the store ${link} is a symbolic link, which tock does not follow: if you trust its target, pass it instead \\(--db "\\$\\(realpath ${link}\\)"\\)`));
    assert.deepEqual(snapshot(sb.db), before);
    const resolved = tock(sb, ['--db', fs.realpathSync(link), 'list', '--json']);
    assert.equal(resolved.status, 0, resolved.stderr);
    assert.deepEqual(resolved.json().map((j: { name: string }) => j.name), ['j']);

    // A planted link to someone's empty file must not turn it into a store, nor create one where a dangling link points.
    const victim = path.join(sb.dir, 'victim');
    fs.writeFileSync(victim, '', { mode: 0o644 });
    const planted = path.join(sb.dir, 'planted.db');
    fs.symlinkSync(victim, planted);
    assertRefused(sb, planted, /is a symbolic link/);
    assert.equal(fs.statSync(victim).size, 0);
    assert.equal(fs.statSync(victim).mode & 0o777, 0o644);
    const dangling = path.join(sb.dir, 'dangling.db');
    fs.symlinkSync(path.join(sb.dir, 'nowhere.db'), dangling);
    assertRefused(sb, dangling, /is a symbolic link/);
    assert.equal(fs.existsSync(path.join(sb.dir, 'nowhere.db')), false);
  }),
);

test(
  'a FIFO as the store is bad input: exit 2 at once, nothing created beside it',
  withSandbox((sb) => {
    const fifo = path.join(sb.dir, 'fifo');
    run('mkfifo', [fifo]);
    assertRefused(sb, fifo, /the store .*fifo is a FIFO, not a regular file: point --db \(or TOCK_DB\) at a file/);
    assert.deepEqual(fs.readdirSync(sb.dir), ['fifo']);
  }),
);

test(
  'a character device as the store (a /dev/null of its own) is bad input: exit 2, no -journal',
  { skip: needsRoot },
  withSandbox((sb) => {
    const dev = path.join(sb.dir, 'null');
    run('mknod', [dev, 'c', '1', '3']);
    assertRefused(sb, dev, /the store .*null is a character device, not a regular file/);
    assert.deepEqual(fs.readdirSync(sb.dir), ['null']);
  }),
);

test(
  "the store's -wal and -shm must be the runner's own too",
  { skip: needsRoot },
  withSandbox(async (sb) => {
    makeStore(sb);
    // A daemon keeps the WAL and its index open, as in everyday use; the CLI still works beside it.
    const d = tockSpawn(sb, ['daemon']);
    try {
      await waitFor('the -wal and -shm files', () => fs.existsSync(`${sb.db}-wal`) && fs.existsSync(`${sb.db}-shm`));
      const beside = tock(sb, ['list']);
      assert.equal(beside.status, 0, beside.stderr);
      run('chown', ['nobody:', `${sb.db}-shm`]);
      const r = tock(sb, ['list']);
      assert.equal(r.status, 2, r.stderr);
      assert.ok(isCleanError(r), r.stderr);
      assert.match(r.stderr, /the store's companion file .*tock\.db-shm belongs to uid \d+, not to uid 0/);
    } finally {
      d.kill('SIGTERM');
      await exited(d);
    }
  }),
);

test(
  'a new store is still created 0600 in a 0700 directory, and used',
  withSandbox((sb) => {
    const db = path.join(sb.dir, 'new', 'sub', 'tock.db');
    makeStore(sb, db);
    assert.equal(fs.statSync(db).mode & 0o777, 0o600);
    assert.equal(fs.statSync(path.dirname(db)).mode & 0o777, 0o700);
    assert.equal(fs.statSync(path.dirname(path.dirname(db))).mode & 0o777, 0o700);
    const list = tock(sb, ['--db', db, 'list', '--json']);
    assert.equal(list.status, 0, list.stderr);
    assert.deepEqual(list.json().map((j: { name: string }) => j.name), ['j']);
  }),
);
