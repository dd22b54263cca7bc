// Clock trouble, with libfaketime moving the wall clock of the real daemon and CLI (the
// monotonic clock stays real, as when an operator or NTP steps the clock):
// - jumps forward and back while the daemon runs (and a kill -9 + restart while the clock
//   is behind): nothing fires twice, a skipped span goes to each job's catch-up policy,
//   and a jump back replays nothing already claimed;
// - DST transitions in several zones, the daemon running across each: wall-clock jobs
//   follow Vixie cron (a repeated hour fires once, a skipped time fires at the end of the
//   gap), elapsed-time jobs fire every second in both instances of a repeated hour.
// Expected firings are worked out here from Intl's zone data, not from tock's code.

import {
  Sandbox,
  countBy,
  fakeClockEnv,
  faketime,
  instantOfKey,
  iso,
  records,
  row,
  setFakeOffset,
  sleep,
  waitFor,
  type Ctx,
  type HistoryOcc,
  type Row,
} from './lib.js';

const S = 'clock';

export async function clock(ctx: Ctx): Promise<Row[]> {
  const ft = faketime(ctx.note);
  if (!ft.lib) {
    return [
      row(S, 'jumps', 'wall clock moved with libfaketime', ft.why!, 'skip'),
      row(S, 'DST', 'daemon run across DST transitions with libfaketime', ft.why!, 'skip'),
    ];
  }
  const zones = ctx.short ? TRANSITIONS.slice(0, 3) : TRANSITIONS;
  const [jumpRows, ...dst] = await Promise.all([jumps(ctx, ft.lib), ...zones.map((t) => acrossDst(ctx, ft.lib!, t))]);
  return [...jumpRows!, ...dst.flat()];
}

// ---- jumps -------------------------------------------------------------------------------

interface Phase {
  ms: number;
  offset: number;
  restartMidway?: boolean;
}

interface JumpJob {
  name: string;
  args: string[];
  policy: 'skip' | 'latest' | 'all';
  stepMs: number;
}

const JUMP_JOBS: JumpJob[] = [
  { name: 'latest', args: ['--cron', '* * * * * *', '--delivery', 'at-least-once'], policy: 'latest', stepMs: 1000 },
  { name: 'all', args: ['--cron', '*/2 * * * * *', '--delivery', 'exactly-once', '--catchup', 'all', '--catchup-limit', '10000'], policy: 'all', stepMs: 2000 },
  { name: 'skip', args: ['--cron', '* * * * * *', '--delivery', 'at-most-once'], policy: 'skip', stepMs: 1000 },
  { name: 'every', args: ['--every', '3s', '--delivery', 'at-least-once', '--catchup', 'all', '--catchup-limit', '10000'], policy: 'all', stepMs: 3000 },
];

async function jumps(ctx: Ctx, lib: string): Promise<Row[]> {
  const sb = new Sandbox(`${S}-jumps`);
  let ok = false;
  try {
    const offsetFile = sb.path('faketime');
    setFakeOffset(offsetFile, 0);
    const env = fakeClockEnv(lib, offsetFile);
    const log = sb.path('executions.log');
    for (const j of JUMP_JOBS) {
      await sb.ok(['add', j.name, ...j.args, '--overlap', 'allow', '--shell', `echo "$TOCK_IDEMPOTENCY_KEY" >> ${log}`], { env });
    }
    const big = ctx.short ? 40 : 600;
    // forward by `big`, back by 25 s (with a crash + restart while behind), forward past everything again
    const phases: Phase[] = [
      { ms: 5_000, offset: 0 },
      { ms: 6_000, offset: big },
      { ms: 8_000, offset: big - 25 - 6, restartMidway: true },
      { ms: 6_000, offset: big + 30 },
    ];
    let d = sb.daemon([], env);
    await d.ready();
    const daemons = [d];
    const spans: { from: number; to: number; kind: 'forward' | 'back' }[] = [];
    const live: { from: number; to: number }[] = [];
    let maxFake = Date.now();
    for (const [i, p] of phases.entries()) {
      const at = Date.now();
      if (i > 0) {
        const before = at + phases[i - 1]!.offset * 1000;
        setFakeOffset(offsetFile, p.offset);
        const after = at + p.offset * 1000;
        if (after > maxFake) spans.push({ from: Math.max(maxFake, before), to: after, kind: 'forward' });
        else spans.push({ from: after, to: before, kind: 'back' });
      }
      if (p.restartMidway) {
        await sleep(p.ms / 2);
        await d.kill9();
        d = sb.daemon([], env);
        daemons.push(d);
        await sleep(p.ms / 2);
      } else {
        await sleep(p.ms);
      }
      const end = Date.now() + p.offset * 1000;
      if (end > maxFake) live.push({ from: Math.max(maxFake, at + p.offset * 1000), to: end });
      maxFake = Math.max(maxFake, end);
    }
    // Catch-up runs hundreds of targets after the big jump: on a loaded machine that takes
    // longer than the phases last. What is judged is that each ran, not how fast, so wait
    // (bounded) for the queued catch-ups to end before reading the history.
    await sleep(1_500);
    let history: HistoryOcc[] = [];
    await waitFor(async () => {
      history = await sb.history([], env);
      return !history.some((o) => o.origin === 'catchup' && (o.state === 'pending' || o.state === 'running'));
    }, 120_000, 1_000);
    const unexpected = daemons.filter((x) => !x.killedByUs && !x.alive);
    const stopCode = await d.stop();
    const clockLines = daemons.flatMap((x) => x.lines('clock'));

    const execs = countBy(records(log), (l) => l[0]!);
    const twice = [...execs].filter(([, n]) => n > 1).map(([k]) => k);
    const forward = spans.filter((s) => s.kind === 'forward');
    const back = spans.filter((s) => s.kind === 'back');
    const problems: string[] = [];
    const counts = { executed: 0, missed: 0, instants: 0 };
    for (const j of JUMP_JOBS) {
      const occs = history.filter((o) => o.job === j.name);
      for (const s of forward) checkSpan(j, occs, execs, s.from + 1_500, s.to - 1_500, problems, counts);
      for (const l of live) checkLive(j, occs, execs, l.from + 1_500, l.to - 1_000, problems);
    }
    // A jump back (and the restart while behind) must not run again what was already claimed.
    const replayed = twice.filter((k) => back.some((b) => instantOfKey(k) >= b.from && instantOfKey(k) <= b.to));
    ok = problems.length === 0 && twice.length === 0 && unexpected.length === 0 && stopCode === 0;
    const tried = (kind: string) =>
      `jobs with catch-up skip, latest, all (1/s, 1/2s, every 3s); clock ${kind}`;
    const fwdOk = problems.length === 0;
    return [
      row(
        S,
        'jump forward',
        tried(`+${big}s; later, after a jump back of 31s, +61s (${Math.round(((forward[1]?.to ?? 0) - (forward[1]?.from ?? 0)) / 1000)}s past the last claimed instant)`),
        `${forward.length} jumps, ${counts.instants} skipped instants: ${counts.executed} executed, ${counts.missed} recorded missed; ` +
          (fwdOk ? 'every job followed its catch-up policy' : `policy broken: ${problems.slice(0, 3).join('; ')}${problems.length > 3 ? `; +${problems.length - 3} more` : ''}`) +
          `; daemon log: ${clockLines.filter((l) => /forward/.test(l)).length} "clock jumped forward" lines`,
        fwdOk,
      ),
      row(
        S,
        'jump back',
        tried(`-${25 + 6}s, kill -9 and restart while behind`),
        `executed twice: ${twice.length}${twice.length ? ` (e.g. ${twice[0]})` : ''}, of which in the span the clock went back over: ${replayed.length}; ` +
          `daemon log: ${clockLines.filter((l) => /back/.test(l)).length} "clock jumped back" lines; unexpected exits ${unexpected.length}; SIGTERM exit ${stopCode}`,
        twice.length === 0 && unexpected.length === 0 && stopCode === 0,
      ),
    ];
  } finally {
    sb.cleanup(ctx.keep || !ok);
  }
}

function grid(from: number, to: number, step: number): number[] {
  const out: number[] = [];
  for (let t = Math.ceil(from / step) * step; t <= to; t += step) out.push(t);
  return out;
}

/** Instants inside a span the clock jumped over: handled by the catch-up policy, never run twice. */
function checkSpan(
  j: JumpJob,
  occs: HistoryOcc[],
  execs: Map<string, number>,
  from: number,
  to: number,
  problems: string[],
  counts: { executed: number; missed: number; instants: number },
): void {
  if (to <= from) return;
  const instants = grid(from, to, j.stepMs);
  // `every 3s` is anchored at the job's creation, not on the 3 s grid: take its instants from history.
  const inSpan = occs.filter((o) => Date.parse(o.scheduled_at) >= from && Date.parse(o.scheduled_at) <= to);
  const executed = inSpan.filter((o) => execs.get(o.idempotency_key));
  const missed = inSpan.filter((o) => o.state === 'missed');
  counts.instants += j.name === 'every' ? inSpan.length : instants.length;
  counts.executed += executed.length;
  counts.missed += missed.length;
  const where = `${j.name} (catchup ${j.policy}) over ${iso(from)}..${iso(to)}`;
  if (j.policy === 'skip' && executed.length > 0) problems.push(`${where}: ${executed.length} executed (${executed.map((o) => o.trigger)[0]})`);
  if (j.policy === 'latest' && executed.length > 1) problems.push(`${where}: ${executed.length} executed, expected at most 1 (the latest)`);
  if (j.policy === 'all') {
    const expected = j.name === 'every' ? Math.floor((to - from) / j.stepMs) : instants.length;
    if (executed.length < expected) problems.push(`${where}: ${executed.length} of ${expected} executed`);
    const notCatchup = executed.filter((o) => o.origin !== 'catchup');
    if (notCatchup.length) problems.push(`${where}: ${notCatchup.length} ran as "${notCatchup[0]!.origin}", not catch-up`);
  }
  if (j.policy !== 'all' && missed.length + executed.length < instants.length) {
    problems.push(`${where}: only ${missed.length} missed + ${executed.length} executed of ${instants.length} instants recorded`);
  }
}

/** Instants in phases the daemon watched: each executed exactly once. */
function checkLive(j: JumpJob, occs: HistoryOcc[], execs: Map<string, number>, from: number, to: number, problems: string[]): void {
  if (j.name === 'every' || to <= from) return;
  for (const t of grid(from, to, j.stepMs)) {
    const key = `${j.name}@${iso(t)}`;
    if ((execs.get(key) ?? 0) !== 1) {
      const o = occs.find((x) => x.idempotency_key === key);
      problems.push(`${key} (watched) executed ${execs.get(key) ?? 0} times, ${o?.state ?? 'no record'}`);
    }
  }
}

// ---- DST ---------------------------------------------------------------------------------

interface Transition {
  zone: string;
  at: string;
}

/** Real transitions of 2026 (checked against Intl at run time; a mismatch is reported, not guessed). */
const TRANSITIONS: Transition[] = [
  { zone: 'America/New_York', at: '2026-11-01T06:00:00Z' }, // fall back 01:59:59 EDT -> 01:00 EST
  { zone: 'America/New_York', at: '2026-03-08T07:00:00Z' }, // spring forward 01:59:59 EST -> 03:00 EDT
  { zone: 'Australia/Lord_Howe', at: '2026-04-04T15:00:00Z' }, // fall back by 30 min: 02:00 -> 01:30
  { zone: 'Europe/Berlin', at: '2026-10-25T01:00:00Z' }, // fall back 03:00 CEST -> 02:00 CET
  { zone: 'Europe/Berlin', at: '2026-03-29T01:00:00Z' }, // spring forward 02:00 CET -> 03:00 CEST
  { zone: 'Australia/Lord_Howe', at: '2026-10-03T15:30:00Z' }, // spring forward by 30 min: 02:00 -> 02:30
  { zone: 'Pacific/Chatham', at: '2026-04-04T14:00:00Z' }, // fall back 03:45 -> 02:45 (+13:45 -> +12:45)
];

const HALF_WINDOW_MS = 15_000;

async function acrossDst(ctx: Ctx, lib: string, tr: Transition): Promise<Row[]> {
  const at = Date.parse(tr.at);
  const o1 = offsetMin(tr.zone, at - 1000);
  const o2 = offsetMin(tr.zone, at);
  const kind = o2 < o1 ? 'fall back' : 'spring forward';
  const label = `DST ${tr.zone} ${kind} ${tr.at.slice(0, 16)}Z`;
  if (o1 === o2) return [row(S, label, '-', `no transition at ${tr.at} in this machine's zone data`, false)];
  const sb = new Sandbox(`${S}-dst-${tr.zone.replace(/\W/g, '')}-${at}`);
  let ok = false;
  try {
    const offsetFile = sb.path('faketime');
    // The fake clock starts 20 s before the window opens, time enough to add the jobs and start the daemon.
    const offsetMs = Math.round((at - HALF_WINDOW_MS - 20_000 - Date.now()) / 1000) * 1000;
    setFakeOffset(offsetFile, offsetMs / 1000);
    const env = fakeClockEnv(lib, offsetFile);
    const log = sb.path('executions.log');
    const hb = local(tr.zone, at - 1000).hour;
    const ha = local(tr.zone, at).hour;
    // A wall-clock time inside the gap (spring forward): 10 minutes after the gap opens.
    const gapStart = local(tr.zone, at - 1000);
    const gapWall = { hour: gapStart.hour, minute: (gapStart.minute + 1 + 10) % 60 };
    if (gapStart.minute + 1 + 10 >= 60) gapWall.hour = (gapWall.hour + 1) % 24;
    const jobs: { name: string; cron: string; expected: (t: number) => boolean }[] = [
      { name: 'elapsed', cron: '* * * * * *', expected: () => true },
      { name: `hour${hb}`, cron: `* * ${hb} * * *`, expected: (t) => wallMatch(tr.zone, at, o1, o2, t, (l) => l.hour === hb) },
    ];
    if (ha !== hb) jobs.push({ name: `hour${ha}`, cron: `* * ${ha} * * *`, expected: (t) => wallMatch(tr.zone, at, o1, o2, t, (l) => l.hour === ha) });
    if (kind === 'spring forward') {
      jobs.push({ name: 'in-gap', cron: `0 ${gapWall.minute} ${gapWall.hour} * * *`, expected: (t) => t === at });
    }
    for (const j of jobs) {
      await sb.ok(['add', j.name, '--cron', j.cron, '--tz', tr.zone, '--overlap', 'allow', '--shell', `echo "$TOCK_IDEMPOTENCY_KEY" >> ${log}`], { env });
    }
    const d = sb.daemon([], env);
    await sleep(at + HALF_WINDOW_MS + 2_000 - (Date.now() + offsetMs)); // until the fake clock is past the window
    const history = await sb.history([], env);
    const alive = d.alive;
    await d.stop();
    const execs = countBy(records(log), (l) => l[0]!);
    const from = at - HALF_WINDOW_MS;
    const to = at + HALF_WINDOW_MS;
    const problems: string[] = [];
    let expectedCount = 0;
    for (const j of jobs) {
      const want = grid(from, to, 1000).filter(j.expected);
      expectedCount += want.length;
      const got = [...execs].filter(([k]) => k.startsWith(`${j.name}@`) && instantOfKey(k) >= from && instantOfKey(k) <= to);
      const extra = got.filter(([k]) => !want.includes(instantOfKey(k)));
      const missing = want.filter((t) => !execs.get(`${j.name}@${iso(t)}`));
      const twice = got.filter(([, n]) => n > 1);
      const other = history.filter((o) => o.job === j.name && Date.parse(o.scheduled_at) >= from && Date.parse(o.scheduled_at) <= to && !want.includes(Date.parse(o.scheduled_at)));
      if (extra.length) problems.push(`${j.cron}: fired at ${extra.length} unexpected instants (e.g. ${localText(tr.zone, instantOfKey(extra[0]![0]))})`);
      if (missing.length) problems.push(`${j.cron}: did not fire at ${missing.length} expected instants (e.g. ${localText(tr.zone, missing[0]!)})`);
      if (twice.length) problems.push(`${j.cron}: ${twice.length} instants executed twice`);
      if (other.length && !extra.length) problems.push(`${j.cron}: ${other.length} unexpected occurrences recorded (${other[0]!.state})`);
    }
    ok = problems.length === 0 && alive;
    const crons = jobs.map((j) => `'${j.cron}'`).join(', ');
    const found = ok
      ? `${expectedCount} expected firings in ${localText(tr.zone, from)} .. ${localText(tr.zone, to)}, each executed once, nothing else`
      : `${problems.slice(0, 3).join('; ')}${alive ? '' : '; the daemon died'}`;
    return [row(S, label, `daemon across the transition (30 s), ${crons}`, found, ok)];
  } finally {
    sb.cleanup(ctx.keep || !ok);
  }
}

/**
 * Vixie's rule for a wall-clock job at instant t: its local time matches and t is not the
 * second instance of a repeated local time; in a spring-forward gap, matching times that do
 * not exist fire once, at the transition instant.
 */
function wallMatch(zone: string, at: number, o1: number, o2: number, t: number, match: (l: LocalTime) => boolean): boolean {
  if (o2 < o1 && t >= at && t < at + (o1 - o2) * 60_000) return false; // second instance
  if (match(local(zone, t))) return true;
  if (o2 > o1 && t === at) {
    // Any wall time in the gap [local(at - 1s) + 1s, local(at)) that matches fires at `at`.
    for (let w = at; w < at + (o2 - o1) * 60_000; w += 60_000) if (match(local(zone, w, o1))) return true;
  }
  return false;
}

interface LocalTime {
  hour: number;
  minute: number;
  second: number;
}

const formatters = new Map<string, Intl.DateTimeFormat>();

function local(zone: string, t: number, fixedOffsetMin?: number): LocalTime {
  if (fixedOffsetMin !== undefined) {
    const d = new Date(t + fixedOffsetMin * 60_000);
    return { hour: d.getUTCHours(), minute: d.getUTCMinutes(), second: d.getUTCSeconds() };
  }
  let f = formatters.get(zone);
  if (!f) {
    f = new Intl.DateTimeFormat('en-US', { timeZone: zone, hourCycle: 'h23', hour: '2-digit', minute: '2-digit', second: '2-digit' });
    formatters.set(zone, f);
  }
  const parts = Object.fromEntries(f.formatToParts(new Date(t)).map((p) => [p.type, p.value]));
  return { hour: Number(parts.hour), minute: Number(parts.minute), second: Number(parts.second) };
}

function offsetMin(zone: string, t: number): number {
  const f = new Intl.DateTimeFormat('en-US', { timeZone: zone, timeZoneName: 'longOffset' });
  const name = f.formatToParts(new Date(t)).find((p) => p.type === 'timeZoneName')!.value; // GMT+10:30
  const m = /GMT([+-])(\d{2}):?(\d{2})?/.exec(name);
  if (!m) return 0;
  return (m[1] === '-' ? -1 : 1) * (Number(m[2]) * 60 + Number(m[3] ?? 0));
}

function localText(zone: string, t: number): string {
  const l = local(zone, t);
  const o = offsetMin(zone, t);
  const off = `${o < 0 ? '-' : '+'}${String(Math.floor(Math.abs(o) / 60)).padStart(2, '0')}:${String(Math.abs(o) % 60).padStart(2, '0')}`;
  return `${[l.hour, l.minute, l.second].map((n) => String(n).padStart(2, '0')).join(':')}${off}`;
}
