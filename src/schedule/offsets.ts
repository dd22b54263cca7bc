// A time zone's UTC offsets as a table of transitions, read from luxon a year at a time
// on first need and shared by every schedule in that zone. Hot paths then cost a binary
// search instead of an Intl call (about 8 µs each through luxon).
//
// Time is cut into segments: maximal runs of instants with one offset. Instants and
// offsets are milliseconds; local ("wall-clock") time is encoded as instant + offset.

import { luxon } from './luxon.js';
import { DAY_MS } from './calendar.js';

/**
 * Offsets are sampled weekly and every change is bisected to the second. Two transitions
 * closer than a week that cancel out would be missed; tzdb has none in the modern era
 * (the closest, Ramadan suspensions of DST, last about a month).
 */
const SAMPLE_MS = 7 * DAY_MS;

export interface Segment {
  /** First instant of the segment (a transition, or the edge of the computed table). */
  start: number;
  /** First instant after it (exclusive). */
  end: number;
  /** Offset inside the segment. */
  offset: number;
  /** Offset just before `start`; equal to `offset` when `start` is not a real transition. */
  prevOffset: number;
}

/** A zone's offset in minutes at an instant (luxon's Zone#offset). */
interface OffsetSource {
  offset(ms: number): number;
}

export class ZoneOffsets {
  private at: number[] = [];
  private before: number[] = [];
  private after: number[] = [];
  /** The table covers [lo, hi); baseOffset applies from lo to the first transition. */
  private lo = 0;
  private hi = 0;
  private baseOffset = 0;
  private readonly fixedSegment: Segment | null;

  constructor(private readonly zone: OffsetSource, fixed: boolean) {
    const offset = this.raw(0);
    this.fixedSegment = fixed ? { start: -Infinity, end: Infinity, offset, prevOffset: offset } : null;
  }

  /** The segment holding instant x. Real transitions within a day of x are always known. */
  segmentAt(x: number): Segment {
    if (this.fixedSegment) return this.fixedSegment;
    this.cover(x - DAY_MS, x + DAY_MS);
    const i = this.indexAtOrBefore(x);
    const n = this.at.length;
    if (i < 0) {
      return { start: this.lo, end: n > 0 ? this.at[0] : this.hi, offset: this.baseOffset, prevOffset: this.baseOffset };
    }
    return { start: this.at[i], end: i + 1 < n ? this.at[i + 1] : this.hi, offset: this.after[i], prevOffset: this.before[i] };
  }

  offsetAt(x: number): number {
    return this.segmentAt(x).offset;
  }

  /**
   * The instant a local time denotes: its earlier instance when the local time is repeated
   * (fall-back), the first instant after the gap when it does not exist (spring-forward).
   */
  instantOfLocal(local: number): number {
    if (this.fixedSegment) return local - this.fixedSegment.offset;
    // Offsets stay within ±26 h, so every instance of `local` lies after x.
    let x = local - 2 * DAY_MS;
    for (;;) {
      const s = this.segmentAt(x);
      if (s.prevOffset < s.offset && local >= s.start + s.prevOffset && local < s.start + s.offset) return s.start;
      const t = local - s.offset;
      if (t >= s.start && t < s.end) return t;
      x = s.end;
    }
  }

  private raw(t: number): number {
    return Math.round(this.zone.offset(t) * 60_000);
  }

  private indexAtOrBefore(x: number): number {
    let lo = 0;
    let hi = this.at.length - 1;
    let found = -1;
    while (lo <= hi) {
      const mid = (lo + hi) >> 1;
      if (this.at[mid] <= x) {
        found = mid;
        lo = mid + 1;
      } else {
        hi = mid - 1;
      }
    }
    return found;
  }

  /** Extends the table, in whole UTC years, until it covers [from, to]. */
  private cover(from: number, to: number): void {
    if (this.hi === this.lo) {
      this.lo = yearStart(yearOf(from));
      this.hi = yearStart(yearOf(to) + 1);
      this.baseOffset = this.raw(this.lo);
      this.scan(this.lo, this.hi, this.at, this.before, this.after);
      return;
    }
    if (from < this.lo) {
      const lo = yearStart(yearOf(from));
      const at: number[] = [];
      const before: number[] = [];
      const after: number[] = [];
      this.scan(lo, this.lo, at, before, after);
      this.at = at.concat(this.at);
      this.before = before.concat(this.before);
      this.after = after.concat(this.after);
      this.lo = lo;
      this.baseOffset = this.raw(lo);
    }
    if (to >= this.hi) {
      const hi = yearStart(yearOf(to) + 1);
      this.scan(this.hi, hi, this.at, this.before, this.after);
      this.hi = hi;
    }
  }

  /** Appends the transitions in (a, b] (a and b whole seconds). */
  private scan(a: number, b: number, at: number[], before: number[], after: number[]): void {
    let p = a;
    let op = this.raw(a);
    while (p < b) {
      const q = Math.min(p + SAMPLE_MS, b);
      const oq = this.raw(q);
      let cur = p;
      let oc = op;
      while (oc !== oq) {
        // Bisect (cur, q] to the second: luxon reads offsets at whole seconds.
        let l = cur;
        let h = q;
        while (h - l > 1000) {
          const mid = l + Math.floor((h - l) / 2000) * 1000;
          if (this.raw(mid) === oc) l = mid;
          else h = mid;
        }
        const on = this.raw(h);
        at.push(h);
        before.push(oc);
        after.push(on);
        cur = h;
        oc = on;
      }
      p = q;
      op = oq;
    }
  }
}

function yearOf(ms: number): number {
  return new Date(ms).getUTCFullYear();
}

function yearStart(year: number): number {
  return Date.UTC(year, 0, 1);
}

const tables = new Map<string, ZoneOffsets>();

/** UTC without luxon or Intl: loading either costs a start-up ~15 ms, and most jobs are UTC. */
const UTC_ZONE: OffsetSource = { offset: () => 0 };

/** The shared table of a zone; the name must already be valid (see checkTimezone). */
export function zoneOffsets(name: string): ZoneOffsets {
  let table = tables.get(name);
  if (!table) {
    const fixed = name === 'UTC' || /^Etc\//i.test(name);
    table = new ZoneOffsets(name === 'UTC' ? UTC_ZONE : luxon().IANAZone.create(name), fixed);
    tables.set(name, table);
  }
  return table;
}
