// A burst of due work for the throughput figures: N jobs whose first firing is the same
// instant (`every: 1h` from a common start), so the daemon has N occurrences to claim,
// execute and record at once, and its sustained rate can be read from its own log.

import path from 'node:path';
import type { Arrival } from './server.js';
import { sustainedRate } from './stats.js';
import { iso, readLog, sleep, startDaemon, tockOk, wallNow, writeJobsFile, type DaemonProc, type Sandbox } from './tock.js';
import { Connection as Store } from '../../src/store/sqlite/connection.js';

export interface BurstJobs {
  n: number;
  kind: 'http' | 'shell';
  url?: string;
  /** Lead time between applying the file and the common first firing. */
  leadMs: number;
  /** The common first firing, instead of one leadMs from now (several stores, one instant). */
  at?: number;
  /** First job number: jobs split over several stores keep distinct names. */
  from?: number;
}

export function burstJobName(i: number): string {
  return `b${String(i).padStart(6, '0')}`;
}

/** Applies the burst's jobs and returns the instant they all come due. */
export function applyBurst(sb: Sandbox, o: BurstJobs): number {
  const at = o.at ?? Math.ceil((wallNow() + o.leadMs) / 1000) * 1000;
  const jobs = Array.from({ length: o.n }, (_, i) => ({
    name: burstJobName((o.from ?? 0) + i),
    every: '1h',
    start: iso(at),
    ...(o.kind === 'http' ? { http: o.url } : { shell: 'true' }),
  }));
  const file = path.join(sb.dir, 'burst.yaml');
  writeJobsFile(file, jobs);
  tockOk(sb, ['apply', file]);
  return at;
}

export interface BurstResult {
  /** Middle 80 % of completions over their time span. */
  sustained: number;
  /** All N over the time from the due instant to the last recorded result. */
  overall: number;
  recorded: number;
  succeeded: number;
  /** Target executions beyond one per idempotency key (HTTP only). */
  duplicates: number;
  seconds: number;
  /**
   * How long after the due instant the last daemon logged `started` (0 if all were up in
   * time). A daemon up after it finds the burst missed while no daemon ran: a catch-up
   * burst, which the first daemon to load takes whole, and which is not what is measured.
   */
  lateMs: number;
}

/**
 * Starts `daemons` daemons on the store before the due instant, waits until every
 * occurrence is finished (or `timeoutMs` passes), and reads the rate off their logs. Given
 * several stores (sandboxes), daemon i runs on store i modulo their number, and `n` counts
 * the occurrences of all of them.
 */
export async function runBurst(
  sb: Sandbox | Sandbox[],
  o: { n: number; at: number; daemons: number; concurrency: number; timeoutMs: number; profileDir?: string },
): Promise<{ result: BurstResult; procs: DaemonProc[] }> {
  const stores = Array.isArray(sb) ? sb : [sb];
  const procs = Array.from({ length: o.daemons }, (_, i) =>
    startDaemon(stores[i % stores.length], { concurrency: o.concurrency, name: `daemon-${i}`, profileDir: o.profileDir }),
  );
  // Occurrences by state, summed over the stores.
  const total = (of: (c: Record<string, number>) => number) => stores.reduce((sum, s) => sum + of(countsByState(s.db)), 0);
  const succeededOf = (c: Record<string, number>) => c.succeeded ?? 0;
  const before = total(finishedOf);
  const succeededBefore = total(succeededOf);
  await sleep(o.at - wallNow());
  const until = wallNow() + o.timeoutMs;
  while (wallNow() < until) {
    if (total(finishedOf) >= before + o.n) break;
    await sleep(250);
  }
  // Read once the burst is over, when every live daemon has logged it.
  const startedAt = (p: DaemonProc) => readLog(p.log).find((l) => l.event === 'started')?.at ?? wallNow();
  const lateMs = Math.max(0, ...procs.map((p) => startedAt(p) - o.at));
  await Promise.all(procs.map((p) => p.stop()));
  const done = procs.flatMap((p) => readLog(p.log).filter((l) => l.event === 'succeeded' || l.event === 'failed'));
  const times = done.map((l) => l.at);
  const last = Math.max(...times);
  const succeeded = total(succeededOf) - succeededBefore;
  return {
    procs,
    result: {
      sustained: sustainedRate(times),
      overall: done.length / ((last - o.at) / 1000),
      recorded: done.length,
      succeeded,
      duplicates: 0,
      seconds: (last - o.at) / 1000,
      lateMs,
    },
  };
}

/** Executions beyond the first per idempotency key, as the target saw them. */
export function duplicates(arrivals: Arrival[]): number {
  const keys = new Set<string>();
  let extra = 0;
  for (const a of arrivals) {
    if (a.key === null) continue;
    if (keys.has(a.key)) extra++;
    keys.add(a.key);
  }
  return extra;
}

function finishedOf(c: Record<string, number>): number {
  return (c.succeeded ?? 0) + (c.failed ?? 0) + (c.skipped ?? 0) + (c.abandoned ?? 0);
}

function countsByState(db: string): Record<string, number> {
  const store = Store.open(db);
  try {
    return store.read(() => store.occurrences.countsByState());
  } finally {
    store.close();
  }
}
