// The daemon's policies end to end (SPEC §4, §5): real `tock daemon` processes on a real
// SQLite store, shell targets that append marker lines (key, attempt, nanosecond clock) to
// files in the sandbox, and assertions on those files and on `tock history --json`.
// Timing is checked in ranges with generous margins: the machine may be busy.

import { after, before, describe, test } from 'node:test';
import assert from 'node:assert/strict';
import fs from 'node:fs';
import path from 'node:path';
import { exited, sandbox, tock, tockSpawn, waitFor, writeFile, type Sandbox } from './helpers/cli.js';
import type { HistoryOcc } from './helpers/store-env.js';

type Daemon = ReturnType<typeof tockSpawn> & { startedAt: number };

type Occ = HistoryOcc;

/** One line a target wrote: `start|end <key> <attempt> <ns since epoch>`. */
interface Mark {
  what: string;
  key: string;
  attempt: number;
  at: number;
}

/** One execution of a target, from its start line to its end line (if it wrote one). */
interface Run {
  key: string;
  attempt: number;
  start: number;
  end?: number;
}

const SEC = 1000;
const sleep = (ms: number) => new Promise<void>((r) => setTimeout(r, Math.max(0, ms)));
const sleepUntil = (t: number) => sleep(t - Date.now());
const ms = (iso: string) => Date.parse(iso);
const iso = (t: number) => new Date(t).toISOString();
/** A whole second at least `lead` ms ahead: jobs start there, once the daemons are watching. */
const wholeSecondAfter = (lead: number) => Math.ceil((Date.now() + lead) / SEC) * SEC;
/** The instant an idempotency key names (`job@2026-...Z`). */
const keyInstant = (key: string) => ms(key.slice(key.indexOf('@') + 1));

/** A sandbox with the daemons started in it; cleanup kills whatever is left, targets included. */
class World {
  readonly sb: Sandbox = sandbox();
  readonly daemons: Daemon[] = [];

  file(name: string): string {
    return path.join(this.sb.dir, name);
  }

  async daemon(args: string[] = []): Promise<Daemon> {
    const child = tockSpawn(this.sb, ['daemon', ...args]);
    const d = Object.assign(child, { startedAt: 0 });
    this.daemons.push(d);
    const line = await waitFor(
      `daemon ${child.pid} to start`,
      () => {
        if (child.exitCode !== null) throw new Error(`daemon exited with ${child.exitCode}:\n${child.output()}`);
        return /^(\S+) started /m.exec(child.output()) ?? undefined;
      },
      15_000,
      50,
    );
    d.startedAt = ms(line[1]);
    return d;
  }

  /** Sends a signal and waits for the daemon to exit; fails if it is still up after `withinMs`. */
  async stop(d: Daemon, signal: NodeJS.Signals = 'SIGTERM', withinMs = 20_000): Promise<{ code: number | null; tookMs: number }> {
    const t0 = Date.now();
    d.kill(signal);
    const code = await Promise.race([exited(d), sleep(withinMs).then(() => 'timeout' as const)]);
    assert.notEqual(code, 'timeout', `daemon ${d.pid} still running ${withinMs} ms after ${signal}:\n${d.output()}`);
    return { code: code as number | null, tookMs: Date.now() - t0 };
  }

  /** Every occurrence (of one job), oldest scheduled first. */
  history(job?: string): Occ[] {
    const r = tock(this.sb, ['history', ...(job === undefined ? [] : [job]), '--json', '--limit', '1000000']);
    assert.equal(r.status, 0, r.stderr);
    return (r.json() as Occ[]).sort((a, b) => ms(a.scheduled_at) - ms(b.scheduled_at) || a.id - b.id);
  }

  /** Applies jobs in one `tock apply` (JSON is YAML), so they all exist before their start. */
  apply(jobs: Record<string, unknown>[]): void {
    const file = writeFile(this.sb, `apply-${Date.now()}.yaml`, JSON.stringify({ jobs }, null, 2));
    const r = tock(this.sb, ['apply', file]);
    assert.equal(r.status, 0, r.stderr);
  }

  add(args: string[]): void {
    const r = tock(this.sb, ['add', ...args]);
    assert.equal(r.status, 0, r.stderr);
  }

  marks(file: string): Mark[] {
    const p = this.file(file);
    if (!fs.existsSync(p)) return [];
    return fs
      .readFileSync(p, 'utf8')
      .split('\n')
      .filter(Boolean)
      .map((line) => {
        const [what, key, attempt, ns] = line.split(' ');
        return { what, key, attempt: Number(attempt), at: Number(BigInt(ns) / 1000n) / 1000 };
      });
  }

  runs(file: string): Run[] {
    const out: Run[] = [];
    for (const m of this.marks(file)) {
      if (m.what === 'start') out.push({ key: m.key, attempt: m.attempt, start: m.at });
      else {
        const r = out.find((x) => x.key === m.key && x.attempt === m.attempt && x.end === undefined);
        if (r) r.end = m.at;
      }
    }
    // Firings are claimed a little ahead of time; their targets must still never start early.
    for (const r of out) {
      const due = keyInstant(r.key);
      if (Number.isFinite(due)) assert.ok(r.start >= due, `${r.key} attempt ${r.attempt} started ${(due - r.start).toFixed(3)} ms early`);
    }
    return out.sort((a, b) => a.start - b.start);
  }

  /**
   * A shell target: records its process group (for cleanup), writes a start line, sleeps,
   * writes an end line. With `firstOnly`, only attempt 1 sleeps (a re-run is quick).
   */
  target(file: string, sleepS = 0, firstOnly = false): string {
    const f = this.file(file);
    const line = (what: string) => `echo "${what} $TOCK_IDEMPOTENCY_KEY $TOCK_ATTEMPT $(date +%s%N)" >> '${f}'`;
    const nap = sleepS === 0 ? '' : firstOnly ? `if [ "$TOCK_ATTEMPT" = 1 ]; then sleep ${sleepS}; fi; ` : `sleep ${sleepS}; `;
    return `echo $$ >> '${this.file('pgids')}'; ${line('start')}; ${nap}${line('end')}`;
  }

  async cleanup(): Promise<void> {
    for (const d of this.daemons) if (d.exitCode === null && d.signalCode === null) d.kill('SIGKILL');
    await Promise.all(this.daemons.map((d) => Promise.race([exited(d), sleep(5_000)])));
    const pgids = this.file('pgids');
    if (fs.existsSync(pgids)) {
      for (const pg of fs.readFileSync(pgids, 'utf8').split('\n').filter(Boolean)) {
        try {
          process.kill(-Number(pg), 'SIGKILL');
        } catch {
          // already gone
        }
      }
    }
    this.sb.cleanup();
  }
}

function scenario(fn: (w: World) => Promise<void>) {
  return async () => {
    const w = new World();
    try {
      await fn(w);
    } finally {
      await w.cleanup();
    }
  };
}

function byJob(all: Occ[]): Map<string, Occ[]> {
  const m = new Map<string, Occ[]>();
  for (const o of all) m.set(o.job, [...(m.get(o.job) ?? []), o]);
  return m;
}

/** Every whole second from `from` to the job's last occurrence has exactly one occurrence. */
function assertNoHoles(occ: Occ[], from: number): void {
  assert.ok(occ.length > 0, 'no occurrences at all');
  assert.equal(ms(occ[0].scheduled_at), from, `first occurrence ${occ[0].scheduled_at}, expected ${iso(from)}`);
  occ.forEach((o, i) => assert.equal(o.scheduled_at, iso(from + i * SEC), `${o.job}: instant ${i} missing or doubled`));
}

function startsPerKey(runs: Run[]): Map<string, number> {
  const m = new Map<string, number>();
  for (const r of runs) m.set(r.key, (m.get(r.key) ?? 0) + 1);
  return m;
}

function overlappingPairs(runs: Run[]): [Run, Run][] {
  const out: [Run, Run][] = [];
  for (let i = 0; i < runs.length; i++) {
    for (let j = i + 1; j < runs.length; j++) {
      const a = runs[i];
      const b = runs[j];
      if (b.start < (a.end ?? Infinity) && a.start < (b.end ?? Infinity)) out.push([a, b]);
    }
  }
  return out;
}

const show = (o: Occ) =>
  `${o.scheduled_at} ${o.state} origin=${o.origin} reason=${o.reason} attempts=${JSON.stringify(o.attempts.map((a) => [a.n, a.trigger, a.outcome, a.exit_code]))}`;

// ---- 1. overlap ---------------------------------------------------------------------

describe('overlap: a job firing every second whose target takes 2.5 s, for 6 s', () => {
  let w: World | undefined;
  let S = 0;
  let jobs = new Map<string, Occ[]>();
  let queuedSeen: Occ | undefined;
  const runs = (p: string) => w!.runs(`${p}.log`);

  before(async () => {
    w = new World();
    const d = await w.daemon();
    S = wholeSecondAfter(1500);
    w.apply(
      ['skip', 'allow', 'queue', 'replace'].map((p) => ({
        name: `ov-${p}`,
        cron: '* * * * * *',
        window: { start: iso(S) },
        overlap: p,
        shell: w!.target(`${p}.log`, 2.5),
      })),
    );
    queuedSeen = await waitFor('an occurrence queued (pending) behind a running one', () => w!.history('ov-queue').find((o) => o.state === 'pending'), 15_000, 400);
    await sleepUntil(S + 5_500);
    const { code } = await w.stop(d, 'SIGTERM', 30_000);
    assert.equal(code, 0, d.output());
    jobs = byJob(w.history());
  });
  after(() => w?.cleanup());

  test('skip: later firings are recorded skipped with a reason, and two never run at once', () => {
    const occ = jobs.get('ov-skip')!;
    assertNoHoles(occ, S);
    assert.ok(occ.length >= 5, `only ${occ.length} occurrences`);
    const skipped = occ.filter((o) => o.state === 'skipped');
    assert.ok(skipped.length >= 2, occ.map(show).join('\n'));
    const ran = startsPerKey(runs('skip'));
    for (const o of skipped) {
      assert.ok(o.reason && o.reason.length > 0, `skipped without a reason: ${show(o)}`);
      assert.equal(o.attempts.length, 0, show(o));
      assert.ok(!ran.has(o.idempotency_key), `skipped ${o.idempotency_key} was executed`);
    }
    for (const o of occ.filter((x) => x.state !== 'skipped')) {
      assert.equal(o.state, 'succeeded', show(o));
      assert.equal(ran.get(o.idempotency_key), 1, `${o.idempotency_key} ran ${ran.get(o.idempotency_key)} times`);
    }
    assert.deepEqual(overlappingPairs(runs('skip')), [], 'two executions of a skip job overlapped');
  });

  test('allow: every firing runs, and the executions overlap in time', () => {
    const occ = jobs.get('ov-allow')!;
    assertNoHoles(occ, S);
    const r = runs('allow');
    const ran = startsPerKey(r);
    for (const o of occ) {
      assert.equal(o.state, 'succeeded', show(o));
      assert.equal(ran.get(o.idempotency_key), 1, o.idempotency_key);
    }
    assert.ok(overlappingPairs(r).length >= 2, `expected overlapping executions: ${JSON.stringify(r)}`);
  });

  test('queue: firings wait as pending, then run one after another in scheduled order', () => {
    const occ = jobs.get('ov-queue')!;
    assertNoHoles(occ, S);
    const r = runs('queue');
    assert.deepEqual(overlappingPairs(r), [], 'two executions of a queue job overlapped');
    assert.ok(r.length >= 2, `only ${r.length} executions`);
    const order = r.map((x) => keyInstant(x.key));
    assert.deepEqual(order, [...order].sort((a, b) => a - b), 'not run in scheduled order');
    // The executed ones are the oldest: a queue never jumps ahead.
    assert.deepEqual(
      r.map((x) => x.key),
      occ.slice(0, r.length).map((o) => o.idempotency_key),
    );
    const ran = startsPerKey(r);
    for (const o of occ) {
      if (ran.has(o.idempotency_key)) {
        assert.equal(ran.get(o.idempotency_key), 1);
        assert.equal(o.state, 'succeeded', show(o));
      } else {
        assert.equal(o.state, 'pending', `a queued occurrence not run yet stays pending: ${show(o)}`);
      }
    }
    assert.ok(queuedSeen, 'no occurrence was seen queued');
    const later = occ.find((o) => o.id === queuedSeen!.id)!;
    assert.ok(ms(later.scheduled_at) > S, 'the first firing is not queued');
    assert.equal(later.state, 'succeeded', `seen pending, then: ${show(later)}`);
  });

  test('replace: the running one is stopped (cancelled, failed: replaced) and the new one runs', () => {
    const occ = jobs.get('ov-replace')!;
    assertNoHoles(occ, S);
    assert.ok(occ.length >= 4, `only ${occ.length} occurrences`);
    const r = runs('replace');
    const ran = startsPerKey(r);
    const last = occ[occ.length - 1];
    assert.equal(last.state, 'succeeded', `the last one is not replaced by anything: ${show(last)}`);
    for (const o of occ.slice(0, -1)) {
      assert.equal(o.state, 'failed', `replaced occurrence: ${show(o)}`);
      assert.match(o.reason ?? '', /replac/i, show(o));
      assert.equal(o.attempts.length, 1, `a replaced occurrence is not retried: ${show(o)}`);
      assert.equal(o.attempts[0].outcome, 'cancelled', show(o));
    }
    for (const o of occ) assert.equal(ran.get(o.idempotency_key), 1, `${o.idempotency_key} started ${ran.get(o.idempotency_key) ?? 0} times`);
    assert.ok(r.find((x) => x.key === last.idempotency_key)?.end, 'the last one ran to its end');
  });
});

// ---- 2. catch-up --------------------------------------------------------------------

describe('catch-up after downtime: daemon 2 s, down 4 s, daemon again', () => {
  let w: World | undefined;
  let S = 0;
  let t1 = 0; // SIGTERM to the first daemon
  let t2 = 0; // the second daemon started
  let jobs = new Map<string, Occ[]>();
  let ran = new Map<string, number>();
  const DRAINS = ['cu-drain-1', 'cu-drain-2', 'cu-drain-3', 'cu-drain-4'];
  const policies: Record<string, Record<string, unknown>> = {
    'cu-skip': { catchup: 'skip' },
    'cu-latest': { catchup: 'latest' },
    'cu-all': { catchup: 'all' },
    'cu-limit': { catchup: 'all', catchup_limit: 2 },
    'cu-window': { catchup: 'all', catchup_window: '2500ms' },
  };

  before(async () => {
    w = new World();
    const d1 = await w.daemon();
    S = wholeSecondAfter(1500);
    // The cu-drain jobs have many instants to catch up between them (every is at least 1 s,
    // so four jobs take the place of one every 250ms), so catch-up takes a while and live
    // firings come due meanwhile.
    const drains = DRAINS.map((name) => ({ name, every: '1s', catchup: 'all', window: { start: iso(S) }, shell: w!.target(`${name}.log`) }));
    w.apply([
      ...Object.entries(policies).map(([name, p]) => ({
        name,
        cron: '* * * * * *',
        window: { start: iso(S) },
        shell: w!.target(`${name}.log`),
        ...p,
      })),
      ...drains,
    ]);
    await sleepUntil(S + 2_300);
    t1 = Date.now();
    assert.equal((await w.stop(d1)).code, 0, d1.output());
    await sleep(4_000);
    const d2 = await w.daemon();
    t2 = d2.startedAt;
    await sleepUntil(t2 + 2_500);
    await waitFor('catch-up to drain', () => !w!.history().some((o) => o.origin === 'catchup' && (o.state === 'pending' || o.state === 'running')), 15_000, 400);
    assert.equal((await w.stop(d2)).code, 0, d2.output());
    jobs = byJob(w.history());
    ran = new Map();
    for (const name of [...Object.keys(policies), ...DRAINS]) for (const [k, n] of startsPerKey(w.runs(`${name}.log`))) ran.set(k, n);
  });
  after(() => w?.cleanup());

  /** The common shape: no holes, the gap (origin catchup) between the daemons ±1 instant, nothing run twice. */
  function gapOf(name: string): { occ: Occ[]; gap: Occ[]; executed: Occ[] } {
    const occ = jobs.get(name)!;
    assertNoHoles(occ, S);
    const gap = occ.filter((o) => o.origin === 'catchup');
    const lines = occ.map(show).join('\n');
    for (const o of gap) {
      const t = ms(o.scheduled_at);
      assert.ok(t > t1 - 1_500 && t <= t2 + 1_000, `catch-up outside the downtime (${iso(t1)}..${iso(t2)}):\n${lines}`);
      assert.equal(o.trigger, 'catchup', show(o));
    }
    for (const o of occ) {
      const t = ms(o.scheduled_at);
      if (t > t1 + 1_000 && t < t2 - 1_000) assert.equal(o.origin, 'catchup', `an instant of the downtime: ${show(o)}`);
      if (t < t1 - 1_000 || t > t2 + 1_000) assert.equal(o.origin, 'schedule', `an instant while a daemon ran: ${show(o)}`);
      assert.ok(o.attempts.length <= 1, `executed more than once: ${show(o)}`);
      assert.ok((ran.get(o.idempotency_key) ?? 0) <= 1, `${o.idempotency_key} executed ${ran.get(o.idempotency_key)} times`);
    }
    const expected = (t2 - t1) / SEC;
    assert.ok(gap.length >= Math.floor(expected) - 1 && gap.length <= Math.ceil(expected) + 1, `${gap.length} instants in a ${expected} s gap:\n${lines}`);
    for (const o of gap) {
      if (o.state === 'missed') {
        assert.equal(o.attempts.length, 0, show(o));
        assert.ok(!ran.has(o.idempotency_key), `missed but executed: ${show(o)}`);
        assert.ok(o.reason, `missed without a reason: ${show(o)}`);
      } else {
        assert.equal(o.state, 'succeeded', show(o));
        assert.equal(ran.get(o.idempotency_key), 1, `${o.idempotency_key} ran ${ran.get(o.idempotency_key) ?? 0} times`);
      }
    }
    return { occ, gap, executed: gap.filter((o) => o.state === 'succeeded') };
  }

  test('skip: every instant of the gap is recorded missed, none executed', () => {
    const { gap, executed } = gapOf('cu-skip');
    assert.deepEqual(executed.map(show), []);
    assert.ok(gap.every((o) => o.state === 'missed'));
  });

  test('latest: exactly the most recent instant of the gap runs (origin catchup), the older ones are missed', () => {
    const { gap, executed } = gapOf('cu-latest');
    assert.equal(executed.length, 1, gap.map(show).join('\n'));
    assert.equal(executed[0].id, gap[gap.length - 1].id, 'the one executed is the latest');
    assert.ok(gap.slice(0, -1).every((o) => o.state === 'missed'));
  });

  test('all: every instant of the gap runs once, oldest first', () => {
    const { gap, executed } = gapOf('cu-all');
    assert.equal(executed.length, gap.length, gap.map(show).join('\n'));
    const order = w!.runs('cu-all.log').filter((r) => gap.some((o) => o.idempotency_key === r.key)).map((r) => r.key);
    assert.deepEqual(order, gap.map((o) => o.idempotency_key), 'caught-up instants run oldest first');
  });

  test('catchup_limit 2: only the 2 most recent instants of the gap run, the rest are missed', () => {
    const { gap, executed } = gapOf('cu-limit');
    assert.ok(gap.length >= 3, 'the gap is longer than the limit');
    assert.deepEqual(executed.map((o) => o.id), gap.slice(-2).map((o) => o.id), gap.map(show).join('\n'));
    for (const o of gap.slice(0, -2)) assert.match(o.reason ?? '', /limit/, show(o));
  });

  test('catchup_window 2500ms: instants older than the window are missed, newer ones run', () => {
    const { gap, executed } = gapOf('cu-window');
    const lines = `daemon 2 started ${iso(t2)}\n${gap.map(show).join('\n')}`;
    assert.ok(executed.length >= 1 && executed.length < gap.length, lines);
    for (const o of executed) assert.ok(ms(o.scheduled_at) >= t2 - 2_500 - 100, `older than the window yet executed:\n${lines}`);
    for (const o of gap.filter((x) => x.state === 'missed')) {
      assert.ok(ms(o.scheduled_at) < t2 - 1_500, `inside the window yet missed:\n${lines}`);
      assert.match(o.reason ?? '', /window/, show(o));
    }
    // The window cuts by age: what runs is a suffix of the gap.
    assert.deepEqual(executed.map((o) => o.id), gap.slice(gap.length - executed.length).map((o) => o.id));
  });

  test('firings after the restart are not skipped behind catch-up occurrences that are merely pending', () => {
    // SPEC §5: overlap applies "when the previous occurrence of the job is still running";
    // a caught-up occurrence waiting its turn is not running. The cu-drain jobs (every 1s)
    // have ~18 instants to catch up, so live firings come due during the catch-up.
    const drained = DRAINS.flatMap((name) => jobs.get(name)!);
    assert.ok(drained.filter((o) => o.origin === 'catchup' && o.state === 'succeeded').length >= 8, 'cu-drain jobs caught up');
    assert.deepEqual([...ran].filter(([, n]) => n > 1), [], 'an instant executed twice');
    for (const [name, occ] of jobs) {
      for (const o of occ.filter((x) => x.origin === 'schedule' && ms(x.scheduled_at) > t2)) {
        if (o.state === 'skipped') assert.doesNotMatch(o.reason ?? '', /pending/, `${name}: ${show(o)}`);
        else assert.equal(o.state, 'succeeded', `${name}: ${show(o)}`);
      }
    }
  });
});

// ---- 3. several daemons on one store -----------------------------------------------

async function severalDaemons(w: World, k: number): Promise<void> {
  const ds = await Promise.all(Array.from({ length: k }, () => w.daemon()));
  const S = wholeSecondAfter(1500);
  const names = ['m1', 'm2', 'm3', 'm4', 'm5'];
  w.apply(names.map((name) => ({ name, cron: '* * * * * *', window: { start: iso(S) }, shell: w.target(`${name}.log`) })));
  const pids = ds.map((d) => d.pid).sort();
  await waitFor(
    `tock status to list the ${k} daemons`,
    () => {
      const r = tock(w.sb, ['status', '--json']);
      assert.equal(r.status, 0, r.stderr);
      const listed = (r.json().daemons as { kind: string; pid: number }[]).filter((x) => x.kind === 'daemon').map((x) => x.pid).sort();
      return JSON.stringify(listed) === JSON.stringify(pids);
    },
    10_000,
    500,
  );
  await sleepUntil(S + 8_000 + 300);
  const stopAt = Date.now();
  const stopped = await Promise.all(ds.map((d) => w.stop(d)));
  stopped.forEach((s, i) => assert.equal(s.code, 0, `daemon ${i}: ${ds[i].output()}`));
  const status = tock(w.sb, ['status', '--json']).json();
  assert.deepEqual(status.daemons, [], 'stopped daemons are no longer listed');

  const lines = names.flatMap((n) => w.runs(`${n}.log`));
  const ran = startsPerKey(lines);
  const twice = [...ran].filter(([, n]) => n > 1);
  assert.deepEqual(twice, [], 'an occurrence executed more than once');
  const all = byJob(w.history());
  const lastInstant = Math.floor((stopAt - 500) / SEC) * SEC;
  for (const name of names) {
    const occ = all.get(name)!;
    assertNoHoles(occ, S);
    assert.ok(ms(occ[occ.length - 1].scheduled_at) >= lastInstant, `${name}: nothing after ${occ[occ.length - 1].scheduled_at}`);
    for (const o of occ) {
      if (ms(o.scheduled_at) > lastInstant) continue; // fired as the daemons stopped
      assert.equal(o.state, 'succeeded', show(o));
      assert.equal(o.origin, 'schedule', show(o));
      assert.equal(o.attempts.length, 1, show(o));
    }
    for (const o of occ.filter((x) => x.state === 'succeeded')) assert.equal(ran.get(o.idempotency_key), 1, `${o.idempotency_key} in ${name}.log`);
  }
  const known = new Set(w.history().filter((o) => o.state === 'succeeded').map((o) => o.idempotency_key));
  for (const key of ran.keys()) assert.ok(known.has(key), `${key} ran but is not recorded succeeded`);
}

test('2 daemons on one store: 5 jobs every second for 8 s, each occurrence executed exactly once', scenario((w) => severalDaemons(w, 2)));

test('4 daemons on one store: 5 jobs every second for 8 s, each occurrence executed exactly once', scenario((w) => severalDaemons(w, 4)));

// ---- 4. graceful shutdown -----------------------------------------------------------

test(
  'SIGTERM while a 1.5 s target runs: it completes, is succeeded, and the daemon exits 0',
  scenario(async (w) => {
    const d = await w.daemon();
    const S = wholeSecondAfter(1500);
    w.add(['g', '--at', iso(S), '--shell', w.target('g.log', 1.5)]);
    await waitFor('the target to start', () => w.marks('g.log').length > 0, 10_000);
    const { code } = await w.stop(d);
    assert.equal(code, 0, d.output());
    const [o] = w.history('g');
    assert.equal(o.state, 'succeeded', show(o));
    assert.equal(o.attempts.length, 1);
    assert.equal(o.attempts[0].exit_code, 0);
    assert.deepEqual(
      w.marks('g.log').map((m) => m.what),
      ['start', 'end'],
    );
  }),
);

test(
  'SIGTERM with --grace 300ms and a 30 s target: at-least-once is handed back and re-run with its key, at-most-once is abandoned',
  scenario(async (w) => {
    const d = await w.daemon(['--grace', '300ms']);
    const S = wholeSecondAfter(2500);
    w.add(['alo', '--at', iso(S), '--shell', w.target('alo.log', 30, true)]);
    w.add(['amo', '--at', iso(S), '--delivery', 'at-most-once', '--shell', w.target('amo.log', 30)]);
    await waitFor('both targets to start', () => w.marks('alo.log').length > 0 && w.marks('amo.log').length > 0, 10_000);
    const { code, tookMs } = await w.stop(d, 'SIGTERM', 15_000);
    assert.equal(code, 0, d.output());
    assert.ok(tookMs < 10_000, `the daemon waited ${tookMs} ms despite --grace 300ms`);
    const [alo] = w.history('alo');
    assert.equal(alo.state, 'pending', `handed back: ${show(alo)}`);
    assert.equal(alo.lease_owner, null, 'released: no daemon holds it');
    assert.equal(alo.attempts.length, 1);
    assert.equal(alo.attempts[0].outcome, 'cancelled', show(alo));
    const [amo] = w.history('amo');
    assert.equal(amo.state, 'abandoned', show(amo));
    assert.equal(amo.attempts.length, 1);
    assert.equal(amo.attempts[0].outcome, 'cancelled', show(amo));

    const d2 = await w.daemon();
    const done = await waitFor('the handed-back occurrence to succeed', () => w.history('alo').find((o) => o.state === 'succeeded'), 15_000, 400);
    assert.equal(done.id, alo.id);
    assert.equal(done.idempotency_key, alo.idempotency_key);
    assert.deepEqual(done.attempts.map((a) => [a.n, a.outcome]), [[1, 'cancelled'], [2, 'succeeded']]);
    const m = w.marks('alo.log');
    assert.deepEqual(m.map((x) => [x.what, x.key, x.attempt]), [
      ['start', alo.idempotency_key, 1],
      ['start', alo.idempotency_key, 2],
      ['end', alo.idempotency_key, 2],
    ]);
    await sleep(1_000);
    assert.equal(w.history('amo')[0].state, 'abandoned');
    assert.equal(w.marks('amo.log').length, 1, 'an abandoned at-most-once occurrence is never re-run');
    assert.equal((await w.stop(d2)).code, 0, d2.output());
  }),
);

for (const [first, second] of [
  ['SIGTERM', 'SIGINT'],
  ['SIGINT', 'SIGTERM'],
] as const) {
  test(
    `a second signal (${first} then ${second}) stops the daemon at once; the occurrence is recovered later`,
    scenario(async (w) => {
      const d = await w.daemon();
      const S = wholeSecondAfter(1500);
      w.add(['long', '--at', iso(S), '--shell', w.target('long.log', 30, true)]);
      await waitFor('the target to start', () => w.marks('long.log').length > 0, 10_000);
      d.kill(first);
      await waitFor('the daemon to start stopping', () => /stopping/.test(d.output()), 5_000, 50);
      await sleep(300);
      const { tookMs } = await w.stop(d, second, 5_000);
      assert.ok(tookMs < 5_000, `took ${tookMs} ms`);
      assert.deepEqual(w.marks('long.log').map((m) => m.what), ['start'], 'the target did not get to finish');
      // Its lease holder is gone: the next daemon re-runs it with the same key (SPEC §4).
      const d2 = await w.daemon();
      const done = await waitFor('the occurrence to be re-run', () => w.history('long').find((o) => o.state === 'succeeded'), 15_000, 400);
      const keys = w.marks('long.log').map((m) => [m.what, m.key, m.attempt]);
      assert.deepEqual(keys, [
        ['start', done.idempotency_key, 1],
        ['start', done.idempotency_key, 2],
        ['end', done.idempotency_key, 2],
      ]);
      assert.equal((await w.stop(d2)).code, 0, d2.output());
    }),
  );
}

// ---- 5. live changes ----------------------------------------------------------------

test(
  'a job added with tock add --at while the daemon runs fires and succeeds',
  scenario(async (w) => {
    const d = await w.daemon();
    await sleep(700);
    const at = wholeSecondAfter(2000);
    w.add(['once', '--at', iso(at), '--shell', w.target('once.log')]);
    const o = await waitFor('the one-shot job to succeed', () => w.history('once').find((x) => x.state === 'succeeded'), 10_000, 400);
    assert.equal(o.scheduled_at, iso(at));
    assert.equal(o.origin, 'schedule');
    assert.equal(w.runs('once.log').length, 1);
    const job = tock(w.sb, ['show', 'once', '--json']).json();
    assert.equal(job.next_run, null, 'a one-shot job that ran has no next run');
    await sleep(1_200);
    assert.equal(w.history('once').length, 1, 'a one-shot job runs once');
    assert.equal((await w.stop(d)).code, 0, d.output());
  }),
);

test(
  'pause stops an every-second job within a second, resume does not replay the pause, remove stops it',
  scenario(async (w) => {
    const d = await w.daemon();
    w.add(['p', '--cron', '* * * * * *', '--shell', w.target('p.log')]);
    await waitFor('two executions', () => w.runs('p.log').length >= 2, 10_000);
    assert.equal(tock(w.sb, ['pause', 'p']).status, 0);
    const pausedAt = Date.now();
    await sleep(3_500);
    const resumeStart = Date.now();
    assert.equal(tock(w.sb, ['resume', 'p']).status, 0);
    await waitFor('an execution after resume', () => w.runs('p.log').some((r) => keyInstant(r.key) > resumeStart), 5_000);
    await sleep(1_000);
    assert.equal(tock(w.sb, ['remove', 'p']).status, 0);
    const removedAt = Date.now();
    await sleep(2_500);
    assert.equal((await w.stop(d)).code, 0, d.output());

    const occ = w.history('p');
    const lines = occ.map(show).join('\n');
    const inPause = occ.filter((o) => ms(o.scheduled_at) > pausedAt + 1_500 && ms(o.scheduled_at) <= resumeStart);
    assert.deepEqual(inPause.map(show), [], `pause at ${iso(pausedAt)}, resume at ${iso(resumeStart)}`);
    const afterRemove = occ.filter((o) => ms(o.scheduled_at) > removedAt + 1_500);
    assert.deepEqual(afterRemove.map(show), [], `removed at ${iso(removedAt)}`);
    for (const o of occ) assert.equal(o.state, 'succeeded', `nothing missed or skipped:\n${lines}`);
    const r = w.runs('p.log');
    assert.deepEqual(
      r.filter((x) => (x.start > pausedAt + 1_500 && x.start < resumeStart) || x.start > removedAt + 1_500),
      [],
      'the target ran while paused or after removal',
    );
    assert.deepEqual([...startsPerKey(r).values()].filter((n) => n > 1), []);
  }),
);

test(
  'daemon --jobs applies the file at start; SIGHUP after editing it applies the change and keeps tock add jobs',
  scenario(async (w) => {
    const job = (name: string) => `  - name: ${name}\n    cron: "* * * * * *"\n    shell: ${JSON.stringify(w.target(`${name}.log`))}\n`;
    const file = writeFile(w.sb, 'jobs.yaml', `jobs:\n${job('f-keep')}${job('f-drop')}`);
    const d = await w.daemon(['--jobs', file]);
    const names = () => (tock(w.sb, ['list', '--json']).json() as { name: string }[]).map((j) => j.name).sort();
    assert.deepEqual(names(), ['f-drop', 'f-keep'], 'applied at start');
    w.add(['extra', '--cron', '* * * * * *', '--shell', w.target('extra.log')]);
    await waitFor('every job to fire', () => ['f-keep', 'f-drop', 'extra'].every((n) => w.runs(`${n}.log`).length > 0), 10_000);
    writeFile(w.sb, 'jobs.yaml', `jobs:\n${job('f-keep')}${job('f-new')}`);
    d.kill('SIGHUP');
    const hupAt = Date.now();
    await waitFor('the edited file to be applied', () => JSON.stringify(names()) === JSON.stringify(['extra', 'f-keep', 'f-new']), 10_000, 400);
    await waitFor('the new job to fire', () => w.runs('f-new.log').length > 0, 10_000);
    await sleep(2_000);
    assert.equal(d.exitCode, null, 'SIGHUP does not stop the daemon');
    assert.deepEqual(w.runs('f-drop.log').filter((r) => r.start > hupAt + 1_500), [], 'the dropped job still fires');
    assert.ok(w.runs('extra.log').some((r) => r.start > hupAt + 1_500), 'the tock add job stopped firing');
    assert.ok(w.runs('f-keep.log').some((r) => r.start > hupAt + 1_500), 'the kept job stopped firing');
    assert.equal((await w.stop(d)).code, 0, d.output());
  }),
);

// ---- 6. retries ---------------------------------------------------------------------

test(
  'retries in the daemon: fail twice then succeed, fail for good, and at-most-once never retried',
  scenario(async (w) => {
    const d = await w.daemon();
    const S = wholeSecondAfter(2500);
    const counter = w.file('counter');
    const flaky = `n=$(cat '${counter}' 2>/dev/null || echo 0); n=$((n+1)); echo $n > '${counter}'; ${w.target('flaky.log')}; [ "$n" -ge 3 ]`;
    w.add(['flaky', '--at', iso(S), '--retries', '3', '--backoff', '100ms', '--shell', flaky]);
    w.add(['broken', '--at', iso(S), '--retries', '3', '--backoff', '100ms', '--shell', `${w.target('broken.log')}; exit 7`]);
    w.add(['amo', '--at', iso(S), '--delivery', 'at-most-once', '--shell', `${w.target('amo.log')}; exit 7`]);
    const final = (o: Occ | undefined) => o !== undefined && o.state !== 'pending' && o.state !== 'running';
    await waitFor('all three to finish', () => ['flaky', 'broken', 'amo'].every((n) => final(w.history(n)[0])), 20_000, 400);
    await sleep(1_000);

    const [f] = w.history('flaky');
    assert.equal(f.state, 'succeeded', show(f));
    assert.deepEqual(f.attempts.map((a) => [a.n, a.trigger, a.outcome, a.exit_code]), [
      [1, 'schedule', 'failed', 1],
      [2, 'backoff', 'failed', 1],
      [3, 'backoff', 'succeeded', 0],
    ]);
    assert.deepEqual(w.runs('flaky.log').map((r) => [r.key, r.attempt]), [
      [f.idempotency_key, 1],
      [f.idempotency_key, 2],
      [f.idempotency_key, 3],
    ]);

    const [b] = w.history('broken');
    assert.equal(b.state, 'failed', show(b));
    assert.ok(b.reason, 'a failed occurrence says why');
    assert.deepEqual(b.attempts.map((a) => [a.n, a.outcome, a.exit_code]), [
      [1, 'failed', 7],
      [2, 'failed', 7],
      [3, 'failed', 7],
      [4, 'failed', 7],
    ]);
    assert.deepEqual(b.attempts.slice(1).map((a) => a.trigger), ['backoff', 'backoff', 'backoff']);
    assert.deepEqual(w.runs('broken.log').map((r) => [r.key, r.attempt]), [1, 2, 3, 4].map((n) => [b.idempotency_key, n]));

    const [a] = w.history('amo');
    assert.equal(a.state, 'failed', show(a));
    assert.equal(a.attempts.length, 1, show(a));
    assert.equal(w.runs('amo.log').length, 1);
    assert.equal((await w.stop(d)).code, 0, d.output());
  }),
);
