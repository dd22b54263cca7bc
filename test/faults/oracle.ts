// An independent reading of cron schedules for the fuzzer: a small Vixie-cron parser (the
// subset tock documents: numbers, names, ranges, steps, lists, macros; 5 or 6 fields) and a
// checker for the instants `tock next` returns, with local times from Intl (not from tock's
// schedule code or luxon). Whatever lies outside the subset is "unknown", never judged.

const MACROS: Record<string, string> = {
  '@yearly': '0 0 1 1 *',
  '@annually': '0 0 1 1 *',
  '@monthly': '0 0 1 * *',
  '@weekly': '0 0 * * 0',
  '@daily': '0 0 * * *',
  '@midnight': '0 0 * * *',
  '@hourly': '0 * * * *',
};

const MONTHS = ['JAN', 'FEB', 'MAR', 'APR', 'MAY', 'JUN', 'JUL', 'AUG', 'SEP', 'OCT', 'NOV', 'DEC'];
const DAYS = ['SUN', 'MON', 'TUE', 'WED', 'THU', 'FRI', 'SAT'];

interface FieldRule {
  min: number;
  max: number;
  names?: string[];
  nameBase?: number;
}

const RULES: FieldRule[] = [
  { min: 0, max: 59 },
  { min: 0, max: 59 },
  { min: 0, max: 23 },
  { min: 1, max: 31 },
  { min: 1, max: 12, names: MONTHS, nameBase: 1 },
  { min: 0, max: 7, names: DAYS, nameBase: 0 },
];

export interface OracleCron {
  sets: Set<number>[];
  domStar: boolean;
  dowStar: boolean;
  wallClock: boolean;
  seconds: boolean;
}

/** The expression as Vixie cron reads it, or undefined when it is outside the subset this oracle knows. */
export function oracleParse(text: string): OracleCron | undefined {
  let expr = text.trim();
  if (MACROS[expr.toLowerCase()]) expr = MACROS[expr.toLowerCase()]!;
  if (!/^[\x20-\x7e]+$/.test(expr)) return undefined;
  let fields = expr.split(/[ \t]+/);
  const seconds = fields.length === 6;
  if (fields.length === 5) fields = ['0', ...fields];
  if (fields.length !== 6) return undefined;
  const sets: Set<number>[] = [];
  for (let i = 0; i < 6; i++) {
    const set = field(fields[i]!, RULES[i]!);
    if (!set) return undefined;
    if (i === 5 && set.has(7)) {
      set.delete(7);
      set.add(0);
    }
    sets.push(set);
  }
  return { sets, domStar: fields[3]!.startsWith('*'), dowStar: fields[5]!.startsWith('*'), wallClock: !fields[2]!.startsWith('*'), seconds };
}

function field(text: string, rule: FieldRule): Set<number> | undefined {
  const out = new Set<number>();
  for (const item of text.split(',')) {
    const m = /^(\*|[0-9A-Za-z]+(?:-[0-9A-Za-z]+)?)(?:\/(\d+))?$/.exec(item);
    if (!m) return undefined;
    const step = m[2] === undefined ? 1 : Number(m[2]);
    if (step < 1 || step > rule.max - rule.min + 1) return undefined;
    let lo: number;
    let hi: number;
    if (m[1] === '*') {
      [lo, hi] = [rule.min, rule.max];
    } else {
      const [a, b] = m[1]!.split('-');
      const va = value(a!, rule);
      const vb = b === undefined ? va : value(b, rule);
      if (va === undefined || vb === undefined || va > vb) return undefined;
      if (b === undefined && m[2] !== undefined) return undefined; // `5/15`: Vixie refuses it
      [lo, hi] = [va, vb];
    }
    for (let v = lo; v <= hi; v += step) out.add(v);
  }
  return out;
}

function value(text: string, rule: FieldRule): number | undefined {
  if (/^\d+$/.test(text)) {
    const n = Number(text);
    return n >= rule.min && n <= rule.max ? n : undefined;
  }
  const i = rule.names?.indexOf(text.toUpperCase()) ?? -1;
  return i >= 0 ? i + rule.nameBase! : undefined;
}

// ---- local time via Intl --------------------------------------------------------------

const offsetCache = new Map<string, number>();
const offsetFormatters = new Map<string, Intl.DateTimeFormat>();

/** The zone's UTC offset in ms at instant t (cached per 15-minute bucket; transitions fall on those). */
export function offsetMs(zone: string, t: number): number {
  const bucket = Math.floor(t / 900_000);
  const key = `${zone}@${bucket}`;
  let o = offsetCache.get(key);
  if (o === undefined) {
    let f = offsetFormatters.get(zone);
    if (!f) {
      f = new Intl.DateTimeFormat('en-US', { timeZone: zone, timeZoneName: 'longOffset' });
      offsetFormatters.set(zone, f);
    }
    const name = f.formatToParts(new Date(bucket * 900_000)).find((p) => p.type === 'timeZoneName')!.value;
    const m = /GMT([+-])(\d{2}):?(\d{2})?(?::?(\d{2}))?/.exec(name);
    o = m ? (m[1] === '-' ? -1 : 1) * ((Number(m[2]) * 60 + Number(m[3] ?? 0)) * 60_000 + Number(m[4] ?? 0) * 1000) : 0;
    if (offsetCache.size > 200_000) offsetCache.clear();
    offsetCache.set(key, o);
  }
  return o;
}

function matches(c: OracleCron, zone: string, t: number): boolean {
  const d = new Date(t + offsetMs(zone, t));
  const [sec, min, hour, dom, mon, dow] = c.sets as [Set<number>, Set<number>, Set<number>, Set<number>, Set<number>, Set<number>];
  if (!sec.has(d.getUTCSeconds()) || !min.has(d.getUTCMinutes()) || !hour.has(d.getUTCHours()) || !mon.has(d.getUTCMonth() + 1)) return false;
  const a = dom.has(d.getUTCDate());
  const b = dow.has(d.getUTCDay());
  return c.domStar || c.dowStar ? a && b : a || b;
}

/** Is t the second instance of a local time repeated at a fall-back transition? */
function secondInstance(zone: string, t: number): boolean {
  const before = offsetMs(zone, t - 3 * 3_600_000);
  const now = offsetMs(zone, t);
  if (before <= now) return false;
  const earlier = t - (before - now);
  return offsetMs(zone, earlier) === before;
}

/** Does a spring-forward transition happen exactly at t (so a wall-clock time in the gap fires at t)? */
function gapEnd(zone: string, t: number): boolean {
  return offsetMs(zone, t - 1000) < offsetMs(zone, t);
}

/**
 * Problems with `times` as the next firings of `c` in `zone` strictly after `from`: order,
 * each instant matching the expression (or being the end of a DST gap), no second instance
 * of a repeated wall-clock time, and no matching instant skipped between consecutive ones
 * (checked by brute force where the gap is small enough and has no DST change).
 */
export function checkNext(c: OracleCron, zone: string, from: number, times: number[]): string[] {
  const problems: string[] = [];
  let prev = from;
  for (const t of times) {
    if (!(t > prev)) problems.push(`${iso(t)} is not after ${iso(prev)}`);
    const ok = matches(c, zone, t) || (c.wallClock && gapEnd(zone, t));
    if (!ok) problems.push(`${iso(t)} (${localText(zone, t)}) does not match`);
    if (c.wallClock && secondInstance(zone, t)) problems.push(`${iso(t)} is the second instance of a repeated local time`);
    const skipped = firstMatchBetween(c, zone, prev, t);
    if (skipped !== undefined) problems.push(`${iso(skipped)} (${localText(zone, skipped)}) matches but was skipped`);
    prev = t;
    if (problems.length) break;
  }
  return problems;
}

function firstMatchBetween(c: OracleCron, zone: string, a: number, b: number): number | undefined {
  const step = c.seconds ? 1000 : 60_000;
  const limit = c.seconds ? 3 * 3_600_000 : 4 * 86_400_000;
  if (b - a > limit || offsetMs(zone, a) !== offsetMs(zone, b)) return undefined;
  for (let t = Math.floor(a / step) * step + step; t < b; t += step) {
    if (matches(c, zone, t) && !(c.wallClock && secondInstance(zone, t))) return t;
  }
  return undefined;
}

const iso = (t: number) => new Date(t).toISOString();

function localText(zone: string, t: number): string {
  return `${new Date(t + offsetMs(zone, t)).toISOString().slice(0, 19)} ${zone}`;
}
