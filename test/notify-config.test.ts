// `notify:`, `late_after` and `warn_after` in a jobs file: what a user types is read into
// the JobSpec, every mistake is one line naming its path, the CLI exits 2 on them, and an
// email channel on a machine without sendmail is refused by checkChannels.

import { test } from 'node:test';
import assert from 'node:assert/strict';
import fs from 'node:fs';
import path from 'node:path';
import { parseJobsFile } from '../src/config/file.js';
import { ValidationErrors, TockError } from '../src/errors.js';
import { checkChannels, findSendmail } from '../src/notify/index.js';
import type { JobSpec } from '../src/types.js';
import { tempDir } from './helpers/exec-fixtures.js';
import { isCleanError, tock, withSandbox, writeFile } from './helpers/cli.js';

const job = (extra: string): string => `jobs:\n  - name: backup\n    cron: "0 3 * * *"\n    shell: "true"\n${extra}`;

function problems(text: string): string[] {
  try {
    parseJobsFile(text, 'jobs.yaml');
  } catch (err) {
    assert.ok(err instanceof ValidationErrors, String(err));
    return err.problems;
  }
  assert.fail('expected the file to be refused');
}

test('each channel kind is read, with defaults for method and headers', () => {
  const [spec] = parseJobsFile(
    job(`    late_after: 5m
    warn_after: 30m
    notify:
      - { on: [failed, abandoned, missed, recovered], shell: "notify-send \\"$TOCK_JOB\\"" }
      - { on: [failed], http: { url: "https://hooks.example.com/x", headers: { Authorization: "Bearer \${TOKEN}" } }, after: 3 }
      - { on: [failed, late, long], email: ops@example.com }
      - { on: [failed], http: "http://127.0.0.1:9/hook" }
`),
    'jobs.yaml',
  );
  assert.deepEqual(spec!.notify, [
    { on: ['failed', 'abandoned', 'missed', 'recovered'], target: { kind: 'shell', command: 'notify-send "$TOCK_JOB"' } },
    {
      on: ['failed'],
      after: 3,
      target: { kind: 'http', url: 'https://hooks.example.com/x', method: 'POST', headers: { Authorization: 'Bearer ${TOKEN}' } },
    },
    { on: ['failed', 'late', 'long'], target: { kind: 'email', to: 'ops@example.com' } },
    { on: ['failed'], target: { kind: 'http', url: 'http://127.0.0.1:9/hook', method: 'POST', headers: {} } },
  ]);
  assert.equal(spec!.lateAfterMs, 5 * 60_000);
  assert.equal(spec!.warnAfterMs, 30 * 60_000);
});

test('defaults: notify applies to every job that has none of its own', () => {
  const specs = parseJobsFile(
    `defaults:
  notify: [{ on: [failed], email: root }]
jobs:
  - { name: a, every: 1m, shell: "true" }
  - { name: b, every: 1m, shell: "true", notify: [{ on: [missed], shell: "logger missed" }] }
`,
    'jobs.yaml',
  );
  assert.deepEqual(specs[0]!.notify, [{ on: ['failed'], target: { kind: 'email', to: 'root' } }]);
  assert.deepEqual(specs[1]!.notify, [{ on: ['missed'], target: { kind: 'shell', command: 'logger missed' } }]);
});

test('a job without notify has no notify field: stored specs without it are unchanged', () => {
  const [spec] = parseJobsFile(job(''), 'jobs.yaml');
  assert.equal('notify' in spec!, false);
  assert.equal('lateAfterMs' in spec!, false);
  assert.equal('warnAfterMs' in spec!, false);
});

const BAD: [string, string, RegExp][] = [
  ['unknown event', '    notify: [{ on: [fail], email: ops@example.com }]\n', /^jobs\[0\]\.notify\[0\]\.on: unknown event "fail" \(expected failed, abandoned, missed, recovered, late, long\)$/],
  ['unknown channel', '    notify: [{ on: [failed], slack: "#ops" }]\n', /^jobs\[0\]\.notify\[0\]\.slack: unknown field \(fields: on, after, shell, http, email\)$/],
  ['no target', '    notify: [{ on: [failed] }]\n', /^jobs\[0\]\.notify\[0\]\.on: a channel needs a target: shell: CMD, http: \{url, headers\} or email: ADDRESS$/],
  ['two targets', '    notify: [{ on: [failed], shell: x, email: root }]\n', /^jobs\[0\]\.notify\[0\]\.email: give one target, not shell and email/],
  ['missing url', '    notify: [{ on: [failed], http: { headers: { A: b } } }]\n', /^jobs\[0\]\.notify\[0\]\.http\.url: a webhook needs a url$/],
  ['bad url', '    notify: [{ on: [failed], http: "ftp://x/" }]\n', /^jobs\[0\]\.notify\[0\]\.http\.url: "ftp:\/\/x\/": only http and https/],
  ['after: 0', '    notify: [{ on: [failed], email: root, after: 0 }]\n', /^jobs\[0\]\.notify\[0\]\.after: 0 is out of range 1-1000000$/],
  ['after: text', '    notify: [{ on: [failed], email: root, after: often }]\n', /^jobs\[0\]\.notify\[0\]\.after: expected a whole number, got "often"$/],
  ['notify not a list', '    notify: { on: [failed], email: root }\n', /^jobs\[0\]\.notify: expected a list of channels, .*got a mapping$/],
  ['on not a list', '    notify: [{ on: failed, email: root }]\n', /^jobs\[0\]\.notify\[0\]\.on: expected a list of events, e\.g\. \[failed\] .*got string "failed"$/],
  ['on missing', '    notify: [{ email: root }]\n', /^jobs\[0\]\.notify\[0\]\.on: a channel needs on:/],
  ['a channel that is text', '    notify: [ops@example.com]\n', /^jobs\[0\]\.notify\[0\]: expected a mapping with on: and one of shell, http, email, got string/],
  ['bad address', '    notify: [{ on: [failed], email: "ops@example.com\\nBcc: x@y" }]\n', /^jobs\[0\]\.notify\[0\]\.email: "ops@example\.com\\nBcc: x@y" is not a mail address/],
  ['bad method', '    notify: [{ on: [failed], http: { url: "http://x/", method: GET } }]\n', /^jobs\[0\]\.notify\[0\]\.http\.method: "GET" is not one of POST, PUT, PATCH$/],
  ['empty command', '    notify: [{ on: [failed], shell: "  " }]\n', /^jobs\[0\]\.notify\[0\]\.shell: the command is empty$/],
  ['late without late_after', '    notify: [{ on: [late], email: root }]\n', /^jobs\[0\]\.notify: the late event needs late_after on the job/],
  ['long without warn_after', '    notify: [{ on: [long], email: root }]\n', /^jobs\[0\]\.notify: the long event needs warn_after on the job/],
  ['warn_after past the timeout', '    timeout: 10m\n    warn_after: 10m\n', /^jobs\[0\]\.warn_after: must be shorter than the timeout/],
  ['late_after not a duration', '    late_after: soon\n', /^jobs\[0\]\.late_after: /],
];

for (const [what, extra, expected] of BAD) {
  test(`refused with its path: ${what}`, () => {
    const found = problems(job(extra));
    assert.equal(found.length, 1, found.join('\n'));
    assert.match(found[0]!, expected);
  });
}

test('a bad channel in defaults: is reported at defaults.notify', () => {
  const found = problems(`defaults:\n  notify: [{ on: [oops], email: root }]\n${job('')}`);
  assert.deepEqual(found, ['defaults.notify[0].on: unknown event "oops" (expected failed, abandoned, missed, recovered, late, long)']);
});

test('every bad channel of a file is reported, not just the first', () => {
  const found = problems(job('    notify:\n      - { on: [fail], email: root }\n      - { on: [failed], http: {} }\n'));
  assert.deepEqual(found, [
    'jobs[0].notify[0].on: unknown event "fail" (expected failed, abandoned, missed, recovered, late, long)',
    'jobs[0].notify[1].http.url: a webhook needs a url',
  ]);
});

test(
  'tock apply with a bad notify entry exits 2 with one line naming the path, and applies nothing',
  withSandbox((sb) => {
    const file = writeFile(sb, 'jobs.yaml', job('    notify: [{ on: [fail], shell: "true" }]\n'));
    const r = tock(sb, ['apply', file]);
    assert.equal(r.status, 2, r.stderr);
    assert.ok(isCleanError(r), r.stderr);
    assert.match(r.stderr, /jobs\[0\]\.notify\[0\]\.on: unknown event "fail" \(expected failed, abandoned/);
    assert.equal(r.stderr.trim().split('\n').length, 1);
    assert.deepEqual(tock(sb, ['list', '--json']).json(), []);
  }),
);

test(
  'tock apply of an email channel on a machine without sendmail exits 2 naming the job, and applies nothing',
  withSandbox((sb) => {
    const file = writeFile(sb, 'jobs.yaml', job('    notify: [{ on: [failed], email: root }]\n'));
    const bare = { PATH: path.dirname(process.execPath) };
    if (findSendmail(bare) !== undefined) return; // this machine has an MTA: the refusal cannot be shown here
    const r = tock(sb, ['apply', file], bare);
    assert.equal(r.status, 2, r.stderr);
    assert.ok(isCleanError(r), r.stderr);
    assert.match(r.stderr, /no sendmail found .* backup/);
    assert.deepEqual(tock(sb, ['list', '--json']).json(), []);
  }),
);

test('checkChannels: email needs a sendmail on $PATH (or /usr/sbin, /usr/lib); other channels do not', () => {
  const tmp = tempDir();
  try {
    const mailing = parseJobsFile(job('    notify: [{ on: [failed], email: root }]\n'), 'jobs.yaml') as JobSpec[];
    const shellOnly = parseJobsFile(job('    notify: [{ on: [failed], shell: "true" }]\n'), 'jobs.yaml') as JobSpec[];
    const empty = { PATH: tmp.dir };
    checkChannels(shellOnly, empty);
    if (findSendmail(empty) === undefined) {
      assert.throws(
        () => checkChannels(mailing, empty),
        (err: unknown) => err instanceof TockError && err.exitCode === 2 && /no sendmail found .* backup/.test(err.message),
      );
    }
    const fake = path.join(tmp.dir, 'sendmail');
    fs.writeFileSync(fake, '#!/bin/sh\ncat >/dev/null\n', { mode: 0o755 });
    assert.equal(findSendmail(empty), fake);
    checkChannels(mailing, empty);
  } finally {
    tmp.cleanup();
  }
});
