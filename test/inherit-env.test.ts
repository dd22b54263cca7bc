// A shell job that lists `inherit_env` gets only those of the daemon's variables, plus its
// own `env:` (still expanded from the daemon's whole environment) and TOCK_*; a bad list is
// refused at the edge.

import { test } from 'node:test';
import assert from 'node:assert/strict';
import { isCleanError, storeChecksum, tock, withSandbox, writeFile } from './helpers/cli.js';

/** Prints the names of the variables the command got, one per line, sorted. */
const NAMES = 'env | cut -d= -f1 | sort';

test('inherit_env passes only the listed variables; env: and TOCK_* are added; absent, everything is inherited', withSandbox((sb) => {
  const file = writeFile(sb, 'jobs.yaml', `
jobs:
  - name: narrow
    every: 1h
    shell:
      command: '${NAMES}'
      inherit_env: [PATH, LANG, NOT_SET_ANYWHERE]
      env: { TOKEN: "\${DAEMON_SECRET}" }
  - name: none
    every: 1h
    shell: { command: 'printf "%s|%s|%s" "$DAEMON_SECRET" "$PATH_SEEN" "$TOCK_JOB"', inherit_env: [] }
  - name: wide
    every: 1h
    shell: '${NAMES}'
`);
  assert.equal(tock(sb, ['apply', file]).status, 0);
  const env = { DAEMON_SECRET: 's3cret', UNLISTED: 'x', LANG: 'C.UTF-8' };

  const narrow = tock(sb, ['run', 'narrow'], env);
  assert.equal(narrow.status, 0, narrow.stderr);
  // The shell adds PWD (and some shells SHLVL, _) itself.
  const got = narrow.stdout.split('\n').filter((n) => /^[A-Za-z_][A-Za-z0-9_]*$/.test(n) && !['PWD', 'SHLVL', '_', 'OLDPWD'].includes(n));
  assert.deepEqual(got.filter((n) => !n.startsWith('TOCK_')), ['LANG', 'PATH', 'TOKEN']);
  assert.ok(got.includes('TOCK_JOB') && got.includes('TOCK_IDEMPOTENCY_KEY'), got.join(' '));

  const none = tock(sb, ['run', 'none'], env);
  assert.equal(none.status, 0, none.stderr);
  assert.match(none.stdout, /^\|\|none$/m, 'no daemon variable, not even PATH, reaches the command');

  const wide = tock(sb, ['run', 'wide'], env);
  assert.equal(wide.status, 0, wide.stderr);
  assert.ok(wide.stdout.split('\n').includes('UNLISTED'), 'without inherit_env the whole environment is passed');

  const shown = tock(sb, ['show', 'narrow', '--json']).json();
  assert.deepEqual(shown.target.inherit_env, ['PATH', 'LANG', 'NOT_SET_ANYWHERE']);
  assert.equal(tock(sb, ['show', 'wide', '--json']).json().target.inherit_env, null);
  assert.match(tock(sb, ['show', 'narrow']).stdout, /inherits\s+PATH, LANG, NOT_SET_ANYWHERE/);
}));

test('tock add --inherit-env takes a comma-separated list, and an empty one for none', withSandbox((sb) => {
  const added = tock(sb, ['add', 'a', '--every', '1h', '--shell', NAMES, '--inherit-env', 'PATH, HOME', '--json']);
  assert.equal(added.status, 0, added.stderr);
  assert.deepEqual(added.json().target.inherit_env, ['PATH', 'HOME']);
  const empty = tock(sb, ['add', 'b', '--every', '1h', '--shell', 'true', '--inherit-env', '', '--json']);
  assert.equal(empty.status, 0, empty.stderr);
  assert.deepEqual(empty.json().target.inherit_env, []);
}));

test('a bad inherit_env is refused with one line, exit 2, the store unchanged', withSandbox((sb) => {
  assert.equal(tock(sb, ['add', 'keep', '--every', '1h', '--shell', 'true']).status, 0);
  const before = storeChecksum(sb.db);
  const cases: [string[], RegExp][] = [
    [['add', 'x', '--every', '1h', '--shell', 'true', '--inherit-env', 'PATH,1BAD'], /--inherit-env: "1BAD" is not an environment variable name/],
    [['add', 'x', '--every', '1h', '--http', 'http://127.0.0.1:9/', '--inherit-env', 'PATH'], /--inherit-env: only for a --shell target/],
  ];
  for (const [yaml, re] of [
    ['inherit_env: PATH', /jobs\[0\]\.shell\.inherit_env: expected a list of environment variable names, got string "PATH"/],
    ['inherit_env: ["A B"]', /jobs\[0\]\.shell\.inherit_env: "A B" is not an environment variable name/],
    ['inherit_env: [{PATH: 1}]', /jobs\[0\]\.shell\.inherit_env: expected environment variable names, got a mapping in the list/],
  ] as const) {
    const file = writeFile(sb, `bad-${cases.length}.yaml`, `jobs:\n  - name: x\n    every: 1h\n    shell: { command: 'true', ${yaml} }\n`);
    cases.push([['apply', file], re]);
  }
  for (const [args, re] of cases) {
    const r = tock(sb, args);
    assert.equal(r.status, 2, `${args.join(' ')}: ${r.stderr}`);
    assert.ok(isCleanError(r), r.stderr);
    assert.match(r.stderr, re);
  }
  assert.equal(storeChecksum(sb.db), before);
}));
