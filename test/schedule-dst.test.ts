// Daylight-saving time at real transitions (SPEC §2, Vixie cron as Debian ships it):
// exact instants for the cases operators ask about, a brute-force reference that applies
// the rules minute by minute straight from luxon's offsets, and a prev/next consistency
// property over random instants.

import { test } from 'node:test';
import assert from 'node:assert/strict';
import { IANAZone } from 'luxon';
import { compileSchedule, nextFires, parseCron, type ScheduleInput } from '../src/schedule/index.js';

const at = (iso: string) => Date.parse(iso);
const HOUR = 3_600_000;
const MINUTE = 60_000;

function cron(expr: string, timezone: string): ScheduleInput {
  return { schedule: { kind: 'cron', expr, timezone }, jitterMs: 0, anchorMs: 0 };
}

/** Every fire in [from, to), as ISO strings. */
function firesBetween(input: ScheduleInput, from: string, to: string): string[] {
  const s = compileSchedule(input);
  const out: string[] = [];
  for (let t = s.next(at(from) - 1); t !== null && t < at(to); t = s.next(t)) out.push(new Date(t).toISOString());
  return out;
}

// ---------------------------------------------------------------------------- transitions used below

test('the transitions these tests rely on are where we think they are', () => {
  const expected: Array<[string, string, number, number]> = [
    ['America/New_York', '2026-03-08T07:00:00Z', -300, -240],
    ['America/New_York', '2026-11-01T06:00:00Z', -240, -300],
    ['Europe/Berlin', '2026-03-29T01:00:00Z', 60, 120],
    ['Europe/Berlin', '2026-10-25T01:00:00Z', 120, 60],
    // Lord Howe moves by 30 minutes: 02:00 -> 01:30 in April, 02:00 -> 02:30 in October.
    ['Australia/Lord_Howe', '2026-04-04T15:00:00Z', 660, 630],
    ['Australia/Lord_Howe', '2026-10-03T15:30:00Z', 630, 660],
  ];
  for (const [zone, iso, before, after] of expected) {
    const z = IANAZone.create(zone);
    assert.equal(z.offset(at(iso) - 1000), before, `${zone} before ${iso}`);
    assert.equal(z.offset(at(iso)), after, `${zone} at ${iso}`);
  }
});

// ---------------------------------------------------------------------------- New York

test('New York spring-forward: a wall-clock time in the gap fires once, at 03:00 EDT', () => {
  const ny = 'America/New_York';
  assert.deepEqual(nextFires(cron('30 2 * * *', ny), at('2026-03-07T12:00:00Z'), 3).map((t) => new Date(t).toISOString()), [
    '2026-03-08T07:00:00.000Z',
    '2026-03-09T06:30:00.000Z',
    '2026-03-10T06:30:00.000Z',
  ]);
  assert.deepEqual(firesBetween(cron('0 2 * * *', ny), '2026-03-07T00:00:00Z', '2026-03-09T12:00:00Z'), [
    '2026-03-07T07:00:00.000Z',
    '2026-03-08T07:00:00.000Z',
    '2026-03-09T06:00:00.000Z',
  ]);
  // Several gap times still fire once...
  assert.deepEqual(firesBetween(cron('0,15,30,45 2 * * *', ny), '2026-03-08T00:00:00Z', '2026-03-08T12:00:00Z'), [
    '2026-03-08T07:00:00.000Z',
  ]);
  // ...and do not double up with 03:00 itself: one instant fires once.
  assert.deepEqual(firesBetween(cron('0,30 2,3 * * *', ny), '2026-03-08T00:00:00Z', '2026-03-08T12:00:00Z'), [
    '2026-03-08T07:00:00.000Z',
    '2026-03-08T07:30:00.000Z',
  ]);
});

test('New York spring-forward: elapsed-time jobs skip the missing hour', () => {
  const ny = 'America/New_York';
  assert.deepEqual(firesBetween(cron('*/15 * * * *', ny), '2026-03-08T06:30:00Z', '2026-03-08T07:31:00Z'), [
    '2026-03-08T06:30:00.000Z', // 01:30 EST
    '2026-03-08T06:45:00.000Z', // 01:45 EST
    '2026-03-08T07:00:00.000Z', // 03:00 EDT
    '2026-03-08T07:15:00.000Z',
    '2026-03-08T07:30:00.000Z',
  ]);
  assert.deepEqual(firesBetween(cron('0 * * * *', ny), '2026-03-08T05:00:00Z', '2026-03-08T08:30:00Z'), [
    '2026-03-08T05:00:00.000Z', // 00:00 EST
    '2026-03-08T06:00:00.000Z', // 01:00 EST
    '2026-03-08T07:00:00.000Z', // 03:00 EDT: 02:00 does not exist
    '2026-03-08T08:00:00.000Z',
  ]);
  // A wall-clock job that only names the hour after the gap is untouched.
  assert.deepEqual(firesBetween(cron('30 3 * * *', ny), '2026-03-08T00:00:00Z', '2026-03-08T12:00:00Z'), [
    '2026-03-08T07:30:00.000Z',
  ]);
});

test('New York fall-back: a repeated wall-clock time fires once, at its first instance', () => {
  const ny = 'America/New_York';
  assert.deepEqual(firesBetween(cron('30 1 * * *', ny), '2026-10-31T00:00:00Z', '2026-11-02T12:00:00Z'), [
    '2026-10-31T05:30:00.000Z',
    '2026-11-01T05:30:00.000Z', // 01:30 EDT, not 01:30 EST
    '2026-11-02T06:30:00.000Z',
  ]);
  assert.deepEqual(firesBetween(cron('*/20 1 * * *', ny), '2026-11-01T00:00:00Z', '2026-11-01T12:00:00Z'), [
    '2026-11-01T05:00:00.000Z',
    '2026-11-01T05:20:00.000Z',
    '2026-11-01T05:40:00.000Z',
  ]);
  // 02:00 is not repeated (01:00-01:59 is), so it fires once, at 02:00 EST.
  assert.deepEqual(firesBetween(cron('0 2 * * *', ny), '2026-11-01T00:00:00Z', '2026-11-01T12:00:00Z'), [
    '2026-11-01T07:00:00.000Z',
  ]);
});

test('New York fall-back: elapsed-time jobs fire in both instances, in order', () => {
  const ny = 'America/New_York';
  const quarterHours = firesBetween(cron('*/15 * * * *', ny), '2026-11-01T05:00:00Z', '2026-11-01T07:00:00Z');
  assert.deepEqual(quarterHours, [
    '2026-11-01T05:00:00.000Z', // 01:00 EDT
    '2026-11-01T05:15:00.000Z',
    '2026-11-01T05:30:00.000Z',
    '2026-11-01T05:45:00.000Z',
    '2026-11-01T06:00:00.000Z', // 01:00 EST
    '2026-11-01T06:15:00.000Z',
    '2026-11-01T06:30:00.000Z',
    '2026-11-01T06:45:00.000Z',
  ]);
  assert.deepEqual(firesBetween(cron('0 * * * *', ny), '2026-11-01T04:00:00Z', '2026-11-01T08:00:00Z'), [
    '2026-11-01T04:00:00.000Z', // 00:00 EDT
    '2026-11-01T05:00:00.000Z', // 01:00 EDT
    '2026-11-01T06:00:00.000Z', // 01:00 EST
    '2026-11-01T07:00:00.000Z', // 02:00 EST
  ]);
  // next() from inside the first instance goes on to the second, not back.
  const s = compileSchedule(cron('*/15 * * * *', ny));
  assert.equal(new Date(s.next(at('2026-11-01T05:50:00Z'))!).toISOString(), '2026-11-01T06:00:00.000Z');
  assert.equal(new Date(s.prev(at('2026-11-01T06:00:00Z'))!).toISOString(), '2026-11-01T05:45:00.000Z');
});

// ---------------------------------------------------------------------------- Berlin

test('Berlin spring-forward (2026-03-29, 02:00 CET -> 03:00 CEST)', () => {
  const berlin = 'Europe/Berlin';
  assert.deepEqual(firesBetween(cron('30 2 * * *', berlin), '2026-03-28T00:00:00Z', '2026-03-30T12:00:00Z'), [
    '2026-03-28T01:30:00.000Z',
    '2026-03-29T01:00:00.000Z', // 03:00 CEST
    '2026-03-30T00:30:00.000Z',
  ]);
  assert.deepEqual(firesBetween(cron('0 2 * * *', berlin), '2026-03-29T00:00:00Z', '2026-03-29T12:00:00Z'), ['2026-03-29T01:00:00.000Z']);
  assert.deepEqual(firesBetween(cron('0 * * * *', berlin), '2026-03-28T23:00:00Z', '2026-03-29T02:30:00Z'), [
    '2026-03-28T23:00:00.000Z', // 00:00 CET
    '2026-03-29T00:00:00.000Z', // 01:00 CET
    '2026-03-29T01:00:00.000Z', // 03:00 CEST
    '2026-03-29T02:00:00.000Z',
  ]);
});

test('Berlin fall-back (2026-10-25, 03:00 CEST -> 02:00 CET)', () => {
  const berlin = 'Europe/Berlin';
  assert.deepEqual(firesBetween(cron('30 2 * * *', berlin), '2026-10-24T00:00:00Z', '2026-10-26T12:00:00Z'), [
    '2026-10-24T00:30:00.000Z',
    '2026-10-25T00:30:00.000Z', // 02:30 CEST only
    '2026-10-26T01:30:00.000Z',
  ]);
  assert.deepEqual(firesBetween(cron('*/30 * * * *', berlin), '2026-10-25T00:00:00Z', '2026-10-25T02:01:00Z'), [
    '2026-10-25T00:00:00.000Z', // 02:00 CEST
    '2026-10-25T00:30:00.000Z', // 02:30 CEST
    '2026-10-25T01:00:00.000Z', // 02:00 CET
    '2026-10-25T01:30:00.000Z', // 02:30 CET
    '2026-10-25T02:00:00.000Z', // 03:00 CET
  ]);
});

// ---------------------------------------------------------------------------- Lord Howe (30-minute shifts)

test('Lord Howe fall-back (2026-04-05, 02:00 +11 -> 01:30 +10:30)', () => {
  const lh = 'Australia/Lord_Howe';
  assert.deepEqual(firesBetween(cron('*/30 * * * *', lh), '2026-04-04T14:00:00Z', '2026-04-04T16:00:00Z'), [
    '2026-04-04T14:00:00.000Z', // 01:00 +11
    '2026-04-04T14:30:00.000Z', // 01:30 +11
    '2026-04-04T15:00:00.000Z', // 01:30 +10:30
    '2026-04-04T15:30:00.000Z', // 02:00 +10:30
  ]);
  assert.deepEqual(firesBetween(cron('0 * * * *', lh), '2026-04-04T13:00:00Z', '2026-04-04T17:00:00Z'), [
    '2026-04-04T13:00:00.000Z', // 00:00 +11
    '2026-04-04T14:00:00.000Z', // 01:00 +11
    '2026-04-04T15:30:00.000Z', // 02:00 +10:30
    '2026-04-04T16:30:00.000Z', // 03:00 +10:30
  ]);
  assert.deepEqual(firesBetween(cron('45 1 * * *', lh), '2026-04-04T00:00:00Z', '2026-04-05T00:00:00Z'), [
    '2026-04-04T14:45:00.000Z', // 01:45 +11 only
  ]);
  assert.deepEqual(firesBetween(cron('0 2 * * *', lh), '2026-04-04T00:00:00Z', '2026-04-05T00:00:00Z'), [
    '2026-04-04T15:30:00.000Z',
  ]);
});

test('Lord Howe spring-forward (2026-10-04, 02:00 +10:30 -> 02:30 +11)', () => {
  const lh = 'Australia/Lord_Howe';
  assert.deepEqual(firesBetween(cron('0 2 * * *', lh), '2026-10-02T00:00:00Z', '2026-10-05T00:00:00Z'), [
    '2026-10-02T15:30:00.000Z', // 02:00 +10:30
    '2026-10-03T15:30:00.000Z', // 02:30 +11, first instant after the gap
    '2026-10-04T15:00:00.000Z', // 02:00 +11
  ]);
  assert.deepEqual(firesBetween(cron('15 2 * * *', lh), '2026-10-03T00:00:00Z', '2026-10-04T00:00:00Z'), ['2026-10-03T15:30:00.000Z']);
  assert.deepEqual(firesBetween(cron('*/30 * * * *', lh), '2026-10-03T14:30:00Z', '2026-10-03T16:01:00Z'), [
    '2026-10-03T14:30:00.000Z', // 01:00 +10:30
    '2026-10-03T15:00:00.000Z', // 01:30 +10:30
    '2026-10-03T15:30:00.000Z', // 02:30 +11 (02:00 does not exist)
    '2026-10-03T16:00:00.000Z', // 03:00 +11
  ]);
  assert.deepEqual(firesBetween(cron('0 * * * *', lh), '2026-10-03T14:00:00Z', '2026-10-03T17:00:00Z'), [
    '2026-10-03T14:30:00.000Z', // 01:00 +10:30
    '2026-10-03T16:00:00.000Z', // 03:00 +11
  ]);
});

// ---------------------------------------------------------------------------- zones without DST, every

test('zones without DST: nothing special happens on other zones\' transition days', () => {
  assert.deepEqual(firesBetween(cron('30 2 * * *', 'Asia/Tokyo'), '2026-03-07T00:00:00Z', '2026-03-09T00:00:00Z'), [
    '2026-03-07T17:30:00.000Z',
    '2026-03-08T17:30:00.000Z',
  ]);
  assert.equal(firesBetween(cron('*/15 * * * *', 'Asia/Tokyo'), '2026-11-01T00:00:00Z', '2026-11-02T00:00:00Z').length, 96);
  assert.equal(firesBetween(cron('*/15 * * * *', 'UTC'), '2026-03-08T00:00:00Z', '2026-03-09T00:00:00Z').length, 96);
  assert.deepEqual(firesBetween(cron('0 2 * * *', 'UTC'), '2026-10-25T00:00:00Z', '2026-10-26T00:00:00Z'), ['2026-10-25T02:00:00.000Z']);
  assert.deepEqual(firesBetween(cron('0 0 * * *', 'Asia/Kolkata'), '2026-06-01T00:00:00Z', '2026-06-02T00:00:00Z'), [
    '2026-06-01T18:30:00.000Z',
  ]);
});

test('every stays on elapsed time across a transition', () => {
  const input: ScheduleInput = {
    schedule: { kind: 'every', expr: '30m', everyMs: 30 * MINUTE, timezone: 'America/New_York' },
    jitterMs: 0,
    anchorMs: at('2026-03-08T05:00:00Z'),
  };
  assert.deepEqual(firesBetween(input, '2026-03-08T05:00:00Z', '2026-03-08T08:00:00Z'), [
    '2026-03-08T05:00:00.000Z',
    '2026-03-08T05:30:00.000Z',
    '2026-03-08T06:00:00.000Z',
    '2026-03-08T06:30:00.000Z',
    '2026-03-08T07:00:00.000Z',
    '2026-03-08T07:30:00.000Z',
  ]);
  const fall = { ...input, anchorMs: at('2026-11-01T04:00:00Z') };
  assert.equal(firesBetween(fall, '2026-11-01T04:00:00Z', '2026-11-01T08:00:00Z').length, 8);
});

// ---------------------------------------------------------------------------- brute-force reference

const offsetCaches = new Map<string, Map<number, number>>();

/** luxon's offset at t, read once per minute (transitions in these zones fall on whole minutes). */
function minuteOffsets(zone: string): (t: number) => number {
  const z = IANAZone.create(zone);
  let cache = offsetCaches.get(zone);
  if (!cache) offsetCaches.set(zone, (cache = new Map()));
  const known = cache;
  return (t) => {
    const minute = Math.floor(t / MINUTE) * MINUTE;
    let o = known.get(minute);
    if (o === undefined) {
      o = z.offset(minute) * MINUTE;
      known.set(minute, o);
    }
    return o;
  };
}

/**
 * The rules of SPEC §2 applied literally, one candidate instant at a time, with offsets
 * read from luxon (nothing shared with src/schedule but parseCron's expanded sets).
 */
function referenceFires(expr: string, zone: string, from: number, to: number): number[] {
  const p = parseCron(expr);
  const off = minuteOffsets(zone);
  const matches = (local: number) => {
    const d = new Date(local);
    const day = d.getUTCDate();
    const length = new Date(Date.UTC(d.getUTCFullYear(), d.getUTCMonth() + 1, 0)).getUTCDate();
    const w = d.getUTCDay();
    const dom = p.dayOfMonth.includes(day) || (p.lastDayOfMonth && day === length);
    const dow =
      (p.dayOfWeek.includes(w) && (p.nthDayOfWeek === 0 || Math.ceil(day / 7) === p.nthDayOfWeek)) ||
      (p.lastDayOfWeek.includes(w) && day + 7 > length);
    return (
      p.second.includes(d.getUTCSeconds()) &&
      p.minute.includes(d.getUTCMinutes()) &&
      p.hour.includes(d.getUTCHours()) &&
      p.month.includes(d.getUTCMonth() + 1) &&
      (p.domStar || p.dowStar ? dom && dow : dom || dow)
    );
  };
  const step = p.second.length === 1 && p.second[0] === 0 ? MINUTE : 1000;
  const out: number[] = [];
  for (let t = Math.ceil(from / step) * step; t < to; t += step) {
    const o = off(t);
    const local = t + o;
    let fire = false;
    if (matches(local)) {
      if (!p.wallClock) {
        fire = true;
      } else {
        // Wall-clock: skip the second instance of a repeated local time.
        const earlier = off(t - 3 * HOUR);
        const repeated = earlier > o && off(local - earlier) === earlier && local - earlier < t;
        fire = !repeated;
      }
    }
    // Wall-clock: a spring-forward gap with a match in it fires at the first instant after it.
    const before = off(t - 1000);
    if (!fire && p.wallClock && before < o) {
      for (let l = t + before; l < t + o; l += step) if (matches(l)) fire = true;
    }
    if (fire) out.push(t);
  }
  return out;
}

/** The 2026 transitions of a zone, found with luxon hour by hour, then minute by minute. */
const transitionCache = new Map<string, number[]>();

function transitions2026(zone: string): number[] {
  const cached = transitionCache.get(zone);
  if (cached) return cached;
  const z = IANAZone.create(zone);
  const out: number[] = [];
  transitionCache.set(zone, out);
  for (let t = at('2026-01-01T00:00:00Z'); t < at('2027-01-01T00:00:00Z'); t += HOUR) {
    if (z.offset(t) !== z.offset(t + HOUR)) {
      let m = t;
      while (z.offset(m + MINUTE) === z.offset(t)) m += MINUTE;
      out.push(m + MINUTE);
    }
  }
  return out;
}

const REFERENCE_ZONES = ['America/New_York', 'Europe/Berlin', 'Australia/Lord_Howe', 'America/Santiago'];
const REFERENCE_EXPRS = [
  '30 2 * * *',
  '0 2 * * *',
  '30 1 * * *',
  '0,15,30,45 2 * * *',
  '0 0 * * *', // Santiago's transitions happen at midnight
  '30 23 * * *',
  '*/15 * * * *',
  '0 * * * *',
  '*/30 * * * *',
  '0 */2 * * *',
  '0,30 1-3 * * *',
  '*/20 */20 0-3 * * *',
];

test('next and prev agree with a brute-force reference around every 2026 transition', () => {
  for (const zone of REFERENCE_ZONES) {
    const found = transitions2026(zone);
    assert.equal(found.length, 2, `${zone} has two transitions in 2026`);
    for (const transition of found) {
      const from = transition - 14 * HOUR;
      const to = transition + 14 * HOUR;
      for (const expr of REFERENCE_EXPRS) {
        const want = referenceFires(expr, zone, from, to);
        const s = compileSchedule(cron(expr, zone));
        const forward: number[] = [];
        for (let t = s.next(from - 1); t !== null && t < to; t = s.next(t)) forward.push(t);
        const backward: number[] = [];
        for (let t = s.prev(to); t !== null && t >= from; t = s.prev(t)) backward.push(t);
        const label = `${expr} in ${zone} around ${new Date(transition).toISOString()}`;
        assert.deepEqual(forward.map((t) => new Date(t).toISOString()), want.map((t) => new Date(t).toISOString()), label);
        assert.deepEqual(backward.reverse(), want, `${label} (prev)`);
      }
    }
  }
});

// ---------------------------------------------------------------------------- consistency property

/** mulberry32: a tiny seeded PRNG, so the "random" instants are the same on every run. */
function prng(seed: number): () => number {
  let a = seed >>> 0;
  return () => {
    a = (a + 0x6d2b79f5) >>> 0;
    let t = a;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
}

test('prev and next are exact mirrors over random instants in several zones', () => {
  const zones = ['UTC', 'America/New_York', 'Europe/Berlin', 'Australia/Lord_Howe', 'Asia/Tokyo', 'America/Santiago', 'Asia/Kolkata'];
  const exprs = ['30 2 * * *', '*/15 * * * *', '0 0 * * *', '0 * * * *', '0,30 1-3 * * *', '0 0 L * *', '*/20 * 1-2 * * *', '0 9 13 * FRI'];
  const random = prng(20261123);
  const lo = at('2025-01-01T00:00:00Z');
  const span = at('2029-01-01T00:00:00Z') - lo;
  let checked = 0;
  for (const zone of zones) {
    const near = zone === 'UTC' || zone === 'Asia/Tokyo' || zone === 'Asia/Kolkata' ? [] : transitions2026(zone);
    for (const expr of exprs) {
      const s = compileSchedule(cron(expr, zone));
      for (let i = 0; i < 60; i++) {
        // Half anywhere in 2025-2028, half within three hours of a 2026 transition.
        const r =
          near.length > 0 && i % 2 === 1
            ? near[i % near.length] + Math.floor((random() - 0.5) * 6 * HOUR)
            : lo + Math.floor(random() * span);
        const n = s.next(r)!;
        const p = s.prev(r)!;
        const label = `${expr} in ${zone} at ${new Date(r).toISOString()}`;
        assert.ok(n > r && p < r, label);
        assert.equal(s.prev(n + 1), n, `${label}: prev(next + 1)`);
        assert.equal(s.next(n - 1), n, `${label}: next(next - 1)`);
        assert.equal(s.next(p), s.next(r - 1), `${label}: next(prev)`);
        assert.equal(s.prev(n), s.prev(r + 1), `${label}: prev(next)`);
        assert.equal(s.next(s.prev(n)!), n, `${label}: next(prev(next))`);
        checked++;
      }
    }
  }
  assert.equal(checked, 7 * 8 * 60);
});
