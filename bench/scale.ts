// Scale: 100,000 defined jobs (daily cron, half shell, half HTTP, none due for hours).
// The daemon's time to be ready, its resident memory, its CPU over a minute with nothing
// due; `tock list` and `tock history` latency; then 1,000,000 history rows and
// `tock history <name>`.
//
// Ready: the daemon logs `started` before it loads the jobs (start() logs, then the first
// turn of the loop loads them), so `started` is not the signal. A probe job whose first
// firing falls right after the spawn is: it is overdue the moment the jobs are loaded, so
// its request reaching the local server marks the first instant the daemon fires anything.

import path from 'node:path';
import type { Figure, SectionResult } from './lib/figures.js';
import { cpuSeconds, memoryMb } from './lib/procfs.js';
import { seedHistory } from './lib/seed.js';
import { startTargetServer, type TargetServer } from './lib/server.js';
import { count, median, ms, ratio } from './lib/stats.js';
import { BIN, iso, readLog, sandbox, sleep, startDaemon, timed, tock, tockOk, wallNow, writeJobsFile, type Sandbox } from './lib/tock.js';
import { formatProfile, newestProfile, summarizeProfile } from './lib/profile.js';

export interface ScaleOptions {
  jobs: number;
  historyRows: number;
  idleS: number;
  /** Seconds between ready + 5 s and the idle window. */
  settleS: number;
  cliRuns: number;
  profile: boolean;
}

export async function scale(o: ScaleOptions): Promise<SectionResult> {
  const server = await startTargetServer();
  const sb = sandbox('scale');
  const notes: string[] = [];
  try {
    const applyMs = applyJobs(sb, o.jobs, server.url);
    const d = await daemonFigures(sb, server, o, notes);
    const nodeMs = nodeBaseline(sb, o.cliRuns * 2);
    const list = cliMedian(sb, ['list'], o.cliRuns);
    const recent = cliMedian(sb, ['history', '--limit', '100'], o.cliRuns);
    const seedJobs = Array.from({ length: Math.min(1000, o.jobs) }, (_, i) => jobName(i));
    const perJob = Math.ceil(o.historyRows / seedJobs.length);
    const t0 = performance.now();
    const rows = seedHistory(sb.db, seedJobs, perJob, Date.now());
    notes.push(
      `Scale: ${count(o.jobs)} jobs applied in ${ms(applyMs, 0)} (one \`tock apply\`); ` +
        `${count(rows)} history rows seeded (${seedJobs.length} jobs x ${perJob}) in ${ms(performance.now() - t0, 0)}.`,
    );
    const restart = await startUntilReady(sb, server, 'ready-probe-history');
    await restart.daemon.stop();
    notes.push(`Scale daemon restarted on the store with ${count(rows)} history rows: first firing ${ms(restart.readyMs, 0)} after the spawn.`);
    const named = cliMedian(sb, ['history', seedJobs[0]], o.cliRuns);
    const recentBig = cliMedian(sb, ['history', '--limit', '100'], o.cliRuns);
    const listBig = cliMedian(sb, ['list'], Math.min(3, o.cliRuns));
    if (o.profile) notes.push(profileCli(sb, ['list']), profileCli(sb, ['history', '--limit', '100']));
    const k = `${count(o.jobs)} jobs`;
    const h = `${count(rows)} history rows`;
    return {
      notes,
      figures: [
        ...d,
        limitFigure(
          `daemon ready, ${k}, ${h}`,
          restart.readyMs,
          3000,
          ms(restart.readyMs, 0),
          '3 s',
          '<= 3 s',
          (v) => `${ms(v - 3000, 0)} over`,
        ),
        cli(`\`tock list\`, ${k}`, list, nodeMs),
        cli(`\`tock history --limit 100\`, ${k}`, recent, nodeMs),
        cli(`\`tock history <name>\`, ${h}`, named, nodeMs),
        cli(`\`tock history --limit 100\`, ${h}`, recentBig, nodeMs),
        cli(`\`tock list\`, ${k}, ${h}`, listBig, nodeMs),
      ],
    };
  } finally {
    await server.stop();
  }
}

function jobName(i: number): string {
  return `s${String(i).padStart(6, '0')}`;
}

/** Daily jobs at minutes spread over the day, none within the next three hours. */
function applyJobs(sb: Sandbox, n: number, url: string): number {
  const nowMinute = new Date().getUTCHours() * 60 + new Date().getUTCMinutes();
  const free = 24 * 60 - 180;
  const jobs = Array.from({ length: n }, (_, i) => {
    const minuteOfDay = (nowMinute + 180 + (i % free)) % (24 * 60);
    return {
      name: jobName(i),
      cron: `${minuteOfDay % 60} ${Math.floor(minuteOfDay / 60)} * * *`,
      ...(i % 2 === 0 ? { shell: `echo job ${i}` } : { http: `${url}?job=${i}` }),
    };
  });
  const file = path.join(sb.dir, 'jobs.yaml');
  writeJobsFile(file, jobs);
  return tockOk(sb, ['apply', file]).ms;
}

/**
 * Adds a probe job whose first firing falls 400 ms after now, spawns the daemon at once,
 * and waits for the probe's request: the first instant the daemon fires anything.
 */
async function startUntilReady(sb: Sandbox, server: TargetServer, probe: string, profileDir?: string) {
  tockOk(sb, ['add', probe, '--every', '1h', '--start', iso(wallNow() + 400), '--http', server.url]);
  await server.dump();
  const daemon = startDaemon(sb, { profileDir, name: probe });
  const readyMs = (await firstArrival(server, 120_000, probe)) - daemon.spawnedAt;
  return { daemon, readyMs };
}

async function daemonFigures(sb: Sandbox, server: TargetServer, o: ScaleOptions, notes: string[]): Promise<Figure[]> {
  const { daemon, readyMs } = await startUntilReady(sb, server, 'ready-probe');
  const started = readLog(daemon.log).find((l) => l.event === 'started');
  await sleep(5_000);
  const mem0 = memoryMb(daemon.pid);
  // V8 shrinks the heap left by loading the jobs with a pair of full collections (its
  // "memory reducer"), once, 15 to 45 s after the start depending on the machine: a
  // one-time cost of the start, shown as a figure of its own, apart from the idle minute.
  const settleFrom = cpuSeconds(daemon.pid);
  const settle = await cpuSlices(daemon.pid, o.settleS);
  const settleCpuS = cpuSeconds(daemon.pid) - settleFrom;
  const idle = await cpuSlices(daemon.pid, o.idleS);
  const cpu = idle.reduce((a, b) => a + b, 0) / idle.length;
  const mem = memoryMb(daemon.pid);
  await daemon.stop();
  notes.push(
    `Scale daemon: \`started\` logged ${ms((started?.at ?? NaN) - daemon.spawnedAt, 0)} after the spawn (before the jobs are loaded); ` +
      `first firing (the probe) ${ms(readyMs, 0)} after it. RSS ${mem0.rss.toFixed(0)} MB 5 s after ready, ` +
      `${mem.rss.toFixed(0)} MB after the idle ${o.idleS} s; peak ${mem.hwm.toFixed(0)} MB.`,
    `  CPU per 10 s, % of a core: settling ${o.settleS} s after ready [${percents(settle)}]; then the idle ${o.idleS} s measured [${percents(idle)}]`,
  );
  // The profiler samples every millisecond, idle or not, so it gets a start-up of its own.
  if (o.profile) notes.push(await profileStartup(sb, server));
  const rss = Math.max(mem0.rss, mem.rss);
  const k = `${count(o.jobs)} jobs`;
  return [
    limitFigure(`daemon ready (spawn to first firing), ${k}`, readyMs, 3000, ms(readyMs, 0), '3 s', '<= 3 s', (v) => `${ms(v - 3000, 0)} over`),
    limitFigure(`daemon resident memory, ${k}`, rss, 300, `${rss.toFixed(0)} MB`, '300 MB', '< 300 MB', (v) => `${(v - 300).toFixed(0)} MB over`),
    {
      section: 'scale',
      name: `daemon CPU, the ${o.settleS} s after ready (one-time heap shrink), ${k}`,
      value: `${settleCpuS.toFixed(2)} s of a core`,
      baseline: '-',
      compare: `${((settleCpuS / o.settleS) * 100).toFixed(2)}% of a core`,
      target: '-',
    },
    limitFigure(
      `daemon CPU, idle ${o.idleS} s after those, ${k}`,
      cpu * 100,
      1,
      `${(cpu * 100).toFixed(2)}% of a core`,
      '1% of a core',
      '< 1%',
      (v) => `${(v - 1).toFixed(2)} points over`,
    ),
  ];
}

async function profileStartup(sb: Sandbox, server: TargetServer): Promise<string> {
  const profileDir = path.join(sb.dir, 'profile');
  const { daemon, readyMs: ready } = await startUntilReady(sb, server, 'ready-probe-profiled', profileDir);
  await sleep(1_000);
  await daemon.stop();
  const prof = newestProfile(profileDir);
  const head = `Daemon CPU profile, spawn to ready (${ms(ready, 0)} under the profiler) and one second more`;
  return prof ? `${head} (${prof}):\n${formatProfile(summarizeProfile(prof))}` : `${head}: no profile written`;
}

/** The share of a core used in each 10-second slice of the next `seconds`. */
async function cpuSlices(pid: number, seconds: number): Promise<number[]> {
  const out: number[] = [];
  for (let left = seconds; left > 0; left -= 10) {
    const span = Math.min(10, left);
    const c0 = cpuSeconds(pid);
    await sleep(span * 1000);
    out.push((cpuSeconds(pid) - c0) / span);
  }
  return out;
}

function percents(slices: number[]): string {
  return slices.map((s) => (s * 100).toFixed(1)).join(' ');
}

function limitFigure(name: string, v: number, limit: number, value: string, baseline: string, target: string, over: (v: number) => string): Figure {
  return { section: 'scale', name, value, baseline: `limit ${baseline}`, compare: ratio(v / limit), target, met: v < limit || (target.startsWith('<=') && v === limit), miss: v >= limit ? over(v) : undefined };
}

async function firstArrival(server: TargetServer, timeoutMs: number, job: string): Promise<number> {
  const until = Date.now() + timeoutMs;
  while (Date.now() < until) {
    const hit = (await server.dump()).find((a) => a.job === job);
    if (hit) return hit.at;
    await sleep(10);
  }
  throw new Error(`the ready probe did not fire within ${timeoutMs} ms`);
}

export function nodeBaseline(sb: Sandbox, runs: number): number {
  return median(Array.from({ length: runs }, () => timed(process.execPath, ['-e', '0'], sb).ms));
}

function cliMedian(sb: Sandbox, args: string[], runs: number): number {
  const times: number[] = [];
  for (let i = 0; i < runs; i++) {
    const r = tock(sb, args);
    if (r.status !== 0) throw new Error(`tock ${args.join(' ')} exited ${r.status}: ${r.stderr.slice(0, 300)}`);
    times.push(r.ms);
  }
  return median(times);
}

function cli(name: string, v: number, nodeMs: number): Figure {
  return { section: 'scale', name, value: ms(v, 0), baseline: `node -e 0 ${ms(nodeMs, 0)}`, compare: ratio(v / nodeMs), target: '-' };
}

function profileCli(sb: Sandbox, args: string[]): string {
  const dir = path.join(sb.dir, `profile-${args.join('-')}`);
  const r = timed(process.execPath, ['--cpu-prof', `--cpu-prof-dir=${dir}`, BIN, ...args], sb);
  const prof = newestProfile(dir);
  return prof ? `CPU profile of \`tock ${args.join(' ')}\` (${ms(r.ms, 0)} under the profiler):\n${formatProfile(summarizeProfile(prof))}` : '';
}
