// Bad input at scale: thousands of generated and mutated cron expressions, durations, time
// zones, instants, names, URLs, headers, policy values and whole YAML files, fed to the real
// CLI (`tock add`, `tock apply`). Every rejection must be exit 2 with one `tock:` line, no
// stack trace, no hang, and the store byte-for-byte unchanged; every acceptance of a
// schedule must give `next` times that agree with an independent reading of the schedule.
// Inputs built to be valid must be accepted, inputs built to be invalid must be rejected;
// mutated ones may go either way but must obey the rules above.

import fs from 'node:fs';
import YAML from 'yaml';
import { Rng, Sandbox, cleanError, describeCli, pool, row, storeChecksum, type Ctx, type Row } from './lib.js';
import { checkNext, oracleParse } from './oracle.js';

const S = 'fuzz';
type Expect = 'valid' | 'invalid' | 'unknown';

interface Gen<T = string> {
  text: T;
  expect: Expect;
  /** For durations: the value in ms when known. */
  ms?: number;
}

interface Input {
  category: string;
  expect: Expect;
  /** `add` arguments after the job name, or a YAML file's bytes for `apply`. */
  add?: string[];
  name?: string;
  yaml?: Buffer;
  check?: Accepted;
}

/** What to verify when the CLI accepted the input. */
type Accepted =
  | { kind: 'cron'; expr: string; zone: string }
  | { kind: 'every'; ms?: number }
  | { kind: 'zone'; zone: string }
  | { kind: 'url'; url: string }
  | { kind: 'header'; header: string }
  | { kind: 'yaml'; text: string };

const FROMS = ['2026-01-01T00:00:00Z', '2026-03-08T06:59:30Z', '2026-10-25T00:30:00Z', '2026-11-01T05:59:00Z', '2027-02-27T23:59:59Z', '2028-02-28T12:00:00Z'];

export async function fuzz(ctx: Ctx): Promise<Row[]> {
  const total = ctx.short ? 240 : 2000;
  const rng = ctx.rng.fork();
  const inputs = Array.from({ length: total }, (_, i) => generate(rng, i));
  const workers = 3;
  const boxes = Array.from({ length: workers }, (_, w) => new Sandbox(`${S}-${w}`));
  const stats = new Map<string, { n: number; accepted: number; rejected: number; checked: number; failures: string[] }>();
  let ok = false;
  try {
    for (const sb of boxes) await sb.ok(['add', 'seed', '--every', '1h', '--shell', 'true']); // the store exists before the first input
    let done = 0;
    await pool(inputs, workers, async (input, w) => {
      const st = stats.get(input.category) ?? { n: 0, accepted: 0, rejected: 0, checked: 0, failures: [] };
      stats.set(input.category, st);
      st.n++;
      const result = await feed(boxes[w]!, input, w, rng);
      if (result.accepted) st.accepted++;
      else st.rejected++;
      if (result.checked) st.checked++;
      if (result.failure) {
        // Keep the input itself: the sandbox is kept when anything fails.
        const saved = boxes[w]!.path(`failure-${st.failures.length}-${input.category.replace(/\W/g, '')}.${input.yaml ? 'yaml' : 'json'}`);
        fs.writeFileSync(saved, input.yaml ?? JSON.stringify(input.add));
        st.failures.push(`${result.failure} [${saved}]`);
      }
      if (++done % 500 === 0) ctx.note(`fuzz: ${done}/${total} inputs`);
    });
    const rows: Row[] = [];
    for (const [category, st] of [...stats].sort()) {
      rows.push(
        row(
          S,
          category,
          `${st.n} inputs (generated valid, generated invalid, mutated)`,
          `${st.accepted} accepted${st.checked ? ` (${st.checked} checked against the schedule/URL/header rules)` : ''}, ${st.rejected} rejected cleanly; ` +
            `${st.failures.length} problems` +
            (st.failures.length ? `: ${st.failures.slice(0, 2).join(' || ')}` : ''),
          st.failures.length === 0,
        ),
      );
    }
    ok = rows.every((r) => r.verdict === 'PASS');
    return rows;
  } finally {
    for (const sb of boxes) sb.cleanup(ctx.keep || !ok);
  }
}

let counter = 0;

async function feed(sb: Sandbox, input: Input, w: number, rng: Rng): Promise<{ accepted: boolean; checked?: boolean; failure?: string }> {
  const name = input.name ?? `f${w}-${++counter}`;
  let args: string[];
  if (input.yaml) {
    const file = sb.path(`input-${w}.yaml`);
    fs.writeFileSync(file, input.yaml);
    args = ['apply', file];
  } else {
    args = ['add', name, ...input.add!];
  }
  const before = storeChecksum(sb.db);
  const r = await sb.tock(args, { timeoutMs: 20_000 });
  const what = input.yaml ? `apply of ${JSON.stringify(input.yaml.toString('latin1').slice(0, 80))}` : describeCli(r).split(' -> ')[0]!;
  if (r.timedOut) return { accepted: false, failure: `hang: ${what}` };
  if (r.status === 0) {
    if (input.expect === 'invalid') return { accepted: true, failure: `accepted bad input: ${what}` };
    const v = input.check ? await verify(sb, name, input.check, rng) : null;
    return { accepted: true, checked: v !== null, failure: v ? `${what}: ${v}` : undefined };
  }
  if (r.status !== 2) return { accepted: false, failure: `exit ${r.status ?? r.signal}: ${describeCli(r)}` };
  const unclean = cleanError(r);
  if (unclean) return { accepted: false, failure: `${unclean}: ${describeCli(r)}` };
  if (storeChecksum(sb.db) !== before) return { accepted: false, failure: `store changed by a rejected command: ${describeCli(r)}` };
  if (input.expect === 'valid') return { accepted: false, failure: `valid input rejected: ${describeCli(r)}` };
  return { accepted: false };
}

/** An accepted input must mean what the rules say: a problem, undefined if it does, null if it cannot be judged. */
async function verify(sb: Sandbox, name: string, c: Accepted, rng: Rng): Promise<string | undefined | null> {
  switch (c.kind) {
    case 'cron':
      return cronAgrees(sb, name, c.expr, c.zone, rng);
    case 'every': {
      const from = rng.pick(FROMS);
      const r = await sb.tock(['next', name, '--from', from, '-n', '4', '--json']);
      if (r.status !== 0) return `next failed: ${describeCli(r)}`;
      const t = (JSON.parse(r.stdout) as string[]).map(Date.parse);
      const steps = t.slice(1).map((x, i) => x - t[i]!);
      if (t.length !== 4 || steps.some((s) => s !== steps[0] || s <= 0)) return `every: uneven next times ${t.map((x) => new Date(x).toISOString()).join(', ')}`;
      if (c.ms !== undefined && steps[0] !== c.ms) return `every: interval ${steps[0]} ms, expected ${c.ms}`;
      return undefined;
    }
    case 'zone':
      try {
        new Intl.DateTimeFormat('en-US', { timeZone: c.zone.trim() });
      } catch {
        return `accepted a zone Intl does not know: ${JSON.stringify(c.zone)}`;
      }
      return cronAgrees(sb, name, '0 30 2 * * *', c.zone.trim(), rng);
    case 'url': {
      let u: URL;
      try {
        u = new URL(c.url.replace(/\$\{[A-Za-z_][A-Za-z0-9_]*\}/g, 'x'));
      } catch {
        return `accepted a URL that does not parse: ${JSON.stringify(c.url)}`;
      }
      return u.protocol === 'http:' || u.protocol === 'https:' ? undefined : `accepted a ${u.protocol} URL`;
    }
    case 'header': {
      // What was stored is what will be sent: valid names, RFC 9110 values (surrounding blanks are trimmed).
      const r = await sb.tock(['show', name, '--json']);
      if (r.status !== 0) return `show failed: ${describeCli(r)}`;
      const headers = (JSON.parse(r.stdout).target?.headers ?? {}) as Record<string, string>;
      for (const [h, v] of Object.entries(headers)) {
        if (!/^[!#$%&'*+.^_`|~0-9A-Za-z-]+$/.test(h)) return `stored header name ${JSON.stringify(h)}`;
        if (/[^\t\x20-\x7e\x80-\xff]|^[\t ]|[\t ]$/.test(v)) return `stored header ${h} that HTTP cannot carry: ${JSON.stringify(v)}`;
      }
      return undefined;
    }
    case 'yaml': {
      // Judge what the accepted text says (an edit may have renamed or dropped jobs).
      const job = jobsIn(c.text).find((j) => j.cron !== undefined);
      return job ? cronAgrees(sb, job.name, job.cron!, job.zone, rng) : null;
    }
  }
}

async function cronAgrees(sb: Sandbox, name: string, expr: string, zone: string, rng: Rng): Promise<string | undefined | null> {
  const oracle = oracleParse(expr);
  if (!oracle) return null; // outside the subset the oracle reads: accepted, not judged
  const from = rng.pick(FROMS);
  const r = await sb.tock(['next', name, '--from', from, '-n', '5', '--json']);
  if (r.status !== 0) return `next failed: ${describeCli(r)}`;
  const times = (JSON.parse(r.stdout) as string[]).map(Date.parse);
  if (times.length !== 5) return `next gave ${times.length} times for ${JSON.stringify(expr)}`;
  const problems = checkNext(oracle, zone, Date.parse(from), times);
  return problems.length ? `${JSON.stringify(expr)} in ${zone} from ${from}: ${problems[0]}` : undefined;
}

// ---- generators --------------------------------------------------------------------------

const CATEGORIES = ['cron', 'cron', 'cron', 'duration', 'duration', 'zone', 'instant', 'name', 'url', 'header', 'policy', 'yaml', 'yaml', 'yaml'] as const;

function generate(rng: Rng, i: number): Input {
  const category = rng.pick(CATEGORIES);
  const shell = ['--shell', 'true'];
  switch (category) {
    case 'cron': {
      const c = cronGen(rng);
      const zone = rng.chance(0.5) ? 'UTC' : rng.pick(ZONES);
      return { category: 'cron expressions', expect: c.expect, add: ['--cron', c.text, '--tz', zone, ...shell], check: { kind: 'cron', expr: c.text, zone } };
    }
    case 'duration': {
      const d = durationGen(rng);
      const flag = rng.pick(['--every', '--timeout', '--jitter', '--catchup-window', '--backoff']);
      const zeroBad = flag === '--every' || flag === '--timeout' || flag === '--catchup-window' || flag === '--backoff';
      // every fires at most once a second (SPEC §2): a shorter valid duration is refused there.
      const tooShort = flag === '--every' && d.ms !== undefined && d.ms < 1000;
      const expect: Expect = d.expect === 'valid' && ((d.ms === 0 && zeroBad) || tooShort) ? 'invalid' : d.expect;
      const sched = flag === '--every' ? [] : ['--every', '1h'];
      return { category: 'durations', expect, add: [...sched, flag, d.text, ...shell], check: flag === '--every' ? { kind: 'every', ms: d.ms } : undefined };
    }
    case 'zone': {
      const z = zoneGen(rng);
      return { category: 'time zones', expect: z.expect, add: ['--cron', '0 30 2 * * *', '--tz', z.text, ...shell], check: { kind: 'zone', zone: z.text } };
    }
    case 'instant': {
      const t = instantGen(rng);
      const flag = rng.pick(['--at', '--start', '--end']);
      const sched = flag === '--at' ? [] : ['--every', '1h'];
      return { category: 'instants', expect: t.expect, add: [...sched, flag, t.text, ...shell] };
    }
    case 'name': {
      const n = nameGen(rng, i);
      return { category: 'names', expect: n.expect, name: n.text, add: ['--every', '1h', ...shell] };
    }
    case 'url': {
      const u = urlGen(rng);
      return { category: 'URLs', expect: u.expect, add: ['--every', '1h', '--http', u.text], check: { kind: 'url', url: u.text } };
    }
    case 'header': {
      const h = headerGen(rng);
      return { category: 'headers', expect: h.expect, add: ['--every', '1h', '--http', 'http://127.0.0.1:9/hook', '--header', h.text], check: { kind: 'header', header: h.text } };
    }
    case 'policy': {
      const p = policyGen(rng);
      return { category: 'policy flags', expect: p.expect, add: ['--every', '1h', ...p.text, ...shell] };
    }
    case 'yaml':
      return yamlGen(rng, i);
  }
}

const JUNK = ['', ' ', '\t', '\u00a0', '１２', 'ä', '😀', '\u202e', '\x01', '\x7f', '\\', '"', "'", '`', '$(', '${', '%s', '*', '/', ',', '-', '?', 'L', '#', 'W', '@', ':', ';', '\n', '\r\n', 'null', 'NaN', '-0', '1e3', '0x1F', '9'.repeat(30)];

/** Random edits: insert, delete, replace, duplicate, truncate, case flip, huge. */
function mutate(rng: Rng, text: string): string {
  let s = text;
  const edits = rng.int(1, 3);
  for (let e = 0; e < edits; e++) {
    const at = rng.int(0, s.length);
    switch (rng.int(0, 7)) {
      case 0:
        s = s.slice(0, at) + rng.pick(JUNK) + s.slice(at);
        break;
      case 1:
        s = s.slice(0, at) + s.slice(at + rng.int(1, 3));
        break;
      case 2:
        s = s.slice(0, at) + String.fromCharCode(rng.int(32, 126)) + s.slice(at + 1);
        break;
      case 3:
        s = s + ' ' + s;
        break;
      case 4:
        s = s.slice(0, at);
        break;
      case 5:
        s = rng.chance(0.5) ? s.toLowerCase() : s.toUpperCase();
        break;
      case 6:
        s = s.replace(/\d+/, String(rng.pick([0, 60, 61, 99, 100, 1e6, 2 ** 31, 2 ** 53, -1])));
        break;
      default:
        s = rng.chance(0.05) ? s.repeat(2000) : s + rng.pick(JUNK);
    }
  }
  return s.replace(/\0/g, '');
}

function cronField(rng: Rng, min: number, max: number, names?: string[], base = 0): string {
  const n = () => rng.int(min, max);
  const span = max - min + 1;
  switch (rng.int(0, 7)) {
    case 0:
      return '*';
    case 1:
      return `*/${rng.int(1, Math.min(span, 30))}`;
    case 2:
      return String(n());
    case 3: {
      const a = rng.int(min, max - 1);
      return `${a}-${rng.int(a + 1, max)}`;
    }
    case 4: {
      const a = rng.int(min, max - 1);
      return `${a}-${rng.int(a + 1, max)}/${rng.int(1, Math.min(span, 10))}`;
    }
    case 5:
      return [...new Set([n(), n(), n()])].sort((a, b) => a - b).join(',');
    case 6:
      if (names) {
        const a = rng.int(0, names.length - 2);
        return rng.chance(0.5) ? names[a]! : `${names[a]}-${names[rng.int(a + 1, names.length - 1)]}`;
      }
      return String(n());
    default:
      return `${n()},${rng.int(min, max - 1)}-${max}`;
  }
  void base;
}

const MONTH_NAMES = ['JAN', 'FEB', 'MAR', 'APR', 'MAY', 'JUN', 'JUL', 'AUG', 'SEP', 'OCT', 'NOV', 'DEC'];
const DAY_NAMES = ['SUN', 'MON', 'TUE', 'WED', 'THU', 'FRI', 'SAT'];

function validCron(rng: Rng): string {
  if (rng.chance(0.08)) return rng.pick(['@yearly', '@annually', '@monthly', '@weekly', '@daily', '@midnight', '@hourly']);
  const f = [
    cronField(rng, 0, 59),
    cronField(rng, 0, 23),
    cronField(rng, 1, 28),
    cronField(rng, 1, 12, MONTH_NAMES),
    cronField(rng, 0, 6, DAY_NAMES),
  ];
  return (rng.chance(0.35) ? [cronField(rng, 0, 59), ...f] : f).join(' ');
}

function cronGen(rng: Rng): Gen {
  const valid = validCron(rng);
  const r = rng.next();
  if (r < 0.35) return { text: valid, expect: 'valid' };
  if (r < 0.6) {
    // one field out of range, or the wrong number of fields
    const fields = valid.startsWith('@') ? ['0', '0', '*', '*', '*'] : valid.split(' ');
    const o = fields.length === 6 ? 1 : 0;
    const bad: [number, string][] = [
      [o + 0, String(rng.int(60, 99))],
      [o + 1, String(rng.int(24, 99))],
      [o + 2, rng.pick(['0', '32', '99'])],
      [o + 3, rng.pick(['0', '13', 'FOO'])],
      [o + 4, rng.pick(['8', '9', 'FUNDAY'])],
      [o + rng.int(0, 4), '*/0'],
      [o + rng.int(0, 4), `5-${rng.int(60, 99)}`],
    ];
    const [idx, value] = rng.pick(bad);
    if (rng.chance(0.2)) return { text: fields.slice(0, rng.int(1, 4)).join(' '), expect: 'invalid' };
    if (rng.chance(0.1)) return { text: [...fields, '*', '*'].slice(0, 7).join(' '), expect: 'invalid' };
    fields[idx] = value;
    return { text: fields.join(' '), expect: 'invalid' };
  }
  if (r < 0.65) return { text: rng.pick(['', '   ', '@never', '@reboot', 'every day', '* * * * * * *', '60 * * * *', '* * * *']), expect: 'invalid' };
  return { text: mutate(rng, valid), expect: 'unknown' };
}

function durationGen(rng: Rng): Gen {
  const n = rng.int(1, 500);
  const valid: [string, number][] = [
    [`${n}ms`, n],
    [`${n}s`, n * 1000],
    [`${n}m`, n * 60_000],
    [`${rng.int(1, 48)}h${rng.int(1, 59)}m`, 0],
    [`${rng.int(1, 30)}d`, 0],
    [`PT${n}M`, n * 60_000],
    [`PT${n}S`, n * 1000],
    [`P${rng.int(1, 30)}D`, 0],
    [`PT${rng.int(1, 23)}H${rng.int(1, 59)}M`, 0],
    ['0s', 0],
  ];
  const [text, ms] = rng.pick(valid);
  const known = text === '0s' || ms !== 0 ? ms : undefined;
  const r = rng.next();
  if (r < 0.4) return { text, expect: 'valid', ms: known ?? parseKnown(text) };
  if (r < 0.65) return { text: rng.pick([`-${text}`, String(n), `${n}x`, '', 'PT', 'P', `${n} m`, '99999d', 'P1Y', 'P2M', 'NaNs', 'Infinity', '1h-30m', 'm5', '.5s5']), expect: 'invalid' };
  return { text: mutate(rng, text), expect: 'unknown' };
}

function parseKnown(text: string): number | undefined {
  const m = /^(\d+)h(\d+)m$/.exec(text) ?? /^PT(\d+)H(\d+)M$/.exec(text);
  if (m) return Number(m[1]) * 3_600_000 + Number(m[2]) * 60_000;
  const d = /^P?(\d+)D$/i.exec(text) ?? /^(\d+)d$/.exec(text);
  return d ? Number(d[1]) * 86_400_000 : undefined;
}

const ZONES = ['Europe/Berlin', 'America/New_York', 'Australia/Lord_Howe', 'Asia/Kolkata', 'Pacific/Chatham', 'America/Sao_Paulo', 'Africa/Casablanca', 'Asia/Kathmandu', 'Pacific/Kiritimati', 'America/St_Johns', 'Europe/Dublin', 'UTC'];

function zoneGen(rng: Rng): Gen {
  const all = (Intl as unknown as { supportedValuesOf(k: string): string[] }).supportedValuesOf('timeZone');
  const zone = rng.chance(0.5) ? rng.pick(ZONES) : rng.pick(all);
  const r = rng.next();
  if (r < 0.4) return { text: zone, expect: 'valid' };
  if (r < 0.6) return { text: rng.pick(['Mars/Olympus', 'UTC+1', '+05:00', '-0800', 'GMT+2', 'Europe/Berlin/Mitte', '', 'Europe', '../../etc/passwd', 'America/New York']), expect: 'invalid' };
  return { text: mutate(rng, zone), expect: 'unknown' };
}

function instantGen(rng: Rng): Gen {
  const y = rng.int(2000, 2099);
  const p = (n: number) => String(n).padStart(2, '0');
  const valid = `${y}-${p(rng.int(1, 12))}-${p(rng.int(1, 28))}T${p(rng.int(0, 23))}:${p(rng.int(0, 59))}${rng.chance(0.5) ? `:${p(rng.int(0, 59))}` : ''}${rng.pick(['', 'Z', '+02:00', '-0530'])}`;
  const r = rng.next();
  if (r < 0.4) return { text: valid, expect: 'valid' };
  if (r < 0.6) return { text: rng.pick([`${y}-13-01T00:00`, `${y}-02-30T00:00`, `${y}-01-01T24:00`, `${y}-01-01T00:60`, 'tomorrow', 'now', '', `${y}/01/01 00:00`, '2021-02-29T00:00']), expect: 'invalid' };
  return { text: mutate(rng, valid), expect: 'unknown' };
}

function nameGen(rng: Rng, i: number): Gen {
  const chars = 'abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ0123456789._-';
  const len = rng.int(1, 40);
  let valid = rng.pick(['a', 'job', 'x1', 'Backup']);
  while (valid.length < len) valid += chars[rng.int(0, chars.length - 1)];
  valid = `${valid.slice(0, 50)}${i}`;
  const r = rng.next();
  if (r < 0.4) return { text: valid, expect: 'valid' };
  if (r < 0.6) return { text: rng.pick(['', ' x', 'a b', 'a/b', 'a\nb', 'x'.repeat(65), '.hidden', 'ä', 'a;rm -rf /', '$(id)']) + (rng.chance(0.5) ? ` ${i}` : ''), expect: 'invalid' };
  return { text: mutate(rng, valid), expect: 'unknown' };
}

function urlGen(rng: Rng): Gen {
  const valid = rng.pick([
    `http://127.0.0.1:${rng.int(1, 65535)}/hook?n=${rng.int(0, 999)}`,
    'https://example.com/a/b',
    'http://[::1]:8080/',
    'https://${HOST}/path',
    'http://localhost/${TOKEN}/x',
    'https://user:pw@example.org:8443/x?y=z#f',
  ]);
  const r = rng.next();
  if (r < 0.4) return { text: valid, expect: 'valid' };
  if (r < 0.6) return { text: rng.pick(['ftp://example.com/x', 'file:///etc/passwd', 'javascript:alert(1)', 'not a url', 'http//x', '', 'example.com', 'gopher://x', 'data:,hi', 'http://[::1']), expect: 'invalid' };
  return { text: mutate(rng, valid), expect: 'unknown' };
}

function headerGen(rng: Rng): Gen {
  const valid = rng.pick(['X-Test: v', 'Authorization: Bearer ${TOKEN}', 'Content-Type: application/json', "X-Weird_Name.~!: a b c", 'Accept: */*']);
  const r = rng.next();
  if (r < 0.4) return { text: valid, expect: 'valid' };
  if (r < 0.6) return { text: rng.pick(['NoColon', ': v', 'Bad Name: v', 'X: a\r\nY: b', 'X: a\nY: b', 'ä: v', '(x): y']), expect: 'invalid' };
  return { text: mutate(rng, valid), expect: 'unknown' };
}

function policyGen(rng: Rng): Gen<string[]> {
  const valid: string[][] = [
    ['--retries', String(rng.int(0, 10))],
    ['--delivery', rng.pick(['at-most-once', 'at-least-once', 'exactly-once'])],
    ['--overlap', rng.pick(['skip', 'allow', 'queue', 'replace'])],
    ['--catchup', rng.pick(['skip', 'latest', 'all'])],
    ['--catchup-limit', String(rng.int(1, 1000))],
    ['--output-limit', String(rng.int(0, 1_000_000))],
    ['--backoff', `${rng.int(1, 9)}s:${rng.int(10, 60)}m`],
  ];
  const invalid: string[][] = [
    ['--retries', rng.pick(['-1', 'x', '1.5', '1001', ''])],
    ['--delivery', rng.pick(['exactly-twice', 'AT-MOST-ONCE', ''])],
    ['--overlap', rng.pick(['never', ''])],
    ['--catchup', rng.pick(['some', ''])],
    ['--catchup-limit', rng.pick(['0', '-5', 'lots'])],
    ['--output-limit', rng.pick(['-1', '99999999999', '1k'])],
    ['--backoff', rng.pick(['5m:1s', '1s:2s:3s', ':', '-1s'])],
    ['--delivery', 'at-most-once', '--retries', '3'],
  ];
  const r = rng.next();
  if (r < 0.45) return { text: rng.pick(valid), expect: 'valid' };
  if (r < 0.75) return { text: rng.pick(invalid), expect: 'invalid' };
  const [flag, value] = rng.pick(valid);
  return { text: [flag!, mutate(rng, value!)], expect: 'unknown' };
}

/** A whole jobs file: generated from the generators above, sometimes mutated as text, sometimes hostile. */
function yamlGen(rng: Rng, i: number): Input {
  const category = 'YAML files';
  if (rng.chance(0.12)) return { category, expect: 'invalid', yaml: Buffer.from(hostileYaml(rng)) };
  let expect: Expect = 'valid';
  const jobs: Record<string, unknown>[] = [];
  for (let j = 0; j < rng.int(1, 4); j++) {
    const name = `y${i}-${j}`;
    const job: Record<string, unknown> = { name };
    const sane = rng.chance(0.7); // most jobs of a file are fine, so that whole files get accepted too
    const cron = rng.chance(0.7) ? (sane ? { text: validCron(rng), expect: 'valid' as Expect } : cronGen(rng)) : undefined;
    if (cron) job.cron = cron.text;
    else job.every = sane ? `${rng.int(1, 90)}m` : durationGen(rng).text;
    const zone = rng.chance(0.5) ? (sane ? { text: rng.pick(ZONES), expect: 'valid' as Expect } : zoneGen(rng)) : undefined;
    if (zone) job.timezone = zone.text;
    if (rng.chance(0.5)) job.shell = 'echo hi';
    else job.http = { url: sane ? 'http://127.0.0.1:9/hook' : urlGen(rng).text, headers: { 'X-A': 'b' } };
    if (!sane && rng.chance(0.3)) job.timeout = durationGen(rng).text;
    if (!sane && rng.chance(0.2)) job.retries = rng.pick([0, 3, -1, 'x', 1001]);
    if (!sane && rng.chance(0.1)) job[rng.pick(['bogus', 'cron2', 'Shell'])] = 1;
    const parts: Expect[] = [cron?.expect ?? 'unknown', zone?.expect ?? 'valid'];
    if (job.http !== undefined && !sane) parts.push('unknown');
    if (!sane && (job.every !== undefined || job.timeout !== undefined || job.retries !== undefined)) parts.push('unknown');
    if (Object.keys(job).some((k) => ['bogus', 'cron2', 'Shell'].includes(k))) parts.push('invalid');
    if (parts.includes('invalid')) expect = 'invalid';
    else if (parts.includes('unknown') && expect === 'valid') expect = 'unknown';
    jobs.push(job);
  }
  const doc: Record<string, unknown> = { jobs };
  if (rng.chance(0.3)) doc.defaults = { delivery: rng.pick(['at-least-once', 'exactly-once']), timeout: '5m' };
  let text = YAML.stringify(doc);
  if (rng.chance(0.35)) {
    text = mutateYaml(rng, text);
    expect = 'unknown'; // the edit may have broken a valid file, or cut away the bad part of an invalid one
  }
  return { category, expect, yaml: Buffer.from(text), check: { kind: 'yaml', text } };
}

/** The jobs of an accepted file as the file says (name, cron, zone), for judging `next`. */
function jobsIn(text: string): { name: string; cron?: string; zone: string }[] {
  let doc: unknown;
  try {
    doc = YAML.parse(text);
  } catch {
    return [];
  }
  const jobs = (doc as { jobs?: unknown })?.jobs;
  if (!Array.isArray(jobs)) return [];
  const fallback = (doc as { defaults?: { timezone?: unknown } }).defaults?.timezone;
  return jobs
    .filter((j): j is Record<string, unknown> => typeof j === 'object' && j !== null && typeof j.name === 'string')
    .map((j) => ({
      name: j.name as string,
      cron: typeof j.cron === 'string' ? j.cron : undefined,
      zone: typeof j.timezone === 'string' ? j.timezone.trim() : typeof fallback === 'string' ? fallback.trim() : 'UTC',
    }));
}

function mutateYaml(rng: Rng, text: string): string {
  const lines = text.split('\n');
  const at = rng.int(0, Math.max(0, lines.length - 1));
  switch (rng.int(0, 6)) {
    case 0:
      lines.splice(at, 1);
      break;
    case 1:
      lines.splice(at, 0, lines[at] ?? '');
      break;
    case 2:
      lines[at] = `\t${lines[at]}`;
      break;
    case 3:
      lines[at] = `  ${lines[at]}`;
      break;
    case 4:
      lines[at] = mutate(rng, lines[at] ?? '');
      break;
    case 5:
      return text.slice(0, rng.int(0, text.length));
    default:
      lines.splice(at, 0, rng.pick(['- ', ': x', '&a x', '*b', '!!binary aGk=', '? complex', '"unterminated', '{a: [}', '---']));
  }
  return lines.join('\n');
}

function hostileYaml(rng: Rng): string {
  switch (rng.int(0, 7)) {
    case 0: {
      let s = 'a: &a ["x","x","x","x","x","x","x","x","x"]\n';
      let prev = 'a';
      for (const n of 'bcdefghi') {
        s += `${n}: &${n} [${Array(9).fill(`*${prev}`).join(',')}]\n`;
        prev = n;
      }
      return `${s}jobs: [*${prev}]\n`;
    }
    case 1:
      return `jobs: ${'['.repeat(rng.int(1000, 20000))}`;
    case 2:
      return Buffer.from(Array.from({ length: 512 }, () => rng.int(0, 255))).toString('latin1');
    case 3:
      return '';
    case 4:
      return 'jobs:\n  - name: a\n    cron: "* * * * *"\n    shell: x\n    shell: y\n';
    case 5:
      return `jobs:\n  - name: ${'n'.repeat(100_000)}\n    every: 1h\n    shell: x\n`;
    case 6:
      return 'jobs: !!js/function "function(){}"\n';
    default:
      return 'jobs: []\n---\njobs: []\n';
  }
}
