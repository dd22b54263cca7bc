// Firing precision: how late each target starts after its scheduled instant. 10,000 jobs
// (`every` 50 s, starts staggered 5 ms apart, so about 200 firings per second, evenly)
// call a no-op HTTP server on 127.0.0.1, which notes when each request arrives and the
// X-Tock-Scheduled-At it carries. Beside the daemon, a bare Node timer loop aims at the
// same instants: its lateness is the floor this machine sets in the same minute.

import { spawn } from 'node:child_process';
import fs from 'node:fs';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import type { Figure, SectionResult } from './lib/figures.js';
import { startTargetServer, type Arrival } from './lib/server.js';
import { ms, count, summarize, type Summary } from './lib/stats.js';
import { iso, readLog, sandbox, sleep, startDaemon, tockOk, waitForLog, wallNow, writeJobsFile } from './lib/tock.js';
import { formatProfile, newestProfile, summarizeProfile } from './lib/profile.js';

const TIMER_LOOP = path.join(path.dirname(fileURLToPath(import.meta.url)), 'timer-loop.js');

export interface PrecisionOptions {
  jobs: number;
  perSecond: number;
  durationS: number;
  /** Firings before the window: the daemon's first seconds (first fetch loads undici, JIT) are reported apart. */
  warmupS: number;
  profile: boolean;
}

export async function precision(o: PrecisionOptions): Promise<SectionResult> {
  const sb = sandbox('precision');
  const server = await startTargetServer();
  const step = 1000 / o.perSecond;
  const periodS = o.jobs / o.perSecond;
  try {
    const first = Math.ceil((wallNow() + 15_000) / 1000) * 1000;
    const file = path.join(sb.dir, 'jobs.yaml');
    const jobs = Array.from({ length: o.jobs }, (_, i) => ({
      name: `p${String(i).padStart(6, '0')}`,
      every: `${periodS}s`,
      start: iso(first + i * step),
      http: server.url,
    }));
    writeJobsFile(file, jobs);
    const applied = tockOk(sb, ['apply', file]);
    const profileDir = o.profile ? path.join(sb.dir, 'profile') : undefined;
    const daemon = startDaemon(sb, { profileDir });
    await waitForLog(daemon, 'started', 30_000);
    if (wallNow() > first - 1000) throw new Error('the daemon was not up a second before the first firing; raise the lead time');
    const warm = Math.round(o.warmupS * o.perSecond);
    const instants = Math.round(o.durationS * o.perSecond);
    const timer = timerLoop(first, step, warm + instants);
    await sleep(first + (o.warmupS + o.durationS) * 1000 - wallNow() + 3000);
    const arrivals = await server.dump();
    await daemon.stop();
    const timerAll = await timer;
    const timerLate = summarize(timerAll.slice(warm));
    const window = { from: first + warm * step, to: first + (warm + instants) * step };
    const tock = lateness(arrivals, window);
    const warmup = lateness(arrivals, { from: first, to: window.from }).summary;
    fs.writeFileSync(path.join(sb.dir, 'lateness.json'), JSON.stringify({ tock: tock.series, timer: timerAll, first, step }));
    const fired = firedLateness(readLog(daemon.log), window);
    const notes = [
      `Precision: ${count(o.jobs)} jobs, every ${periodS}s, ${o.perSecond} firings/s; window ${o.durationS}s (${count(instants)} instants) after ${o.warmupS}s of warm-up; apply took ${ms(applied.ms, 0)}.`,
      `  tock, at the target:       ${describe(tock.summary)}; ${count(tock.summary.n)} of ${count(instants)} delivered, ${tock.duplicates} duplicate(s)`,
      `  tock, at its "fired" log:  ${describe(fired)} (claim committed, before the request; ms resolution)`,
      `  bare timer loop:           ${describe(timerLate)}`,
      `  tock in the ${o.warmupS} s before the window (its first firings): ${describe(warmup)}`,
      `  when the slowest 1% happened (s into the window: count): ${spikes(tock.series, window.from)}`,
      `  ${shared(tock.series, timerAll, first, step, timerLate.p99 + 5)}`,
      `  per 10 s of the window, p99 of tock / of the bare timer (ms): ${perTen(tock.series, timerAll, first, step, window.from)}`,
    ];
    if (profileDir) {
      const prof = newestProfile(profileDir);
      if (prof) notes.push(`Daemon CPU profile during the precision run (${prof}):\n${formatProfile(summarizeProfile(prof))}`);
    }
    return { figures: figures(tock.summary, timerLate, instants), notes };
  } finally {
    await server.stop();
  }
}

function timerLoop(first: number, step: number, n: number): Promise<number[]> {
  const child = spawn(process.execPath, [TIMER_LOOP, String(first), String(step), String(n)], { stdio: ['ignore', 'pipe', 'inherit'] });
  let out = '';
  child.stdout.on('data', (c: Buffer) => (out += c.toString()));
  return new Promise((resolve, reject) =>
    child.once('exit', (code) => (code === 0 ? resolve(JSON.parse(out) as number[]) : reject(new Error(`timer loop exited ${code}`)))),
  );
}

/** Lateness per occurrence at the target (first arrival of each key), within the window. */
function lateness(arrivals: Arrival[], w: { from: number; to: number }) {
  const first = new Map<string, [number, number]>();
  let duplicates = 0;
  for (const a of arrivals) {
    if (a.scheduledAt === null || a.key === null || a.scheduledAt < w.from || a.scheduledAt >= w.to) continue;
    if (first.has(a.key)) duplicates++;
    else first.set(a.key, [a.scheduledAt, a.at - a.scheduledAt]);
  }
  const series = [...first.values()].sort((a, b) => a[0] - b[0]);
  return { summary: summarize(series.map(([, late]) => late)), duplicates, series };
}

/**
 * Of tock's firings later than `limit`, how many fell where the bare timer loop was also
 * more than 5 ms late (within two instants): stalls of the whole machine, not of tock.
 */
function shared(series: [number, number][], timer: number[], first: number, step: number, limit: number): string {
  const slow = series.filter(([, late]) => late > limit);
  const both = slow.filter(([at]) => {
    const i = Math.round((at - first) / step);
    return timer.slice(Math.max(0, i - 2), i + 3).some((late) => late > 5);
  });
  return `${slow.length} firing(s) later than the timer's p99 + 5 ms (${ms(limit, 1)}); ${both.length} of them while the bare timer loop was also > 5 ms late (machine stalls)`;
}

function perTen(series: [number, number][], timer: number[], first: number, step: number, from: number): string {
  const buckets = new Map<number, { tock: number[]; timer: number[] }>();
  const bucket = (at: number) => {
    const k = Math.floor((at - from) / 10_000);
    if (!buckets.has(k)) buckets.set(k, { tock: [], timer: [] });
    return buckets.get(k)!;
  };
  for (const [at, late] of series) bucket(at).tock.push(late);
  timer.forEach((late, i) => {
    const at = first + i * step;
    if (at >= from) bucket(at).timer.push(late);
  });
  return [...buckets.entries()]
    .sort((a, b) => a[0] - b[0])
    .map(([k, b]) => `${k * 10}s ${summarize(b.tock).p99.toFixed(1)}/${summarize(b.timer).p99.toFixed(1)}`)
    .join(', ');
}

/** The seconds of the window in which the slowest 1% of firings fell: periodic work shows as a rhythm. */
function spikes(series: [number, number][], from: number): string {
  const slow = [...series].sort((a, b) => b[1] - a[1]).slice(0, Math.max(1, Math.ceil(series.length / 100)));
  const bySecond = new Map<number, number>();
  for (const [at] of slow) {
    const s = Math.floor((at - from) / 1000);
    bySecond.set(s, (bySecond.get(s) ?? 0) + 1);
  }
  return [...bySecond.entries()]
    .sort((a, b) => a[0] - b[0])
    .map(([s, n]) => `${s}s:${n}`)
    .join(' ');
}

/** From the daemon's `fired` lines: `<logged at> fired <job> #<id> <scheduled ISO> (...)`. */
function firedLateness(lines: ReturnType<typeof readLog>, w: { from: number; to: number }): Summary {
  const late: number[] = [];
  for (const l of lines) {
    if (l.event !== 'fired') continue;
    const scheduled = Date.parse(l.text.split(' ')[2] ?? '');
    if (scheduled >= w.from && scheduled < w.to) late.push(l.at - scheduled);
  }
  return summarize(late);
}

function describe(s: Summary): string {
  return `median ${ms(s.median, 2)}, p99 ${ms(s.p99, 2)}, max ${ms(s.max, 1)} (n=${count(s.n)})`;
}

function figures(tock: Summary, timer: Summary, expected: number): Figure[] {
  const delta = tock.p99 - timer.p99;
  return [
    {
      section: 'precision',
      name: 'firing lateness, median',
      value: ms(tock.median, 2),
      baseline: `bare timer ${ms(timer.median, 2)}`,
      compare: `+${ms(tock.median - timer.median, 2)}`,
      target: '-',
    },
    {
      section: 'precision',
      name: 'firing lateness, p99',
      value: ms(tock.p99, 2),
      baseline: `bare timer ${ms(timer.p99, 2)}`,
      compare: `${delta >= 0 ? '+' : ''}${ms(delta, 2)}`,
      target: '<= +5 ms',
      met: delta <= 5,
      miss: delta > 5 ? `${ms(delta - 5, 2)} over` : undefined,
    },
    {
      section: 'precision',
      name: 'firings delivered in the window',
      value: count(tock.n),
      baseline: `${count(expected)} scheduled`,
      compare: `${((tock.n / expected) * 100).toFixed(2)}%`,
      target: 'all',
      met: tock.n === expected,
      miss: tock.n < expected ? `${count(expected - tock.n)} missing` : undefined,
    },
  ];
}
