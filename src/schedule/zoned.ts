// A cron expression in a time zone: turns the wall-clock matches of a CronMatcher into
// instants under Vixie cron's daylight-saving rules (SPEC §2):
//  - wall-clock jobs (hour field names hours): local times inside a spring-forward gap
//    fire once, at the first instant after the gap; a repeated local time fires only at
//    its first instance;
//  - elapsed-time jobs (hour field `*` or `*/n`): gap times do not exist; repeated times
//    fire at both instances.
// The search walks offset segments in instant order; inside one segment local time and
// instants map one to one, which keeps next() and prev() exact mirrors of each other.

import type { CronMatcher } from './cron-matcher.js';
import { DAY_MS } from './calendar.js';
import type { ZoneOffsets } from './offsets.js';

/**
 * How far next() and prev() look before answering null. Any expression parseCron accepts
 * fires within 28 years (the weekday cycle of 1901-2099); 2100 not being a leap year
 * stretches the rarest (Feb 29 on a given weekday) to 40.
 */
export const SEARCH_LIMIT_MS = 41 * 366 * DAY_MS;

export class ZonedCron {
  constructor(
    private readonly matcher: CronMatcher,
    private readonly wallClock: boolean,
    private readonly zone: ZoneOffsets,
  ) {}

  /** Smallest fire instant strictly after `after`, or null within the search limit. */
  next(after: number): number | null {
    const cap = after + SEARCH_LIMIT_MS;
    let x = Math.floor(after) + 1;
    while (x <= cap) {
      const s = this.zone.segmentAt(x);
      const o = s.offset;
      if (x === s.start && this.firesInGapAt(s.start, s.prevOffset, o)) return x;
      let from = x + o;
      // After a fall-back, wall-clock jobs already fired the repeated local times.
      if (this.wallClock && s.prevOffset > o) from = Math.max(from, s.start + s.prevOffset);
      const local = this.matcher.nextLocal(from, Math.min(s.end - 1, cap) + o);
      if (local !== null) return local - o;
      x = s.end;
    }
    return null;
  }

  /** Largest fire instant strictly before `before`, or null within the search limit. */
  prev(before: number): number | null {
    const cap = before - SEARCH_LIMIT_MS;
    let x = Math.ceil(before) - 1;
    while (x >= cap) {
      const s = this.zone.segmentAt(x);
      const o = s.offset;
      let low = Math.max(s.start, cap) + o;
      if (this.wallClock && s.prevOffset > o) low = Math.max(low, s.start + s.prevOffset);
      const local = this.matcher.prevLocal(x + o, low);
      if (local !== null) return local - o;
      if (s.start >= cap && this.firesInGapAt(s.start, s.prevOffset, o)) return s.start;
      x = s.start - 1;
    }
    return null;
  }

  /** A wall-clock job with a match in the gap that opens at `start` fires at `start`. */
  private firesInGapAt(start: number, before: number, after: number): boolean {
    return this.wallClock && before < after && this.matcher.nextLocal(start + before, start + after - 1) !== null;
  }
}
