// The search behind CronMatcher: the next or previous local wall-clock time its tables
// allow. Local times are milliseconds in the UTC calendar (2026-03-08 02:30 local =
// Date.UTC(2026, 2, 8, 2, 30)). A search asks two questions in turn: the first allowed day
// from a day on (month table, then the day masks), then the first allowed time of that
// day (hour, minute and second tables); a day with no time left sends it on to the next
// day (backwards: the day before). Locals and table look-ups, no allocation: a daemon
// searches for every job it schedules.

import { civilFromDays, DAY_MS, daysFromCivil, daysInMonth, weekday } from './calendar.js';
import type { CronMatcher } from './cron-matcher.js';

const LAST_SECOND = 86_399;
/** Scratch space for civilFromDays; the search is synchronous, so one serves all. */
const YMD = new Int32Array(3);

/** Smallest matching local time in [from, limit], or null. */
export function nextLocal(m: CronMatcher, from: number, limit: number): number | null {
  const t = Math.ceil(from / 1000) * 1000;
  return t > limit ? null : search(m, t, limit, true);
}

/** Largest matching local time in [limit, from], or null. */
export function prevLocal(m: CronMatcher, from: number, limit: number): number | null {
  const t = Math.floor(from / 1000) * 1000;
  return t < limit ? null : search(m, t, limit, false);
}

/** The first matching time from t on (ahead) or back, up to limit. */
function search(m: CronMatcher, t: number, limit: number, ahead: boolean): number | null {
  const limitDay = Math.floor(limit / DAY_MS);
  const dayStart = ahead ? 0 : LAST_SECOND;
  let day = Math.floor(t / DAY_MS);
  let second = (t - day * DAY_MS) / 1000;
  for (;;) {
    const found = ahead ? nextDay(m, day, limitDay) : prevDay(m, day, limitDay);
    if (found === null) return null;
    if (found !== day) second = dayStart;
    const time = ahead ? nextTime(m, second) : prevTime(m, second);
    if (time >= 0) return within(found * DAY_MS + time * 1000, limit, ahead);
    day = ahead ? found + 1 : found - 1;
    second = dayStart;
  }
}

/** The first allowed day (a day number) from `from` on, or null past limitDay. */
function nextDay(m: CronMatcher, from: number, limitDay: number): number | null {
  civilFromDays(from, YMD);
  let y = YMD[0];
  let mo = YMD[1];
  let d = YMD[2];
  for (;; mo++, d = 1) {
    const nmo = m.nextMonth[mo];
    if (nmo !== mo) {
      if (nmo < 0) y++;
      mo = nmo < 0 ? m.firstMonth : nmo;
      d = 1;
    }
    const first = daysFromCivil(y, mo, 1);
    if (first > limitDay) return null;
    const bits = dayMask(m, first, daysInMonth(y, mo)) & (-1 << (d - 1));
    if (bits !== 0) return within(first + 31 - Math.clz32(bits & -bits), limitDay, true);
  }
}

/** The last allowed day (a day number) from `from` back, or null before limitDay. */
function prevDay(m: CronMatcher, from: number, limitDay: number): number | null {
  civilFromDays(from, YMD);
  let y = YMD[0];
  let mo = YMD[1];
  let d = YMD[2];
  for (;; mo--, d = 31) {
    const pmo = m.prevMonth[mo];
    if (pmo !== mo) {
      if (pmo < 0) y--;
      mo = pmo < 0 ? m.lastMonth : pmo;
      d = 31;
    }
    const first = daysFromCivil(y, mo, 1);
    const length = daysInMonth(y, mo);
    if (first + length - 1 < limitDay) return null;
    const bits = dayMask(m, first, length) & (d >= length ? -1 : (1 << d) - 1);
    if (bits !== 0) return within(first + 31 - Math.clz32(bits), limitDay, false);
  }
}

/** The first allowed second of the day at or after `from` (seconds into the day), or -1 when the day has none left. */
function nextTime(m: CronMatcher, from: number): number {
  for (let t = from; t <= LAST_SECOND; ) {
    const h = m.nextHour[Math.floor(t / 3600)];
    if (h < 0) return -1;
    const hour = h * 3600;
    t = Math.max(t, hour); // a later hour starts at its first second
    const mi = m.nextMinute[Math.floor(t / 60) % 60];
    if (mi < 0) {
      t = hour + 3600;
      continue;
    }
    const minute = hour + mi * 60;
    t = Math.max(t, minute);
    const s = m.nextSecond[t % 60];
    if (s >= 0) return minute + s;
    t = minute + 60;
  }
  return -1;
}

/** The last allowed second of the day at or before `from` (seconds into the day), or -1 when the day has none before. */
function prevTime(m: CronMatcher, from: number): number {
  for (let t = from; t >= 0; ) {
    const h = m.prevHour[Math.floor(t / 3600)];
    if (h < 0) return -1;
    const hour = h * 3600;
    t = Math.min(t, hour + 3599); // an earlier hour starts at its last second
    const mi = m.prevMinute[Math.floor(t / 60) % 60];
    if (mi < 0) {
      t = hour - 1;
      continue;
    }
    const minute = hour + mi * 60;
    t = Math.min(t, minute + 59);
    const s = m.prevSecond[t % 60];
    if (s >= 0) return minute + s;
    t = minute - 1;
  }
  return -1;
}

/** Matching days of the month starting on day number `first` (bit d-1 for day d). */
function dayMask(m: CronMatcher, first: number, length: number): number {
  return m.dayMasks[weekday(first) * 4 + length - 28];
}

/** v if it does not pass the limit (ahead: v <= limit; back: v >= limit), else null. */
function within(v: number, limit: number, ahead: boolean): number | null {
  return (ahead ? v <= limit : v >= limit) ? v : null;
}
