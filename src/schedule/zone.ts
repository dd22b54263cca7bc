// Time zones and instants as users write and read them: validating IANA names,
// reading ISO-8601 date-times local to a zone, printing instants for humans.

import { luxon, type DateTime } from './luxon.js';
import { usageError } from '../errors.js';
import { quote } from '../escape.js';
import { DAY_MS, daysFromCivil, daysInMonth } from './calendar.js';
import { zoneOffsets } from './offsets.js';

// UTC is the default zone of every job: knowing it here spares most runs Intl's zone
// lookup, whose first use loads ICU's time-zone data (~15 ms of a start-up).
const canonicalNames = new Map<string, string>([['UTC', 'UTC']]);

/** Returns the canonical IANA name (`europe/berlin` -> `Europe/Berlin`) or throws a usage error. */
export function checkTimezone(name: string): string {
  const known = canonicalNames.get(name);
  if (known) return known;
  const trimmed = name.trim();
  // Newer Intl versions accept fixed offsets as zones; tock wants names whose DST rules it can follow.
  const offsetLike = /^[+-]|^(UTC|GMT)\s*[+-]/i.test(trimmed);
  if (trimmed === '' || offsetLike || !luxon().IANAZone.isValidZone(trimmed)) {
    throw usageError(`unknown time zone ${quote(name)}: use an IANA name such as Europe/Berlin or UTC`);
  }
  const canonical = new Intl.DateTimeFormat('en-US', { timeZone: trimmed }).resolvedOptions().timeZone;
  canonicalNames.set(name, canonical);
  return canonical;
}

const INSTANT =
  /^(\d{4})-(\d{2})-(\d{2})(?:[T ](\d{2}):(\d{2})(?::(\d{2})(?:[.,](\d{1,3}))?)?(Z|[+-]\d{2}(?::?\d{2})?)?)?$/i;

/**
 * Reads an ISO-8601 date-time. Without an offset or `Z` it is local to `zone`: a repeated
 * local time means its first instance, a skipped one the first instant after the gap.
 */
export function parseInstant(text: string, zone: string): number {
  const written = text.trim();
  const m = INSTANT.exec(written);
  if (!m) {
    throw usageError(`${quote(written)} is not an ISO-8601 date-time (e.g. 2026-12-01T02:30 or 2026-12-01T02:30:00Z)`);
  }
  const [year, month, day, hour, minute, second] = [1, 2, 3, 4, 5, 6].map((i) => Number(m[i] ?? 0));
  const millis = m[7] === undefined ? 0 : Number(m[7].padEnd(3, '0'));
  const problem =
    month < 1 || month > 12
      ? `month ${month} is out of range 1-12`
      : day < 1 || day > daysInMonth(year, month)
        ? `day ${day} is out of range 1-${daysInMonth(year, month)} for ${m[1]}-${m[2]}`
        : hour > 23
          ? `hour ${hour} is out of range 0-23`
          : minute > 59
            ? `minute ${minute} is out of range 0-59`
            : second > 59
              ? `second ${second} is out of range 0-59`
              : null;
  if (problem) throw usageError(`${quote(written)} is not a valid date-time: ${problem}`);
  // Not Date.UTC, which reads years 0-99 as 19xx.
  const local = daysFromCivil(year, month, day) * DAY_MS + ((hour * 60 + minute) * 60 + second) * 1000 + millis;
  const offset = m[8];
  if (offset !== undefined) return local - offsetMs(offset);
  return zoneOffsets(checkTimezone(zone)).instantOfLocal(local);
}

function offsetMs(text: string): number {
  if (text.toUpperCase() === 'Z') return 0;
  const digits = text.slice(1).replace(':', '');
  const minutes = Number(digits.slice(0, 2)) * 60 + Number(digits.slice(2) || 0);
  return (text[0] === '-' ? -minutes : minutes) * 60_000;
}

/** For humans: `2026-11-23 02:30:00 CET`. */
export function formatInstant(ms: number, zone: string): string {
  const dt = luxon().DateTime.fromMillis(ms, { zone: checkTimezone(zone) });
  return `${dt.toFormat('yyyy-LL-dd HH:mm:ss')} ${zoneAbbreviation(dt)}`;
}

// ICU names a zone's abbreviation only in locales that use it (CET in en-GB, EST in
// en-US, JST in ja-JP); elsewhere it prints GMT+1. Take the first real abbreviation.
const ABBREVIATION_LOCALES = ['en-US', 'en-GB', 'en-AU', 'en-NZ', 'en-CA', 'en-IN', 'en-ZA', 'en-SG', 'ja-JP'];
const abbreviations = new Map<string, string>();

/** CET rather than GMT+1: the zone's abbreviation at that instant, remembered per zone and offset. */
export function zoneAbbreviation(dt: DateTime): string {
  const key = `${dt.zoneName}@${dt.offset}`;
  let found = abbreviations.get(key);
  if (found === undefined) {
    const names = ABBREVIATION_LOCALES.map((locale) => dt.setLocale(locale).toFormat('ZZZZ'));
    found = names.find((n) => /^[A-Z][A-Z0-9]{1,5}$/.test(n)) ?? names[0];
    abbreviations.set(key, found);
  }
  return found;
}
