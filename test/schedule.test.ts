// Schedule maths without daylight saving: durations, cron validation and expansion,
// windows, `every` and `at`, keys and jitter. DST lives in schedule-dst.test.ts.

import { test } from 'node:test';
import assert from 'node:assert/strict';
import { CronExpressionParser } from 'cron-parser';
import { TockError } from '../src/errors.js';
import type { Schedule } from '../src/types.js';
import {
  checkTimezone,
  compileSchedule,
  describeSchedule,
  formatDuration,
  formatInstant,
  idempotencyKey,
  isWallClock,
  jitterDelay,
  nextFires,
  parseCron,
  parseDuration,
  parseInstant,
  parsePositiveDuration,
  type ScheduleInput,
} from '../src/schedule/index.js';

const at = (iso: string) => Date.parse(iso);
const iso = (ms: number | null) => (ms === null ? null : new Date(ms).toISOString());

function cron(expr: string, timezone = 'UTC', extra: Partial<ScheduleInput> = {}): ScheduleInput {
  return { schedule: { kind: 'cron', expr, timezone }, jitterMs: 0, anchorMs: 0, ...extra };
}

function fires(input: ScheduleInput, from: string, n: number): string[] {
  return nextFires(input, at(from), n).map((t) => new Date(t).toISOString());
}

/** Asserts a usage error (exit 2) whose message is exactly `message`, or matches it. */
function rejects(fn: () => unknown, message: string | RegExp) {
  assert.throws(fn, (err: unknown) => {
    assert.ok(err instanceof TockError, `expected a TockError, got ${String(err)}`);
    assert.equal(err.kind, 'usage');
    assert.equal(err.exitCode, 2);
    if (typeof message === 'string') assert.equal(err.message, message);
    else assert.match(err.message, message);
    return true;
  });
}

// ---------------------------------------------------------------------------- durations

test('parseDuration reads ISO-8601 durations', () => {
  assert.equal(parseDuration('PT5M'), 5 * 60_000);
  assert.equal(parseDuration('P1D'), 86_400_000);
  assert.equal(parseDuration('PT1.5S'), 1_500);
  assert.equal(parseDuration('PT1,5S'), 1_500);
  assert.equal(parseDuration('P1DT2H'), 26 * 3_600_000);
  assert.equal(parseDuration('PT1H30M15S'), 5_415_000);
  assert.equal(parseDuration('P2W'), 14 * 86_400_000);
  assert.equal(parseDuration('PT0S'), 0);
  assert.equal(parseDuration('pt5m'), 300_000);
});

test('parseDuration reads the short form, any case, trimmed', () => {
  assert.equal(parseDuration('250ms'), 250);
  assert.equal(parseDuration('90s'), 90_000);
  assert.equal(parseDuration('5m'), 300_000);
  assert.equal(parseDuration('1h30m'), 5_400_000);
  assert.equal(parseDuration('2d'), 172_800_000);
  assert.equal(parseDuration('1d2h3m4s500ms'), 86_400_000 + 7_200_000 + 180_000 + 4_000 + 500);
  assert.equal(parseDuration('4s500ms'), 4_500);
  assert.equal(parseDuration('1.5h'), 5_400_000);
  assert.equal(parseDuration('  5M  '), 300_000);
  assert.equal(parseDuration('1H30M'), 5_400_000);
  assert.equal(parseDuration('0s'), 0);
  assert.equal(parseDuration('0ms'), 0);
});

test('parseDuration rejects what it cannot read, saying which forms it accepts', () => {
  const forms = 'use ISO-8601 (PT5M) or a short form such as 250ms, 90s, 5m, 1h30m, 2d';
  rejects(() => parseDuration('5x'), `"5x" is not a duration: ${forms}`);
  for (const bad of ['', 'P', 'PT', 'P1DT', 'five minutes', '5 m', '30m1h', '1h 30m', 'PT-5M', '5mm', 'm5']) {
    rejects(() => parseDuration(bad), /is not a duration: use ISO-8601/);
  }
});

test('parseDuration wants a unit on a bare number', () => {
  rejects(() => parseDuration('300'), '"300" has no unit: write e.g. 300ms, 300s or 300m');
  rejects(() => parseDuration('0'), /"0" has no unit/);
  rejects(() => parseDuration('1.5'), /"1.5" has no unit/);
});

test('parseDuration rejects negative durations', () => {
  rejects(() => parseDuration('-5m'), '"-5m" is negative: a duration must be zero or more');
  rejects(() => parseDuration('-PT5M'), '"-PT5M" is negative: a duration must be zero or more');
  rejects(() => parseDuration('-0s'), /is negative/);
});

test('parseDuration rejects months and years as ambiguous', () => {
  rejects(() => parseDuration('P1M'), '"P1M" uses years or months, whose length varies: use days instead (e.g. P30D)');
  rejects(() => parseDuration('P1Y'), /uses years or months/);
  rejects(() => parseDuration('P1Y2M3DT4H'), /uses years or months/);
});

test('parseDuration rejects absurd lengths', () => {
  assert.equal(parseDuration('3650d'), 3650 * 86_400_000);
  rejects(() => parseDuration('3651d'), '"3651d" is out of range: a duration can be at most 10 years (3650d)');
  rejects(() => parseDuration('P99999D'), /out of range/);
});

test('parsePositiveDuration rejects zero', () => {
  assert.equal(parsePositiveDuration('1ms'), 1);
  rejects(() => parsePositiveDuration('0s'), '"0s" must be greater than zero');
  rejects(() => parsePositiveDuration(' PT0S '), '"PT0S" must be greater than zero');
  rejects(() => parsePositiveDuration('-1s'), /is negative/);
});

test('formatDuration prints the short form', () => {
  assert.equal(formatDuration(90_000), '1m30s');
  assert.equal(formatDuration(250), '250ms');
  assert.equal(formatDuration(0), '0s');
  assert.equal(formatDuration(86_400_000), '1d');
  assert.equal(formatDuration(93_784_500), '1d2h3m4s500ms');
  assert.equal(formatDuration(3_600_000), '1h');
  assert.equal(formatDuration(-300_000), '-5m');
  for (const text of ['1d2h3m4s500ms', '90s', '2d', '250ms', '1h30m']) {
    assert.equal(parseDuration(formatDuration(parseDuration(text))), parseDuration(text));
  }
});

// ---------------------------------------------------------------------------- zones and instants

test('checkTimezone accepts IANA names and returns the canonical spelling', () => {
  assert.equal(checkTimezone('UTC'), 'UTC');
  assert.equal(checkTimezone('utc'), 'UTC');
  assert.equal(checkTimezone('Europe/Berlin'), 'Europe/Berlin');
  assert.equal(checkTimezone('europe/berlin'), 'Europe/Berlin');
  assert.equal(checkTimezone('Etc/GMT+5'), 'Etc/GMT+5');
  assert.equal(checkTimezone('America/New_York'), 'America/New_York');
});

test('checkTimezone rejects unknown names, offsets and empty strings', () => {
  rejects(() => checkTimezone('Mars/Base'), 'unknown time zone "Mars/Base": use an IANA name such as Europe/Berlin or UTC');
  for (const bad of ['+02:00', '-0500', 'UTC+2', 'GMT-3', '', '   ', 'Berlin']) {
    rejects(() => checkTimezone(bad), /^unknown time zone ".*": use an IANA name/);
  }
});

test('parseInstant reads ISO-8601 local to the zone unless it has an offset', () => {
  const ny = 'America/New_York';
  assert.equal(iso(parseInstant('2026-12-01T02:30', ny)), '2026-12-01T07:30:00.000Z');
  assert.equal(iso(parseInstant('2026-12-01T02:30:00', ny)), '2026-12-01T07:30:00.000Z');
  assert.equal(iso(parseInstant('2026-12-01 02:30', ny)), '2026-12-01T07:30:00.000Z');
  assert.equal(iso(parseInstant('2026-12-01T02:30:00.250', ny)), '2026-12-01T07:30:00.250Z');
  assert.equal(iso(parseInstant('2026-12-01T02:30:00Z', ny)), '2026-12-01T02:30:00.000Z');
  assert.equal(iso(parseInstant('2026-12-01t02:30:00z', ny)), '2026-12-01T02:30:00.000Z');
  assert.equal(iso(parseInstant('2026-12-01T02:30:00+01:00', ny)), '2026-12-01T01:30:00.000Z');
  assert.equal(iso(parseInstant('2026-12-01T02:30-0330', ny)), '2026-12-01T06:00:00.000Z');
  assert.equal(iso(parseInstant('2026-12-01', ny)), '2026-12-01T05:00:00.000Z');
  assert.equal(iso(parseInstant('2026-12-01', 'UTC')), '2026-12-01T00:00:00.000Z');
  assert.equal(iso(parseInstant(' 2026-07-01T12:00 ', 'Europe/Berlin')), '2026-07-01T10:00:00.000Z');
  assert.equal(iso(parseInstant('2026-07-01T12:00', 'Asia/Tokyo')), '2026-07-01T03:00:00.000Z');
});

test('parseInstant resolves DST gaps forward and repeated times to their first instance', () => {
  // New York skips 02:00-03:00 on 2026-03-08 and repeats 01:00-02:00 on 2026-11-01.
  assert.equal(iso(parseInstant('2026-03-08T02:30', 'America/New_York')), '2026-03-08T07:00:00.000Z');
  assert.equal(iso(parseInstant('2026-03-08T02:00', 'America/New_York')), '2026-03-08T07:00:00.000Z');
  assert.equal(iso(parseInstant('2026-03-08T03:00', 'America/New_York')), '2026-03-08T07:00:00.000Z');
  assert.equal(iso(parseInstant('2026-03-08T01:59:59', 'America/New_York')), '2026-03-08T06:59:59.000Z');
  assert.equal(iso(parseInstant('2026-11-01T01:30', 'America/New_York')), '2026-11-01T05:30:00.000Z');
  assert.equal(iso(parseInstant('2026-11-01T02:00', 'America/New_York')), '2026-11-01T07:00:00.000Z');
  // Lord Howe skips 02:00-02:30 on 2026-10-04.
  assert.equal(iso(parseInstant('2026-10-04T02:15', 'Australia/Lord_Howe')), '2026-10-03T15:30:00.000Z');
});

test('parseInstant rejects what is not an ISO-8601 date-time', () => {
  rejects(
    () => parseInstant('tomorrow', 'UTC'),
    '"tomorrow" is not an ISO-8601 date-time (e.g. 2026-12-01T02:30 or 2026-12-01T02:30:00Z)',
  );
  for (const bad of ['', '2026-12-1', '2026/12/01', '01.12.2026 02:30', '2026-12-01T2:30', '1764556200000']) {
    rejects(() => parseInstant(bad, 'UTC'), /is not an ISO-8601 date-time/);
  }
  rejects(() => parseInstant('2026-02-30', 'UTC'), '"2026-02-30" is not a valid date-time: day 30 is out of range 1-28 for 2026-02');
  rejects(() => parseInstant('2026-13-01', 'UTC'), /month 13 is out of range 1-12/);
  rejects(() => parseInstant('2026-12-01T24:00', 'UTC'), /hour 24 is out of range 0-23/);
  rejects(() => parseInstant('2026-12-01T02:60', 'UTC'), /minute 60 is out of range 0-59/);
  rejects(() => parseInstant('2026-12-01T02:30', 'Mars/Base'), /unknown time zone "Mars\/Base"/);
});

test('formatInstant prints local time with the zone abbreviation', () => {
  const t = at('2026-11-23T01:30:00Z');
  assert.equal(formatInstant(t, 'Europe/Berlin'), '2026-11-23 02:30:00 CET');
  assert.equal(formatInstant(at('2026-07-23T01:30:00Z'), 'Europe/Berlin'), '2026-07-23 03:30:00 CEST');
  assert.equal(formatInstant(t, 'America/New_York'), '2026-11-22 20:30:00 EST');
  assert.equal(formatInstant(t, 'UTC'), '2026-11-23 01:30:00 UTC');
  assert.equal(formatInstant(t, 'Asia/Tokyo'), '2026-11-23 10:30:00 JST');
});

// ---------------------------------------------------------------------------- cron validation

test('cron messages name the field and its allowed range', () => {
  rejects(() => parseCron('61 * * * *'), 'cron "61 * * * *": minute 61 is out of range 0-59');
  rejects(() => parseCron('* 24 * * *'), 'cron "* 24 * * *": hour 24 is out of range 0-23');
  rejects(() => parseCron('* * 32 * *'), 'cron "* * 32 * *": day-of-month 32 is out of range 1-31');
  rejects(() => parseCron('* * 0 * *'), 'cron "* * 0 * *": day-of-month 0 is out of range 1-31');
  rejects(() => parseCron('* * * 13 *'), 'cron "* * * 13 *": month 13 is out of range 1-12 (or JAN-DEC)');
  rejects(() => parseCron('* * * 0 *'), 'cron "* * * 0 *": month 0 is out of range 1-12 (or JAN-DEC)');
  rejects(() => parseCron('* * * * 8'), 'cron "* * * * 8": day-of-week 8 is out of range 0-7 (or SUN-SAT)');
  rejects(() => parseCron('60 * * * * *'), 'cron "60 * * * * *": second 60 is out of range 0-59');
  rejects(() => parseCron('10-61 * * * *'), 'cron "10-61 * * * *": minute 61 is out of range 0-59');
  rejects(() => parseCron('0 0 1,40 * *'), 'cron "0 0 1,40 * *": day-of-month 40 is out of range 1-31');
});

test('cron wants 5 or 6 fields', () => {
  const expected = 'expected 5 fields (minute hour day-of-month month day-of-week) or 6 with seconds first';
  rejects(() => parseCron('* * *'), `cron "* * *": ${expected}, got 3`);
  rejects(() => parseCron(''), `cron "": ${expected}, got 0`);
  rejects(() => parseCron('* * * * * * *'), `cron "* * * * * * *": ${expected}, got 7`);
});

test('cron steps must be at least 1 and fit the field', () => {
  rejects(() => parseCron('*/0 * * * *'), 'cron "*/0 * * * *": minute step 0 must be at least 1');
  rejects(() => parseCron('0 */0 * * *'), 'cron "0 */0 * * *": hour step 0 must be at least 1');
  rejects(() => parseCron('*/61 * * * *'), 'cron "*/61 * * * *": minute step 61 is out of range 1-60');
  rejects(() => parseCron('*/x * * * *'), 'cron "*/x * * * *": minute step "x" in "*/x" is not a number');
  rejects(() => parseCron('5/15 * * * *'), 'cron "5/15 * * * *": minute "5/15" has a step without a range: write 5-59/15, or */15');
});

test('cron names garbage tokens and unsupported features', () => {
  rejects(
    () => parseCron('abc * * * *'),
    'cron "abc * * * *": minute "abc" is not understood: use 0-59, a range (a-b), a step (*/n or a-b/n), a comma-separated list of those',
  );
  rejects(() => parseCron('* * * * MON-XYZ'), /^cron "\* \* \* \* MON-XYZ": day-of-week "MON-XYZ" is not understood: use 0-7 \(or SUN-SAT\)/);
  rejects(() => parseCron('* * * MON *'), /month "MON" is not understood: use 1-12 \(or JAN-DEC\)/);
  rejects(() => parseCron('* * * * JAN'), /day-of-week "JAN" is not understood/);
  rejects(() => parseCron('JAN * * * *'), /minute "JAN" is not understood/);
  rejects(() => parseCron('1,,2 * * * *'), 'cron "1,,2 * * * *": minute "1,,2" has an empty list item');
  rejects(() => parseCron('30-10 * * * *'), 'cron "30-10 * * * *": minute range 30-10 is backwards: split it, e.g. 30-59,0-10');
  rejects(() => parseCron('0 22-2 * * *'), 'cron "0 22-2 * * *": hour range 22-2 is backwards: split it, e.g. 22-23,0-2');
  rejects(() => parseCron('? * * * *'), 'cron "? * * * *": minute "?" is not supported: use *');
  rejects(() => parseCron('0 0 ? * MON'), /day-of-month "\?" is not supported: use \*/);
  rejects(() => parseCron('H * * * *'), /minute "H" is not understood/);
  rejects(() => parseCron('L * * * *'), /minute "L" is not understood/);
  rejects(() => parseCron('0 0 15W * *'), 'cron "0 0 15W * *": day-of-month "15W" uses W (nearest weekday), which tock does not support');
  rejects(() => parseCron('0 0 LW * *'), /uses W/);
  rejects(() => parseCron('0 0 L-2 * *'), /day-of-month "L-2" is not understood: .* or L for the last day/);
  rejects(() => parseCron('0 0 * * L'), 'cron "0 0 * * L": day-of-week "L" needs a day before it: write e.g. 5L or FRIL for the last Friday of the month');
  rejects(() => parseCron('0 0 * * 5#6'), 'cron "0 0 * * 5#6": day-of-week "5#6": occurrence 6 is out of range 1-5');
  rejects(() => parseCron('0 0 * * 5#0'), /occurrence 0 is out of range 1-5/);
  rejects(() => parseCron('0 0 * * 1#1,5#3'), /day-of-week "1#1,5#3": # takes one day and cannot be combined with a list, range or step/);
  rejects(() => parseCron('0 0 * * 1-5#2'), /cannot be combined with a list, range or step/);
});

test('cron macros: the seven of SPEC §2, and nothing else', () => {
  const expect: Record<string, string[]> = {
    '@yearly': ['2027-01-01T00:00:00.000Z', '2028-01-01T00:00:00.000Z'],
    '@annually': ['2027-01-01T00:00:00.000Z', '2028-01-01T00:00:00.000Z'],
    '@monthly': ['2026-12-01T00:00:00.000Z', '2027-01-01T00:00:00.000Z'],
    '@weekly': ['2026-11-29T00:00:00.000Z', '2026-12-06T00:00:00.000Z'],
    '@daily': ['2026-11-24T00:00:00.000Z', '2026-11-25T00:00:00.000Z'],
    '@midnight': ['2026-11-24T00:00:00.000Z', '2026-11-25T00:00:00.000Z'],
    '@hourly': ['2026-11-23T03:00:00.000Z', '2026-11-23T04:00:00.000Z'],
  };
  for (const [macro, want] of Object.entries(expect)) {
    assert.deepEqual(fires(cron(macro), '2026-11-23T02:30:00Z', 2), want, macro);
  }
  assert.deepEqual(fires(cron('@DAILY'), '2026-11-23T02:30:00Z', 1), ['2026-11-24T00:00:00.000Z']);
  const list = '@yearly @annually @monthly @weekly @daily @midnight @hourly';
  rejects(() => parseCron('@every 5m'), `cron "@every 5m": unknown macro @every 5m: use one of ${list}, or an every schedule for a fixed interval`);
  rejects(() => parseCron('@reboot'), /unknown macro @reboot: use one of @yearly/);
  rejects(() => parseCron('@weekdays'), /unknown macro @weekdays/);
});

test('wall-clock jobs are those whose hour field names hours', () => {
  assert.equal(isWallClock('30 2 * * *'), true);
  assert.equal(isWallClock('0 9-17 * * MON-FRI'), true);
  assert.equal(isWallClock('0 0,12 * * *'), true);
  assert.equal(isWallClock('*/15 * * * *'), false);
  assert.equal(isWallClock('0 */2 * * *'), false);
  assert.equal(isWallClock('0 30 2 * * *'), true);
  assert.equal(isWallClock('0 0 * * * *'), false);
  assert.equal(isWallClock('@hourly'), false);
  for (const macro of ['@daily', '@midnight', '@weekly', '@monthly', '@yearly', '@annually']) {
    assert.equal(isWallClock(macro), true, macro);
  }
});

test('expressions that can never fire are rejected', () => {
  rejects(() => parseCron('0 0 30 2 *'), 'cron "0 0 30 2 *" never fires');
  rejects(() => parseCron('0 0 31 2 *'), 'cron "0 0 31 2 *" never fires');
  rejects(() => parseCron('0 0 31 4,6,9,11 *'), 'cron "0 0 31 4,6,9,11 *" never fires');
  // A day-of-week field starting with `*` does not rescue it (Vixie: AND).
  rejects(() => parseCron('0 0 30 2 */1'), 'cron "0 0 30 2 */1" never fires');
  // ...but a restricted day-of-week does (OR): every Monday in February.
  assert.ok(parseCron('0 0 30 2 MON'));
  assert.ok(parseCron('0 0 29 2 *'));
  assert.ok(parseCron('0 0 L 2 *'));
});

// ---------------------------------------------------------------------------- cron expansion

test('names, ranges, steps and lists expand as in Vixie cron', () => {
  const p = parseCron('*/15 9-17/4 1,15 jan-MAR,dec mon-fri');
  assert.deepEqual(p.second, [0]);
  assert.deepEqual(p.minute, [0, 15, 30, 45]);
  assert.deepEqual(p.hour, [9, 13, 17]);
  assert.deepEqual(p.dayOfMonth, [1, 15]);
  assert.deepEqual(p.month, [1, 2, 3, 12]);
  assert.deepEqual(p.dayOfWeek, [1, 2, 3, 4, 5]);
  assert.deepEqual(parseCron('0 0 */10 * *').dayOfMonth, [1, 11, 21, 31]);
  assert.deepEqual(parseCron('0 0 * */5 *').month, [1, 6, 11]);
  assert.deepEqual(parseCron('0 0 * * */2').dayOfWeek, [0, 2, 4, 6]);
  assert.deepEqual(parseCron('0 0 * * 5-7').dayOfWeek, [0, 5, 6]);
  assert.deepEqual(parseCron('0 0 * * 1-7/3').dayOfWeek, [0, 1, 4]);
  // Overlapping list items are fine (cron-parser alone rejects them as duplicates).
  assert.deepEqual(parseCron('1-5,3 * * * *').minute, [1, 2, 3, 4, 5]);
  assert.deepEqual(parseCron('0 0 * * 0,7').dayOfWeek, [0]);
  assert.deepEqual(parseCron('00 07 01 01 *').hour, [7]);
});

test('day 7 is Sunday', () => {
  const sundays = ['2026-11-29T00:00:00.000Z', '2026-12-06T00:00:00.000Z'];
  assert.deepEqual(fires(cron('0 0 * * 7'), '2026-11-23T00:00:00Z', 2), sundays);
  assert.deepEqual(fires(cron('0 0 * * 0'), '2026-11-23T00:00:00Z', 2), sundays);
  assert.deepEqual(fires(cron('0 0 * * SUN'), '2026-11-23T00:00:00Z', 2), sundays);
});

test('six fields: the first is seconds', () => {
  assert.deepEqual(fires(cron('*/20 * * * * *'), '2026-11-23T02:30:00Z', 4), [
    '2026-11-23T02:30:20.000Z',
    '2026-11-23T02:30:40.000Z',
    '2026-11-23T02:31:00.000Z',
    '2026-11-23T02:31:20.000Z',
  ]);
  assert.deepEqual(fires(cron('30 15 10 * * *'), '2026-11-23T02:30:00Z', 2), [
    '2026-11-23T10:15:30.000Z',
    '2026-11-24T10:15:30.000Z',
  ]);
  // Strictly after: a fractional instant inside the matching second moves on.
  const s = compileSchedule(cron('* * * * * *'));
  assert.equal(iso(s.next(at('2026-11-23T02:30:00.500Z'))), '2026-11-23T02:30:01.000Z');
  assert.equal(iso(s.prev(at('2026-11-23T02:30:00.500Z'))), '2026-11-23T02:30:00.000Z');
  assert.equal(iso(s.prev(at('2026-11-23T02:30:00.000Z'))), '2026-11-23T02:29:59.000Z');
});

test('day-of-month and day-of-week combine with OR when both are restricted', () => {
  // 2026-02: Fridays are 6, 13, 20, 27; the 13th of March is a Friday too.
  assert.deepEqual(fires(cron('0 0 13 * FRI'), '2026-02-01T00:00:00Z', 7), [
    '2026-02-06T00:00:00.000Z',
    '2026-02-13T00:00:00.000Z',
    '2026-02-20T00:00:00.000Z',
    '2026-02-27T00:00:00.000Z',
    '2026-03-06T00:00:00.000Z',
    '2026-03-13T00:00:00.000Z',
    '2026-03-20T00:00:00.000Z',
  ]);
  // April 2026: the 13th is a Monday, and still fires.
  assert.ok(fires(cron('0 0 13 * FRI'), '2026-04-01T00:00:00Z', 5).includes('2026-04-13T00:00:00.000Z'));
  // Classic: 1st-7th OR any Monday.
  assert.deepEqual(fires(cron('0 0 1-7 * 1'), '2026-06-05T00:00:00Z', 5), [
    '2026-06-06T00:00:00.000Z',
    '2026-06-07T00:00:00.000Z',
    '2026-06-08T00:00:00.000Z',
    '2026-06-15T00:00:00.000Z',
    '2026-06-22T00:00:00.000Z',
  ]);
});

test('a field starting with * makes day-of-month and day-of-week combine with AND (Vixie)', () => {
  // Odd days that are Mondays; cron-parser would OR these.
  assert.deepEqual(fires(cron('0 0 */2 * 1'), '2026-06-01T00:00:00Z', 3), [
    '2026-06-15T00:00:00.000Z',
    '2026-06-29T00:00:00.000Z',
    '2026-07-13T00:00:00.000Z',
  ]);
  assert.deepEqual(fires(cron('0 0 13 * */7'), '2026-01-01T00:00:00Z', 2), [
    '2026-09-13T00:00:00.000Z',
    '2026-12-13T00:00:00.000Z',
  ]);
  // Only the restricted one counts when the other is `*`.
  assert.deepEqual(fires(cron('0 0 13 * *'), '2026-01-01T00:00:00Z', 2), ['2026-01-13T00:00:00.000Z', '2026-02-13T00:00:00.000Z']);
  assert.deepEqual(fires(cron('0 0 * * FRI'), '2026-01-01T00:00:00Z', 2), ['2026-01-02T00:00:00.000Z', '2026-01-09T00:00:00.000Z']);
});

test('L in day-of-month is the last day of the month, leap years included', () => {
  assert.deepEqual(fires(cron('0 0 L * *'), '2027-12-15T00:00:00Z', 4), [
    '2027-12-31T00:00:00.000Z',
    '2028-01-31T00:00:00.000Z',
    '2028-02-29T00:00:00.000Z',
    '2028-03-31T00:00:00.000Z',
  ]);
  assert.deepEqual(fires(cron('0 0 15,L 2 *'), '2026-01-01T00:00:00Z', 4), [
    '2026-02-15T00:00:00.000Z',
    '2026-02-28T00:00:00.000Z',
    '2027-02-15T00:00:00.000Z',
    '2027-02-28T00:00:00.000Z',
  ]);
});

test('nL in day-of-week is the last such weekday of the month', () => {
  assert.deepEqual(fires(cron('0 0 * * 5L'), '2026-01-01T00:00:00Z', 3), [
    '2026-01-30T00:00:00.000Z',
    '2026-02-27T00:00:00.000Z',
    '2026-03-27T00:00:00.000Z',
  ]);
  assert.deepEqual(fires(cron('0 0 * * fril'), '2026-01-01T00:00:00Z', 1), ['2026-01-30T00:00:00.000Z']);
  assert.deepEqual(fires(cron('0 0 * * 7L'), '2026-01-01T00:00:00Z', 1), ['2026-01-25T00:00:00.000Z']);
  // A list: Mondays, and the last Friday.
  assert.deepEqual(fires(cron('0 0 * * 1,5L'), '2026-01-24T00:00:00Z', 3), [
    '2026-01-26T00:00:00.000Z',
    '2026-01-30T00:00:00.000Z',
    '2026-02-02T00:00:00.000Z',
  ]);
});

test('n#k in day-of-week is the k-th such weekday of the month', () => {
  assert.deepEqual(fires(cron('0 0 * * FRI#3'), '2026-01-01T00:00:00Z', 3), [
    '2026-01-16T00:00:00.000Z',
    '2026-02-20T00:00:00.000Z',
    '2026-03-20T00:00:00.000Z',
  ]);
  // A 5th Monday exists only in some months.
  assert.deepEqual(fires(cron('0 0 * * 1#5'), '2026-01-01T00:00:00Z', 3), [
    '2026-03-30T00:00:00.000Z',
    '2026-06-29T00:00:00.000Z',
    '2026-08-31T00:00:00.000Z',
  ]);
  assert.deepEqual(fires(cron('0 0 * * 7#1'), '2026-01-01T00:00:00Z', 1), ['2026-01-04T00:00:00.000Z']);
});

test('our expansion agrees with cron-parser where Vixie and cron-parser agree', () => {
  const exprs = [
    '*/7 * * * *',
    '0 9-17 * * 1-5',
    '15 3 1,15 * *',
    '0 0 L * *',
    '0 12 * * 5L',
    '0 12 * * 2#2',
    '30 2 29 2 *',
    '0 0 13 * 5',
    '5-50/9 */5 * jan,jul *',
    '*/20 30 1 * * *',
    '@weekly',
  ];
  const from = at('2026-01-01T00:00:00Z');
  for (const expr of exprs) {
    const theirs = CronExpressionParser.parse(expr, { currentDate: new Date(from), tz: 'UTC' })
      .take(40)
      .map((d) => d.toISOString());
    const ours = nextFires(cron(expr), from, 40).map((t) => new Date(t).toISOString());
    assert.deepEqual(ours, theirs, expr);
  }
});

test('fields of plain values, expanded without cron-parser, hold exactly what cron-parser expands', () => {
  // parseCron hands only fields with L or # to cron-parser; every other field is expanded by
  // our own reading. Random fields in the forms both accept must give the same values.
  let seed = 20261123;
  const rand = (n: number) => {
    seed = (Math.imul(seed, 1103515245) + 12345) >>> 0;
    return (seed >>> 8) % n;
  };
  const MONTHS = ['JAN', 'FEB', 'MAR', 'APR', 'MAY', 'JUN', 'JUL', 'AUG', 'SEP', 'OCT', 'NOV', 'DEC'];
  const DAYS = ['SUN', 'MON', 'TUE', 'WED', 'THU', 'FRI', 'SAT'];
  const ranges = [[0, 59], [0, 59], [0, 23], [1, 31], [1, 12], [0, 7]] as const;
  const item = (i: number): string => {
    const [lo, hi] = ranges[i];
    const v = () => lo + rand(hi - lo + 1);
    const named = (x: number) => (i === 4 && rand(2) ? MONTHS[x - 1] : i === 5 && x < 7 && rand(2) ? DAYS[x] : String(x));
    switch (rand(5)) {
      case 0:
        return `*/${1 + rand(hi - lo)}`;
      case 1: {
        const a = v();
        const b = a + rand(hi - a + 1);
        return `${named(a)}-${named(b)}`;
      }
      case 2: {
        const a = v();
        const b = a + rand(hi - a + 1);
        return `${a}-${b}/${1 + rand(hi - lo)}`;
      }
      default:
        return named(v());
    }
  };
  const field = (i: number) => (rand(6) === 0 ? '*' : Array.from({ length: 1 + rand(3) }, () => item(i)).join(','));
  const keys = ['second', 'minute', 'hour', 'dayOfMonth', 'month', 'dayOfWeek'] as const;
  // One field at a time, the others `*`: cron-parser also trims day 31 from a day-of-month
  // field when the month field has no such day, which tock's matcher does by itself.
  let compared = 0;
  for (let n = 0; n < 3000; n++) {
    const i = n % 6;
    const fields = ['*', '*', '*', '*', '*', '*'];
    fields[i] = field(i);
    const expr = fields.join(' ');
    let theirs;
    try {
      theirs = CronExpressionParser.parse(expr).fields[keys[i]].values as number[];
    } catch {
      continue; // cron-parser refuses what Vixie allows (overlapping items); nothing to compare
    }
    const want = [...new Set(theirs.map((x) => (i === 5 ? x % 7 : x)))].sort((a, b) => a - b);
    assert.deepEqual([...parseCron(expr)[keys[i]]], want, expr);
    compared++;
  }
  assert.ok(compared > 1000, `only ${compared} fields compared`);
});

test('prev is the exact mirror of next, between and at fire times', () => {
  // next is checked against cron-parser above; prev has no such oracle, so it must walk
  // the same instants backwards: prev(b) = a for consecutive fires a < b, from b and from
  // anywhere in (a, b], and next from anywhere in [a, b) is b.
  let seed = 20261201;
  const rand = (n: number) => {
    seed = (Math.imul(seed, 1103515245) + 12345) >>> 0;
    return (seed >>> 8) % n;
  };
  const pick = <T>(a: readonly T[]) => a[rand(a.length)];
  const exprs = ['*/7 * * * *', '0 9-17 * * 1-5', '30 2 29 2 *', '0 0 13 * 5', '*/20 30 1 * * *', '0 0 L * *', '0 12 * * 5L'];
  for (let n = 0; n < 60; n++) {
    const second = pick(['0', '*/15', '59', '0,30']);
    const minute = pick(['*', '0', '*/10', '59', '5-7']);
    const hour = pick(['*', '0', '23', '*/6', '9-17']);
    const dom = pick(['*', '1', '31', 'L', '15,L', '29']);
    const dow = pick(['*', '0', '1-5', '5L', '2#3', '6']);
    exprs.push(`${second} ${minute} ${hour} ${dom} ${pick(['*', '2', '1,7', '*/3'])} ${dow}`);
  }
  for (const expr of exprs) {
    const s = compileSchedule(cron(expr));
    const times = nextFires(cron(expr), at('2026-11-23T10:17:03.250Z'), 12);
    assert.equal(times.length, 12, expr);
    for (let i = 1; i < times.length; i++) {
      const [a, b] = [times[i - 1], times[i]];
      const inside = a + 1 + rand(b - a);
      assert.equal(iso(s.prev(b)), iso(a), `${expr}: prev(${iso(b)})`);
      assert.equal(iso(s.prev(inside)), iso(a), `${expr}: prev(${iso(inside)})`);
      assert.equal(iso(s.next(inside - 1)), iso(b), `${expr}: next(${iso(inside - 1)})`);
    }
  }
});

test('rare expressions terminate: leap days, the fifth Monday of February', () => {
  assert.deepEqual(fires(cron('0 0 29 2 *'), '2026-01-01T00:00:00Z', 3), [
    '2028-02-29T00:00:00.000Z',
    '2032-02-29T00:00:00.000Z',
    '2036-02-29T00:00:00.000Z',
  ]);
  // Across 2100, which is not a leap year.
  assert.deepEqual(fires(cron('0 0 29 2 *'), '2097-01-01T00:00:00Z', 1), ['2104-02-29T00:00:00.000Z']);
  // Feb 29 on a Monday: 28 years apart, then 40 across 2100.
  assert.deepEqual(fires(cron('0 0 * 2 1#5'), '2017-01-01T00:00:00Z', 3), [
    '2044-02-29T00:00:00.000Z',
    '2072-02-29T00:00:00.000Z',
    '2112-02-29T00:00:00.000Z',
  ]);
  const s = compileSchedule(cron('0 0 * 2 1#5', 'Europe/Berlin'));
  assert.equal(iso(s.prev(at('2072-01-01T00:00:00Z'))), '2044-02-28T23:00:00.000Z');
});

test('the search gives up with null rather than looping', () => {
  // Only a window can make a valid expression fire never; next and prev still terminate.
  const s = compileSchedule(cron('0 0 29 2 *', 'UTC', { startMs: at('2029-01-01T00:00:00Z'), endMs: at('2031-12-31T00:00:00Z') }));
  assert.equal(s.next(at('2026-01-01T00:00:00Z')), null);
  assert.equal(s.prev(at('2040-01-01T00:00:00Z')), null);
});

// ---------------------------------------------------------------------------- windows, every, at

test('a window keeps every fire inside [start, end], both inclusive', () => {
  const input = cron('0 * * * *', 'UTC', { startMs: at('2026-11-23T02:00:00Z'), endMs: at('2026-11-23T05:00:00Z') });
  assert.deepEqual(fires(input, '2026-11-20T00:00:00Z', 10), [
    '2026-11-23T02:00:00.000Z',
    '2026-11-23T03:00:00.000Z',
    '2026-11-23T04:00:00.000Z',
    '2026-11-23T05:00:00.000Z',
  ]);
  const s = compileSchedule(input);
  assert.equal(iso(s.prev(at('2026-12-01T00:00:00Z'))), '2026-11-23T05:00:00.000Z');
  assert.equal(iso(s.prev(at('2026-11-23T02:00:00.001Z'))), '2026-11-23T02:00:00.000Z');
  assert.equal(s.prev(at('2026-11-23T02:00:00Z')), null);
  assert.equal(s.next(at('2026-11-23T05:00:00Z')), null);
  // Start only, end only.
  const startOnly = compileSchedule(cron('0 * * * *', 'UTC', { startMs: at('2026-11-23T02:30:00Z') }));
  assert.equal(iso(startOnly.next(0)), '2026-11-23T03:00:00.000Z');
  const endOnly = compileSchedule(cron('0 * * * *', 'UTC', { endMs: at('2026-11-23T02:30:00Z') }));
  assert.equal(iso(endOnly.next(at('2026-11-23T01:59:00Z'))), '2026-11-23T02:00:00.000Z');
  assert.equal(endOnly.next(at('2026-11-23T02:00:00Z')), null);
});

test('at fires once, if inside the window', () => {
  const schedule: Schedule = { kind: 'at', expr: '2026-12-01T02:30', atMs: at('2026-12-01T02:30:00Z'), timezone: 'UTC' };
  const plain = compileSchedule({ schedule, jitterMs: 0, anchorMs: 0 });
  assert.equal(iso(plain.next(at('2026-11-23T00:00:00Z'))), '2026-12-01T02:30:00.000Z');
  assert.equal(plain.next(at('2026-12-01T02:30:00Z')), null);
  assert.equal(iso(plain.prev(at('2026-12-01T02:30:00.001Z'))), '2026-12-01T02:30:00.000Z');
  assert.equal(plain.prev(at('2026-12-01T02:30:00Z')), null);
  assert.deepEqual(nextFires({ schedule, jitterMs: 0, anchorMs: 0 }, 0, 5), [at('2026-12-01T02:30:00Z')]);

  const inside = compileSchedule({ schedule, jitterMs: 0, anchorMs: 0, startMs: at('2026-12-01T02:30:00Z'), endMs: at('2026-12-01T02:30:00Z') });
  assert.equal(iso(inside.next(0)), '2026-12-01T02:30:00.000Z');
  const afterEnd = compileSchedule({ schedule, jitterMs: 0, anchorMs: 0, endMs: at('2026-12-01T02:29:59Z') });
  assert.equal(afterEnd.next(0), null);
  assert.equal(afterEnd.prev(at('2027-01-01T00:00:00Z')), null);
  const beforeStart = compileSchedule({ schedule, jitterMs: 0, anchorMs: 0, startMs: at('2026-12-01T02:30:01Z') });
  assert.equal(beforeStart.next(0), null);
});

test('every is a grid anchored at the start, or else at creation', () => {
  const everyFive: Schedule = { kind: 'every', expr: '5m', everyMs: 300_000, timezone: 'UTC' };
  const created = at('2026-11-23T02:31:17Z');
  const fromCreation = { schedule: everyFive, jitterMs: 0, anchorMs: created };
  assert.deepEqual(fires(fromCreation, '2026-11-23T00:00:00Z', 3), [
    '2026-11-23T02:31:17.000Z',
    '2026-11-23T02:36:17.000Z',
    '2026-11-23T02:41:17.000Z',
  ]);
  // A restart at any moment lands on the same grid.
  assert.deepEqual(fires(fromCreation, '2026-11-24T09:00:00Z', 2), ['2026-11-24T09:01:17.000Z', '2026-11-24T09:06:17.000Z']);
  assert.deepEqual(fires(fromCreation, '2026-11-23T02:36:17Z', 1), ['2026-11-23T02:41:17.000Z']);
  const s = compileSchedule(fromCreation);
  assert.equal(iso(s.prev(at('2026-11-23T02:41:17Z'))), '2026-11-23T02:36:17.000Z');
  assert.equal(iso(s.prev(at('2026-11-23T02:41:17.001Z'))), '2026-11-23T02:41:17.000Z');
  assert.equal(s.prev(created), null);

  const start = at('2026-12-01T00:00:00Z');
  const fromStart = { schedule: everyFive, jitterMs: 0, anchorMs: start, startMs: start };
  assert.deepEqual(fires(fromStart, '2026-11-23T00:00:00Z', 2), ['2026-12-01T00:00:00.000Z', '2026-12-01T00:05:00.000Z']);
  assert.equal(compileSchedule(fromStart).prev(at('2026-12-01T00:00:00Z')), null);

  // An end closes the grid.
  const bounded = { ...fromStart, endMs: at('2026-12-01T00:12:00Z') };
  assert.deepEqual(fires(bounded, '2026-11-30T00:00:00Z', 10), [
    '2026-12-01T00:00:00.000Z',
    '2026-12-01T00:05:00.000Z',
    '2026-12-01T00:10:00.000Z',
  ]);
  assert.equal(iso(compileSchedule(bounded).prev(at('2027-01-01T00:00:00Z'))), '2026-12-01T00:10:00.000Z');
});

test('nextFires returns up to n instants strictly after the instant', () => {
  assert.deepEqual(fires(cron('0 * * * *'), '2026-11-23T02:00:00Z', 2), ['2026-11-23T03:00:00.000Z', '2026-11-23T04:00:00.000Z']);
  assert.deepEqual(nextFires(cron('0 * * * *'), 0, 0), []);
});

// ---------------------------------------------------------------------------- keys, jitter, descriptions

test('idempotency keys depend only on the job name and the nominal instant', () => {
  assert.equal(idempotencyKey('backup', at('2026-11-23T02:30:00Z')), 'backup@2026-11-23T02:30:00.000Z');
  assert.equal(idempotencyKey('backup', at('2026-11-23T03:30:00+01:00')), 'backup@2026-11-23T02:30:00.000Z');
  assert.notEqual(idempotencyKey('backup', at('2026-11-23T02:30:00Z')), idempotencyKey('backup', at('2026-11-23T02:30:01Z')));
});

test('jitter is deterministic, in [0, jitter), and spread', () => {
  assert.equal(jitterDelay('backup@2026-11-23T02:30:00.000Z', 0), 0);
  const a = jitterDelay('backup@2026-11-23T02:30:00.000Z', 60_000);
  assert.equal(a, jitterDelay('backup@2026-11-23T02:30:00.000Z', 60_000));
  // Pinned: every daemon, every version, must compute the same delay.
  assert.equal(a, 57_636);
  const seen = new Set<number>();
  for (let i = 0; i < 2_000; i++) {
    const d = jitterDelay(`job@${new Date(1_700_000_000_000 + i * 60_000).toISOString()}`, 1_000);
    assert.ok(Number.isInteger(d) && d >= 0 && d < 1_000, `delay ${d}`);
    seen.add(Math.floor(d / 100));
  }
  assert.equal(seen.size, 10, 'delays cover the whole range');
  for (let i = 0; i < 200; i++) assert.equal(jitterDelay(`k${i}`, 1), 0);
});

test('describeSchedule says what a human needs', () => {
  assert.equal(describeSchedule({ kind: 'cron', expr: '30 2 * * *', timezone: 'Europe/Berlin' }), 'cron 30 2 * * * (Europe/Berlin)');
  assert.equal(describeSchedule({ kind: 'every', expr: 'PT5M', everyMs: 300_000, timezone: 'UTC' }), 'every 5m');
  assert.equal(
    describeSchedule({ kind: 'at', expr: '2026-12-01T02:30', atMs: at('2026-12-01T02:30:00Z'), timezone: 'UTC' }),
    'at 2026-12-01T02:30 (UTC)',
  );
});

test('compileSchedule validates what it is given', () => {
  rejects(() => compileSchedule(cron('61 * * * *')), /minute 61 is out of range 0-59/);
  rejects(() => compileSchedule(cron('* * * * *', 'Mars/Base')), /unknown time zone "Mars\/Base"/);
  rejects(
    () => compileSchedule({ schedule: { kind: 'every', expr: '0s', everyMs: 0, timezone: 'UTC' }, jitterMs: 0, anchorMs: 0 }),
    /every must be greater than zero/,
  );
});

// ---------------------------------------------------------------------------- display

test('on a UTC machine, times print without luxon exactly as luxon prints them', async () => {
  const { utcWhen } = await import('../src/cli/io.js');
  const { luxon } = await import('../src/schedule/luxon.js');
  let t = Date.UTC(1999, 11, 31, 23, 59, 59);
  for (let i = 0; i < 500; i++, t += 7_919_333_777) {
    const dt = luxon().DateTime.fromMillis(t, { zone: 'UTC' });
    assert.equal(utcWhen(t), `${dt.toFormat('ccc yyyy-LL-dd HH:mm:ss')} UTC`);
  }
  assert.equal(utcWhen(Date.UTC(2026, 10, 23, 2, 30, 0)), 'Mon 2026-11-23 02:30:00 UTC');
});

test('the machine counts as UTC as the C library decides: TZ, else /etc/localtime', async () => {
  const { machineIsUtc } = await import('../src/cli/io.js');
  for (const tz of ['UTC', 'Etc/UTC', ':UTC', 'UCT', 'Etc/Universal', 'Zulu', '']) assert.equal(machineIsUtc({ TZ: tz }), true, tz);
  for (const tz of ['Europe/London', 'America/New_York', 'GMT', 'UTC+1', 'CET']) assert.equal(machineIsUtc({ TZ: tz }), false, tz);
});
