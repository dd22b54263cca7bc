// Input a security review found accepted or recorded wrongly (issue 13): here, an `every`
// below one second. Real CLI processes and a real SQLite store per test.

import { test } from 'node:test';
import assert from 'node:assert/strict';
import {
  isCleanError,
  storeChecksum,
  tock,
  withSandbox,
  writeFile,
  type Sandbox,
} from './helpers/cli.js';

function ok(sb: Sandbox, args: string[]): string {
  const r = tock(sb, args);
  assert.equal(r.status, 0, `tock ${args.join(' ')}: ${r.stderr}`);
  return r.stdout;
}

// ---- item 7: every has a floor of one second ---------------------------------------------

test(
  'every below one second is refused with the floor named, the store unchanged; 1s is accepted',
  withSandbox((sb) => {
    ok(sb, ['add', 'seed', '--every', '1h', '--shell', 'true']);
    const before = storeChecksum(sb.db);
    for (const every of ['1ms', '500ms', '999ms', 'PT0.5S']) {
      const r = tock(sb, ['add', 'fast', '--every', every, '--shell', 'true']);
      assert.equal(r.status, 2, `--every ${every}: ${r.stdout}${r.stderr}`);
      assert.ok(isCleanError(r), r.stderr);
      assert.match(r.stderr, new RegExp(`^tock: --every: "${every}" is shorter than 1s, the minimum for every`), r.stderr);
    }
    const file = writeFile(sb, 'fast.yaml', 'jobs:\n  - name: slow\n    every: 1h\n    shell: "true"\n  - name: fast\n    every: 0.5s\n    shell: "true"\n');
    const r = tock(sb, ['apply', file]);
    assert.equal(r.status, 2, r.stdout + r.stderr);
    assert.ok(isCleanError(r), r.stderr);
    assert.match(r.stderr, /jobs\[1\]\.every: "0\.5s" is shorter than 1s, the minimum for every/);
    assert.equal(storeChecksum(sb.db), before, 'a refused every changed the store');

    ok(sb, ['add', 'each-second', '--every', '1s', '--shell', 'true']);
    ok(sb, ['apply', writeFile(sb, 'ok.yaml', 'jobs:\n  - name: from-file\n    every: 1s\n    shell: "true"\n')]);
    const listed = JSON.parse(ok(sb, ['list', '--json'])) as { name: string; schedule: { every_ms?: number } }[];
    for (const name of ['each-second', 'from-file']) {
      assert.equal(listed.find((j) => j.name === name)?.schedule.every_ms, 1000, name);
    }
  }),
);
