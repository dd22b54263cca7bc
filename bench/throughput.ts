// Throughput: occurrences claimed, executed and recorded per second, sustained, for no-op
// HTTP targets and for `true` shell targets, at each of several --concurrency values; the
// best is held against the slowest of the raw rates that bound it, measured in the same
// run at the same concurrency: fetch (HTTP) or spawn (shell), and the store.

import path from 'node:path';
import { fetchRate, nodeHttpRate, spawnRate, storeRate } from './baselines.js';
import { applyBurst, burstJobName, duplicates, runBurst, type BurstResult } from './lib/burst.js';
import { seedHistory } from './lib/seed.js';
import type { Figure, SectionResult } from './lib/figures.js';
import { formatProfile, newestProfile, summarizeProfile } from './lib/profile.js';
import { startTargetServer, type TargetServer } from './lib/server.js';
import { count, perSecond, ratio } from './lib/stats.js';
import { sandbox, tockOk } from './lib/tock.js';

export interface ThroughputOptions {
  concurrencies: number[];
  /** Jobs (and rows of finished history per job) for the burst on a store with history. */
  historyJobs: number;
  historyPerJob: number;
  httpJobs: number;
  shellJobs: number;
  baselineMs: number;
  profile: boolean;
}

interface Trial {
  concurrency: number;
  burst: BurstResult;
  raw: number;
  /** HTTP only: node:http, the client tock uses. */
  nodeHttp?: number;
  store: number;
}

export async function throughput(o: ThroughputOptions): Promise<SectionResult & { bestHttpConcurrency: number }> {
  const server = await startTargetServer();
  const notes: string[] = [];
  const figures: Figure[] = [];
  try {
    let bestHttp = o.concurrencies[0];
    for (const kind of ['http', 'shell'] as const) {
      const trials: Trial[] = [];
      for (const c of o.concurrencies) trials.push(await trial(kind, c, o, server, notes));
      const best = trials.reduce((a, b) => (b.burst.sustained > a.burst.sustained ? b : a));
      if (kind === 'http') bestHttp = best.concurrency;
      figures.push(figure(kind, best));
      if (kind === 'http') figures.push(againstNodeHttp(best), await withHistory(best, o, server, notes));
      if (o.profile) notes.push(await profiled(kind, best.concurrency, o, server));
    }
    return { figures, notes, bestHttpConcurrency: bestHttp };
  } finally {
    await server.stop();
  }
}

async function trial(kind: 'http' | 'shell', c: number, o: ThroughputOptions, server: TargetServer, notes: string[]): Promise<Trial> {
  const n = kind === 'http' ? o.httpJobs : o.shellJobs;
  const sb = sandbox(`throughput-${kind}-c${c}`);
  const at = applyBurst(sb, { n, kind, url: server.url, leadMs: 3_000 });
  await server.dump();
  const { result } = await runBurst(sb, { n, at, daemons: 1, concurrency: c, timeoutMs: 180_000 });
  if (kind === 'http') result.duplicates = duplicates(await server.dump());
  // The baselines right after the daemon's run, so a change in the machine's load touches both.
  const raw = kind === 'http' ? await fetchRate(server.url, c, o.baselineMs) : await spawnRate(c, o.baselineMs);
  const nodeHttp = kind === 'http' ? await nodeHttpRate(server.url, c, o.baselineMs) : undefined;
  const store = storeRate(sb.dir, o.baselineMs);
  notes.push(
    `Throughput ${kind}, concurrency ${c}: ${count(n)} due at once; sustained ${perSecond(result.sustained)}, ` +
      `all ${count(result.recorded)} in ${result.seconds.toFixed(1)} s (${perSecond(result.overall)}); ` +
      `${count(result.succeeded)} succeeded; raw ${kind === 'http' ? 'fetch' : 'spawn'} ${perSecond(raw)}, ` +
      (nodeHttp !== undefined ? `raw node:http ${perSecond(nodeHttp)}, ` : '') +
      `raw store ${perSecond(store)}` +
      (kind === 'http' ? `; ${result.duplicates} duplicate(s)` : ''),
  );
  return { concurrency: c, burst: result, raw, nodeHttp, store };
}

function figure(kind: 'http' | 'shell', t: Trial): Figure {
  const bound = Math.min(t.raw, t.store);
  const which = t.raw <= t.store ? (kind === 'http' ? 'fetch' : 'spawn') : 'store';
  const r = t.burst.sustained / bound;
  return {
    section: 'throughput',
    name: `throughput, ${kind === 'http' ? 'no-op HTTP' : '`true` shell'} (best: concurrency ${t.concurrency})`,
    value: perSecond(t.burst.sustained),
    baseline: `${which} ${perSecond(bound)} (fetch/spawn ${perSecond(t.raw)}, store ${perSecond(t.store)})`,
    compare: ratio(r),
    target: '>= 0.80x',
    met: r >= 0.8,
    miss: r < 0.8 ? `${ratio(r)} of the bound; ${perSecond(0.8 * bound - t.burst.sustained)} short` : undefined,
  };
}

/**
 * The issue's bound for HTTP is fetch; tock sends its requests with node:http, which is
 * faster than fetch on this machine, so its own raw rate is the stricter limit: shown
 * beside, without a target of its own.
 */
function againstNodeHttp(t: Trial): Figure {
  const bound = Math.min(t.nodeHttp!, t.store);
  return {
    section: 'throughput',
    name: `throughput, no-op HTTP, against node:http (tock's own client)`,
    value: perSecond(t.burst.sustained),
    baseline: `${t.nodeHttp! <= t.store ? 'node:http' : 'store'} ${perSecond(bound)} (node:http ${perSecond(t.nodeHttp!)}, store ${perSecond(t.store)})`,
    compare: ratio(t.burst.sustained / bound),
    target: '-',
  };
}

/**
 * The same HTTP burst on a store where every job already has history (as it will at the
 * retention limit, 1,000 per job by default): claims look up a job's active occurrences,
 * and a query that walks the job's history instead shows here, not on a fresh store.
 */
async function withHistory(fresh: Trial, o: ThroughputOptions, server: TargetServer, notes: string[]): Promise<Figure> {
  const sb = sandbox(`throughput-history-c${fresh.concurrency}`);
  tockOk(sb, ['list']); // creates the store, with this tock's migrations
  const names = Array.from({ length: o.historyJobs }, (_, i) => burstJobName(i));
  const rows = seedHistory(sb.db, names, o.historyPerJob, Date.now() - 86_400_000);
  const at = applyBurst(sb, { n: o.historyJobs, kind: 'http', url: server.url, leadMs: 3_000 });
  await server.dump();
  const { result } = await runBurst(sb, { n: o.historyJobs, at, daemons: 1, concurrency: fresh.concurrency, timeoutMs: 180_000 });
  result.duplicates = duplicates(await server.dump());
  notes.push(
    `Throughput http with history: ${count(o.historyJobs)} jobs due at once, each with ${count(o.historyPerJob)} finished occurrences ` +
      `(${count(rows)} rows); concurrency ${fresh.concurrency}: sustained ${perSecond(result.sustained)}, ${count(result.succeeded)} succeeded ` +
      `in ${result.seconds.toFixed(1)} s; ${result.duplicates} duplicate(s)`,
  );
  const r = result.sustained / fresh.burst.sustained;
  return {
    section: 'throughput',
    name: `throughput, no-op HTTP, ${count(o.historyPerJob)} history rows per job (concurrency ${fresh.concurrency})`,
    value: perSecond(result.sustained),
    baseline: `fresh store ${perSecond(fresh.burst.sustained)}`,
    compare: ratio(r),
    target: '-',
  };
}

/** Runs the best trial again with the daemon under --cpu-prof and summarises where its time went. */
async function profiled(kind: 'http' | 'shell', c: number, o: ThroughputOptions, server: TargetServer): Promise<string> {
  const n = kind === 'http' ? o.httpJobs : o.shellJobs;
  const sb = sandbox(`profile-${kind}-c${c}`);
  const at = applyBurst(sb, { n, kind, url: server.url, leadMs: 3_000 });
  const profileDir = path.join(sb.dir, 'profile');
  const { result } = await runBurst(sb, { n, at, daemons: 1, concurrency: c, timeoutMs: 180_000, profileDir });
  await server.dump();
  const file = newestProfile(profileDir);
  const head = `Daemon CPU profile, ${kind} burst at concurrency ${c} (${perSecond(result.sustained)} under the profiler)`;
  return file ? `${head}, ${file}:\n${formatProfile(summarizeProfile(file))}` : `${head}: no profile written`;
}
